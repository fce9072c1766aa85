"""Resident pages of grants: apply to a programme and appeal a decision, both behind step-up."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.web.access import resident_required, step_up_required
from services.grants.actions import application_appeal, application_apply
from services.grants.errors import GrantsError
from services.grants.selectors import application_get_for_resident, programme_get_open


class GrantApplyForm(forms.Form):
    payout_account = forms.RegexField(
        label=gettext_lazy("payout bank account"),
        regex=r"^[0-9]{12,19}$",
        error_messages={"invalid": gettext_lazy("Enter the 12 to 19 digits of the bank account.")},
    )
    declared_income = forms.DecimalField(
        label=gettext_lazy("declared monthly income"), min_value=0, max_digits=12, decimal_places=2, required=False
    )
    dependants = forms.IntegerField(label=gettext_lazy("dependants"), min_value=0, max_value=20, initial=0)


class GrantAppealForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why should it be looked at again?"), widget=forms.Textarea, max_length=2000
    )


@require_http_methods(["GET", "POST"])
@resident_required
@step_up_required
def grant_apply(request, code):
    """Apply to an open programme; the eligibility check runs right after."""
    programme = programme_get_open(code=code)
    if programme is None:
        raise Http404("no such open programme")
    form = GrantApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application_apply(
                programme=programme,
                resident=request.resident,
                language=get_language(),
                proxy=request.proxy_grant.proxy if request.proxy_grant is not None else None,
                **form.cleaned_data,
            )
        except GrantsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Your application is submitted. We check eligibility now and email you each step.")
            )
            return redirect("portal:grants")
    return render(request, "portal/me/grant_apply.html", {"programme": programme, "form": form})


@require_http_methods(["GET", "POST"])
@resident_required
@step_up_required
def grant_appeal(request, application_id):
    """Appeal a rejected or ineligible application; a different caseworker reviews it."""
    application = application_get_for_resident(resident=request.resident, application_id=application_id)
    if application is None:
        raise Http404("no such application")
    form = GrantAppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application_appeal(application=application, reason=form.cleaned_data["reason"])
        except GrantsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your appeal is sent. A different caseworker will look at it."))
            return redirect("portal:grants")
    return render(request, "portal/me/grant_appeal.html", {"application": application, "form": form})
