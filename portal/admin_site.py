"""The staff admin site: django-otp's OTPAdminSite plus enrolment, a session purpose, worklists and a dashboard.

No admin page opens without a verified TOTP device. A staff member without a
confirmed device who gives the right password is not logged in: the session
only remembers who is enrolling, for a few minutes, and the enrolment page is
the one page that opens; a confirmed code logs them in with the new device.

The ledger's AccessContextMiddleware opens the access context of every admin
request (staff pseudonym, role, channel "admin", the session's purpose).
"""

import base64
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from cards.admin_base import PURPOSE_URL_NAME, SESSION_PURPOSE_KEY, ResidentSafeAutocompleteJsonView
from cards.images import qr_svg
from ledger.api import purpose_check
from portal import charts, dashboard, worklists
from portal.actions import EnrolmentRefused, staff_totp_enrolment_confirm, staff_totp_enrolment_start
from portal.models import TOTPDevice
from portal.roles import user_may_see_dashboard, user_purposes

SESSION_ENROLMENT_KEY = "onecard_enrolment"
ENROLMENT_SECONDS = 10 * 60


class StaffLoginForm(OTPAdminAuthenticationForm):
    """The OTP admin login form, which lets a password through to enrolment when no device is confirmed yet."""

    needs_enrolment = False

    def clean(self):
        # AdminAuthenticationForm.clean checks the password and is_staff; the OTP step follows.
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is not None and not user_has_device(user, confirmed=True):
            self.needs_enrolment = True
            return self.cleaned_data
        self.clean_otp(user)
        return self.cleaned_data

    def _chosen_device(self, user):
        # The login contract is username, password and otp_token: with no device chosen, use the
        # user's only TOTP device. django-otp refuses to guess among several (each try would count
        # as a failure on the others), so neither does this.
        device = super()._chosen_device(user)
        if device is None:
            devices = list(TOTPDevice.objects.filter(user=user, confirmed=True)[:2])
            device = devices[0] if len(devices) == 1 else None
        return device


class StaffLoginView(LoginView):
    def form_valid(self, form):
        if not form.needs_enrolment:
            return super().form_valid(form)
        user = form.get_user()
        # Not a login: the session only names the person enrolling, until the code is confirmed.
        self.request.session.cycle_key()
        self.request.session[SESSION_ENROLMENT_KEY] = {
            "user": user.pk,
            "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
            "until": time.time() + ENROLMENT_SECONDS,
        }
        return HttpResponseRedirect(reverse(f"{self.request.current_app}:onecard_enrol"))


class EnrolmentForm(forms.Form):
    otp_token = forms.CharField(label=_("Code from your authenticator app"), max_length=10)


class PurposeForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose of this working session"))

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = choices


class OneCardAdminSite(OTPAdminSite):
    login_form = StaffLoginForm
    index_template = "admin/onecard/index.html"

    def stated_purpose(self, request) -> str | None:
        """Return the purpose stated for this session if the user's roles still allow it."""
        purpose = request.session.get(SESSION_PURPOSE_KEY)
        if not purpose or not request.user.is_authenticated:
            return None
        return purpose if purpose in user_purposes(request.user) else None

    def each_context(self, request):
        context = super().each_context(request)
        purpose = self.stated_purpose(request) if hasattr(request, "session") else None
        context["onecard_purpose"] = purpose
        context["onecard_purpose_url"] = reverse(f"{self.name}:{PURPOSE_URL_NAME}", current_app=self.name)
        context["onecard_show_dashboard"] = request.user.is_authenticated and user_may_see_dashboard(request.user)
        return context

    def get_urls(self):
        urls = [
            path("enrol/", self.enrol_view, name="onecard_enrol"),
            path("purpose/", self.admin_view(self.purpose_view), name=PURPOSE_URL_NAME),
            path("worklists/", self.admin_view(self.worklists_view), name="onecard_worklists"),
            path("dashboard/", self.admin_view(self.dashboard_view), name="onecard_dashboard"),
            path("dashboard/<slug:code>.csv", self.admin_view(self.dashboard_csv_view), name="onecard_dashboard_csv"),
        ]
        return urls + super().get_urls()

    def autocomplete_view(self, request):
        return ResidentSafeAutocompleteJsonView.as_view(admin_site=self)(request)

    def login(self, request, extra_context=None):
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return StaffLoginView.as_view(
            extra_context=context, authentication_form=self.login_form, template_name=self.login_template
        )(request)

    def _enrolling_user(self, request):
        pending = request.session.get(SESSION_ENROLMENT_KEY)
        if not pending or pending.get("until", 0) < time.time():
            return None, None
        user = get_user_model().objects.filter(pk=pending["user"], is_active=True, is_staff=True).first()
        return user, pending.get("backend")

    def enrol_view(self, request):
        """Show a new staff member the QR code of their TOTP device and confirm it with a code."""
        user, backend = self._enrolling_user(request)
        if user is None:
            messages.info(request, _("Log in with your password to enrol an authenticator."))
            return redirect(f"{self.name}:login")
        try:
            device = staff_totp_enrolment_start(user=user)
        except EnrolmentRefused:
            request.session.pop(SESSION_ENROLMENT_KEY, None)
            return redirect(f"{self.name}:login")
        form = EnrolmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if staff_totp_enrolment_confirm(device=device, token=form.cleaned_data["otp_token"]):
                request.session.pop(SESSION_ENROLMENT_KEY, None)
                auth_login(request, user, backend=backend)
                device.refresh_from_db()
                otp_login(request, device)
                messages.success(request, _("Your authenticator is enrolled. State the purpose of your work."))
                return redirect(f"{self.name}:{PURPOSE_URL_NAME}")
            form.add_error("otp_token", _("That code is not right. Check the clock of your phone and try again."))
        context = {
            **self.each_context(request),
            "title": _("Enrol your authenticator"),
            "form": form,
            "qr_svg": mark_safe(qr_svg(device.config_url)),
            "secret": device.bin_key and _base32(device.bin_key),
            "enrolling_username": user.get_username(),
        }
        return TemplateResponse(request, "admin/onecard/enrol.html", context)

    def purpose_view(self, request):
        """Let the caseworker state (or change) the purpose of this working session."""
        choices = [(code, _purpose_label(code)) for code in user_purposes(request.user)]
        form = PurposeForm(request.POST or None, choices=choices, initial={"purpose": self.stated_purpose(request)})
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        if request.method == "POST" and form.is_valid():
            request.session[SESSION_PURPOSE_KEY] = form.cleaned_data["purpose"]
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
                next_url = reverse(f"{self.name}:index", current_app=self.name)
            return HttpResponseRedirect(next_url)
        context = {
            **self.each_context(request),
            "title": _("Purpose of your work"),
            "form": form,
            "next": next_url,
            "no_choices": not choices,
        }
        return TemplateResponse(request, "admin/onecard/purpose.html", context)

    def worklists_view(self, request):
        """List the worklists this caseworker's permissions open, with how many items wait in each."""
        context = {
            **self.each_context(request),
            "title": _("Worklists"),
            "worklists": worklists.worklists_for(request.user),
        }
        return TemplateResponse(request, "admin/onecard/worklists.html", context)

    def dashboard_view(self, request):
        """Show the aggregate charts, every count under the small-cell threshold suppressed."""
        if not user_may_see_dashboard(request.user):
            raise Http404
        context = {
            **self.each_context(request),
            "title": _("Dashboard"),
            "charts": dashboard.charts_render(),
            "threshold": charts.SMALL_CELL_THRESHOLD,
            "ledger_health": dashboard.ledger_health(),
        }
        return TemplateResponse(request, "admin/onecard/dashboard.html", context)

    def dashboard_csv_view(self, request, code):
        """Return one chart's data as CSV, with the same suppression as the chart."""
        if not user_may_see_dashboard(request.user):
            raise Http404
        chart = dashboard.chart_data(code)
        if chart is None:
            raise Http404
        response = HttpResponse(charts.csv_text(chart), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="onecard-{code}.csv"'
        return response


def _base32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


def _purpose_label(code: str) -> str:
    return f"{code}: {purpose_check(code).description}"
