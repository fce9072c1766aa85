"""Caseworkers' admin for grants: programmes, cycles, the application worklist, disbursements, reconciliation.

Writes go through services.grants.actions, which enforce the sign-off rules by
user and permission; pages showing residents record them to the ledger.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cards.admin_base import ResidentDataAdmin, purpose_redirect
from services.grants import actions
from services.grants.errors import GrantsError
from services.grants.models import Application, Cycle, Disbursement, Programme, SignOff
from services.grants.selectors import (
    application_queryset,
    programme_burn_down,
    reconciliation_csv,
    reconciliation_summary,
)


def burn_down_svg(programme: Programme) -> str:
    """Return a server-rendered bar of the budget: paid, scheduled, committed, left."""
    burn = programme_burn_down(programme=programme)
    width = 400
    cap = burn.cap or 1

    def w(amount):
        return int(width * min(amount, cap) / cap)

    return format_html(
        '<svg role="img" aria-label="{label}" width="{width}" height="24" xmlns="http://www.w3.org/2000/svg">'
        '<rect width="{width}" height="24" fill="#eee"/>'
        '<rect width="{committed}" height="24" fill="#f0ad4e"/>'
        '<rect width="{scheduled}" height="24" fill="#5bc0de"/>'
        '<rect width="{paid}" height="24" fill="#5cb85c"/></svg>'
        "<table><tr><th>{t_cap}</th><td>{cap}</td></tr><tr><th>{t_committed}</th><td>{committed_amount}</td></tr>"
        "<tr><th>{t_scheduled}</th><td>{scheduled_amount}</td></tr><tr><th>{t_paid}</th><td>{paid_amount}</td></tr>"
        "<tr><th>{t_left}</th><td>{left}</td></tr></table>",
        label=_("Budget burn-down"),
        width=width,
        committed=w(burn.committed),
        scheduled=w(burn.scheduled),
        paid=w(burn.paid),
        t_cap=_("budget cap"),
        cap=burn.cap,
        t_committed=_("committed by approvals"),
        committed_amount=burn.committed,
        t_scheduled=_("scheduled for payment"),
        scheduled_amount=burn.scheduled,
        t_paid=_("paid"),
        paid_amount=burn.paid,
        t_left=_("left"),
        left=burn.left,
    )


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh_hans", "opens_on", "closes_on", "budget_cap", "budget_committed"]
    search_fields = ["code", "name_en", "name_zh_hans"]
    readonly_fields = ["budget_committed", "burn_down"]
    fieldsets = [
        (None, {"fields": ["code", "name_en", "name_zh_hans", "opens_on", "closes_on", "paying_agency"]}),
        (
            _("Eligibility rules"),
            {
                "fields": [
                    "age_min",
                    "age_max",
                    "province_code",
                    "require_insured_medical",
                    "contribution_months_min",
                    "income_ceiling",
                ]
            },
        ),
        (
            _("Amount and sign-offs"),
            {"fields": ["formula", "amount_base", "amount_per_dependant", "two_approvers_above"]},
        ),
        (_("Budget"), {"fields": ["budget_cap", "budget_committed", "burn_down"]}),
    ]

    @admin.display(description=_("burn-down"))
    def burn_down(self, obj) -> str:
        return burn_down_svg(obj) if obj and obj.pk else "—"

    def save_model(self, request, obj, form, change) -> None:
        actions.programme_save(programme=obj, user=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CycleForm(forms.ModelForm):
    class Meta:
        model = Cycle
        fields = ["programme", "pays_on"]


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    """Payment cycles: one caseworker opens a cycle, another signs it off, a third (not the signer) runs it."""

    form = CycleForm
    list_display = [
        "__str__",
        "pays_on",
        "created_by",
        "approved_by",
        "batch_started_at",
        "batch_finished_at",
        "reconciliation_link",
    ]
    list_filter = ["programme"]
    actions = ["approve_cycles", "run_batch"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["programme", "pays_on"]
        return ["programme", "number", "pays_on", "created_by", "approved_by", "approved_at", "batch_started_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        created = actions.cycle_create(programme=obj.programme, pays_on=obj.pays_on, user=request.user)
        obj.pk, obj.number = created.pk, created.number

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_run_disbursement_permission(self, request) -> bool:
        return request.user.has_perm(actions.DISBURSE_PERMISSION)

    def has_approve_cycle_permission(self, request) -> bool:
        return request.user.has_perm(actions.CYCLE_APPROVE_PERMISSION)

    @admin.action(description=_("Sign off the selected cycles for payment"), permissions=["approve_cycle"])
    def approve_cycles(self, request, queryset) -> None:
        for cycle in queryset:
            try:
                actions.cycle_approve(cycle=cycle, user=request.user)
            except GrantsError as error:
                messages.error(request, f"{cycle}: {error}")
            else:
                messages.success(request, _("%(cycle)s is signed off.") % {"cycle": cycle})

    @admin.action(description=_("Run the disbursement batch of the selected cycles"), permissions=["run_disbursement"])
    def run_batch(self, request, queryset) -> None:
        for cycle in queryset:
            try:
                actions.cycle_batch_queue(cycle=cycle, user=request.user)
            except GrantsError as error:
                messages.error(request, f"{cycle}: {error}")
            else:
                messages.success(
                    request,
                    _("The batch of %(cycle)s is queued; running it again pays nobody twice.") % {"cycle": cycle},
                )

    @admin.display(description=_("reconciliation"))
    def reconciliation_link(self, obj) -> str:
        url = reverse("admin:grants_cycle_reconciliation", args=[obj.pk])
        return format_html('<a href="{}">{}</a> · <a href="{}?format=csv">CSV</a>', url, _("report"), url)

    def get_urls(self):
        return [
            path(
                "<int:cycle_id>/reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="grants_cycle_reconciliation",
            ),
            *super().get_urls(),
        ]

    def reconciliation_view(self, request, cycle_id: int):
        """Show what the cycle scheduled, and what the bank confirmed paid, failed or not yet; or its CSV."""
        if not request.user.has_perm(actions.DISBURSE_PERMISSION):
            raise PermissionDenied
        cycle = get_object_or_404(Cycle.objects.select_related("programme"), pk=cycle_id)
        if request.GET.get("format") == "csv":
            redirect = purpose_redirect(request, self.admin_site)
            if redirect is not None:
                return redirect
            body = reconciliation_csv(cycle=cycle)
            response = HttpResponse(body, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="reconciliation-{cycle.programme.code}-{cycle.number}.csv"'
            )
            return response
        summary = reconciliation_summary(cycle=cycle)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reconciliation of %(cycle)s") % {"cycle": cycle},
            "cycle": cycle,
            "rows": [
                (_("scheduled"), *summary.scheduled),
                (_("paid"), *summary.paid),
                (_("failed"), *summary.failed),
                (_("unconfirmed"), *summary.unconfirmed),
            ],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/grants/reconciliation.html", context)


# What each flag of the automatic check tells the reviewer (services/grants/actions/assessment.py).
FLAG_LABELS = {
    "phone_shared": _("phone number shared with another resident"),
    "payout_account_shared": _("payout account shared with another resident"),
    "payout_account_set_by_proxy": _("payout account chosen by a family proxy, not used by the resident before"),
}


class FlaggedFilter(admin.SimpleListFilter):
    title = _("flags")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("flagged for the reviewer")), ("no", _("not flagged"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(flags=[])
        if self.value() == "no":
            return queryset.filter(flags=[])
        return queryset


class WaitingForFilter(admin.SimpleListFilter):
    title = _("waiting for")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("reviewer", _("a reviewer")), ("approver", _("an approver")), ("mine", _("me as reviewer"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "reviewer":
            return queryset.filter(status=Application.Status.ELIGIBLE) | queryset.filter(
                status=Application.Status.UNDER_REVIEW, reviewer__isnull=True
            )
        if value == "approver":
            return queryset.filter(status=Application.Status.UNDER_REVIEW, reviewed_at__isnull=False)
        if value == "mine":
            return queryset.filter(
                status=Application.Status.UNDER_REVIEW, reviewer=request.user, reviewed_at__isnull=True
            )
        return queryset


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[
            ("take", _("take for review")),
            ("recommend", _("recommend for approval (reviewer)")),
            ("approve", _("approve (approver)")),
            ("reject", _("reject")),
        ],
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea, required=False, max_length=2000)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") != "take" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for this decision."))
        return cleaned


class SignOffInline(admin.TabularInline):
    model = SignOff
    fields = ["round", "step", "user", "reason", "signed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(ResidentDataAdmin):
    """The worklist: filter by status, programme, flags and who it waits for; decide each with a reason."""

    ledger_prefix = "grants.applications"
    # Decisions go through the decide page, never the change form.
    read_only = True
    list_display = ["id", "resident", "programme", "status", "amount", "round", "flag_list", "reviewer", "decide_link"]
    list_filter = [WaitingForFilter, "status", "programme", FlaggedFilter, "round"]
    list_select_related = ["resident", "programme", "reviewer"]
    search_fields = ["=id"]
    inlines = [SignOffInline]
    readonly_fields = [
        "programme",
        "resident",
        "status",
        "declared_income",
        "dependants",
        "payout_account",
        "amount",
        "eligibility_table",
        "flag_list",
        "round",
        "reviewer",
        "reviewed_at",
        "decision_reason",
        "appeal_reason",
        "proxy_note",
        "submitted_at",
        "decided_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return application_queryset()

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or any(
            request.user.has_perm(p) for p in (actions.REVIEW_PERMISSION, actions.APPROVE_PERMISSION)
        )

    @admin.display(description=_("flags"))
    def flag_list(self, obj) -> str:
        return ", ".join(str(FLAG_LABELS.get(flag, flag)) for flag in obj.flags) or "—"

    @admin.display(description=_("submitted by a family proxy"))
    def proxy_note(self, obj) -> str:
        if obj.submitted_by_proxy_id is None:
            return "—"
        return _("Yes: a family member applied on the resident's behalf (see Family proxies).")

    @admin.display(description=_("eligibility check"))
    def eligibility_table(self, obj) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((c["rule"], "✔" if c["passed"] else "✘", c["reason"]) for c in obj.eligibility),
        )
        return format_html("<table>{}</table>", rows) if rows else "—"

    @admin.display(description=_("decide"))
    def decide_link(self, obj) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:grants_application_decide", args=[obj.pk]), _("decide")
        )

    def get_urls(self):
        return [
            path(
                "<int:application_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="grants_application_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, application_id: int):
        """Take, recommend, approve or reject one application, with a reason; the action checks who may."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        redirect = purpose_redirect(request, self.admin_site)
        if redirect is not None:
            return redirect
        application = self.get_object(request, str(application_id))
        if application is None:
            raise PermissionDenied
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
            try:
                if decision == "take":
                    actions.application_review_start(application=application, user=request.user)
                elif decision == "recommend":
                    actions.application_recommend(application=application, user=request.user, reason=reason)
                elif decision == "approve":
                    actions.application_approve(application=application, user=request.user, reason=reason)
                else:
                    actions.application_reject(application=application, user=request.user, reason=reason)
            except GrantsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Decision recorded."))
                return HttpResponseRedirect(reverse("admin:grants_application_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Decide %(application)s") % {"application": application},
            "application": application,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/grants/decide.html", context)


@admin.register(Disbursement)
class DisbursementAdmin(ResidentDataAdmin):
    ledger_prefix = "grants.disbursements"
    read_only = True
    list_display = ["reference", "application", "cycle", "amount", "status", "scheduled_at", "confirmed_at"]
    list_filter = ["status", "cycle__programme", "cycle"]
    list_select_related = ["application__resident", "cycle__programme"]

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm(actions.DISBURSE_PERMISSION)

    def resident_of(self, obj):
        return obj.application.resident
