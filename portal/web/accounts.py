"""Account pages: activation, sign-in with a one-time password, enrolment, step-up and backup codes."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from cards.images import qr_svg
from cards.selectors import resident_get_by_national_id
from portal import actions
from portal.errors import AccountAlreadyActive, ActivationRefused, OneTimePasswordInvalid
from portal.models import TOTPDevice
from portal.web.access import (
    acting_for,
    has_confirmed_device,
    own_account_only,
    proxy_context,
    resident_context,
    resident_of,
    resident_required,
    step_up_mark,
    step_up_required,
    system_context,
)
from portal.web.enrolment import enrolment_proof, enrolment_proof_mark, enrolment_proof_spend
from portal.web.forms import ActivationForm, LoginForm, OneTimePasswordForm
from portal.web.throttles import activation_attempt_allowed

ENROL_SESSION_KEY = "onecard_enrolling_device"


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "portal/accounts/login.html"
    authentication_form = LoginForm
    next_page = reverse_lazy("portal:dashboard")


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")

    def post(self, request, *args, **kwargs):
        # Signing out while acting for someone ends that too: record the stop, as the Stop button does.
        resident = resident_of(request.user) if request.user.is_authenticated else None
        grant = acting_for(request, resident) if resident is not None else None
        if grant is not None:
            with proxy_context(grant):
                actions.proxy_session_stop(grant=grant)
        return super().post(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
def activate(request):
    """Activate a new card with its code and create the resident's account."""
    form = ActivationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # One answer for an unknown ID, a holder who already has an account, and a wrong,
        # expired or used-up code: only the right code tells anything about the person.
        refused = _("The national ID or the activation code is wrong, expired, or was tried too often.")
        if not activation_attempt_allowed(request, national_id=data["national_id"]):
            form.add_error(None, _("Too many activation attempts. Wait an hour, then try again."))
            status = 429
        else:
            with system_context("portal.activation"):
                resident = resident_get_by_national_id(national_id=data["national_id"])
            try:
                if resident is None:
                    make_password(data["password1"])  # the same work as for a registered ID
                    raise ActivationRefused("no resident has this national ID")
                with resident_context(resident):
                    user = actions.resident_account_activate(
                        resident=resident, code=data["code"], username=data["username"], password=data["password1"]
                    )
            except AccountAlreadyActive:
                form.add_error(
                    None,
                    _(
                        "The code is right, and you already have an account. Sign in, then activate "
                        "your new card on the My card page."
                    ),
                )
            except ActivationRefused:
                form.add_error(None, refused)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                enrolment_proof_mark(request, by="activation-code")
                messages.success(request, _("Your card is active. Now protect your account with a one-time password."))
                return redirect("portal:otp-enrol")
    return render(request, "portal/accounts/activate.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@resident_required(otp=False, proxy=False)
def otp_enrol(request):
    """Enrol an authenticator app: show its QR code, confirm with a code, then show backup codes once."""
    if has_confirmed_device(request.user) and request.method == "GET" and not request.GET.get("again"):
        return render(request, "portal/accounts/otp_enrolled.html")
    if has_confirmed_device(request.user):
        if not request.user.is_verified():
            # Replacing a device needs the current one first.
            return redirect(f"{reverse('portal:otp-verify')}?next={reverse('portal:otp-enrol')}")
        proof = "otp"
    else:
        # A password alone must not enrol a first device: that would hand the account to whoever has it.
        proof = enrolment_proof(request)
        if proof is None:
            return redirect("portal:otp-enrol-email")
    device = TOTPDevice.objects.filter(
        user=request.user, confirmed=False, pk=request.session.get(ENROL_SESSION_KEY)
    ).first()
    if device is None:
        device = actions.totp_device_start(user=request.user)
        request.session[ENROL_SESSION_KEY] = device.pk
    form = OneTimePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = actions.totp_device_confirm(device=device, token=form.cleaned_data["otp_token"], proof=proof)
        except OneTimePasswordInvalid:
            form.add_error("otp_token", _("That code does not match. Check the time on your phone and try again."))
        else:
            request.session.pop(ENROL_SESSION_KEY, None)
            enrolment_proof_spend(request)
            device.refresh_from_db()
            _otp_complete(request, device)
            return render(
                request,
                "portal/accounts/backup_codes.html",
                {"codes": codes, "next": _next_url(request, reverse("portal:dashboard"))},
            )
    secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    context = {"form": form, "qr_svg": qr_svg(device.config_url), "secret": secret, "next": _next_url(request, "")}
    return render(request, "portal/accounts/otp_enrol.html", context)


def _otp_complete(request, device) -> None:
    otp_login(request, device)
    step_up_mark(request)
    # A new session key once the second factor is in, as login() does after the password:
    # a key fixed or seen before this step is worth nothing after it.
    request.session.cycle_key()


def _otp_check(request, *, template: str, title: str):
    form = OneTimePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["otp_token"].strip())
        if device is None:
            form.add_error("otp_token", _("That code is wrong or was already used."))
        else:
            _otp_complete(request, device)
            return redirect(_next_url(request, reverse("portal:dashboard")))
    return render(request, template, {"form": form, "title": title, "next": _next_url(request, "")})


@require_http_methods(["GET", "POST"])
@login_required
def otp_verify(request):
    """Ask for the one-time password after the password, once per session."""
    if resident_of(request.user) is None:
        raise PermissionDenied("this account has no resident record")
    if not has_confirmed_device(request.user):
        return redirect("portal:otp-enrol")
    return _otp_check(request, template="portal/accounts/otp_verify.html", title=_("Enter your one-time password"))


@require_http_methods(["GET", "POST"])
@resident_required
def step_up(request):
    """Ask for a fresh one-time password before a sensitive action."""
    return _otp_check(request, template="portal/accounts/otp_verify.html", title=_("Confirm it is you"))


@require_http_methods(["GET", "POST"])
@resident_required(proxy=False)
@step_up_required
def backup_codes(request):
    """Replace the backup codes and show the new ones once."""
    if request.method == "POST":
        codes = actions.backup_codes_regenerate(user=request.user)
        return render(
            request, "portal/accounts/backup_codes.html", {"codes": codes, "next": reverse("portal:dashboard")}
        )
    return render(request, "portal/accounts/backup_codes_confirm.html")


password_reset = own_account_only(
    auth_views.PasswordResetView.as_view(
        template_name="portal/accounts/password_reset.html",
        email_template_name="portal/accounts/password_reset_email.txt",
        subject_template_name="portal/accounts/password_reset_subject.txt",
        success_url=reverse_lazy("portal:password-reset-sent"),
    )
)
password_reset_sent = own_account_only(
    auth_views.PasswordResetDoneView.as_view(template_name="portal/accounts/password_reset_sent.html")
)
password_reset_confirm = own_account_only(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="portal/accounts/password_reset_confirm.html",
        success_url=reverse_lazy("portal:password-reset-complete"),
    )
)
password_reset_complete = own_account_only(
    auth_views.PasswordResetCompleteView.as_view(template_name="portal/accounts/password_reset_complete.html")
)
