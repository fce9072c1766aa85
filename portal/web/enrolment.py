"""The second factor a first authenticator enrolment needs, beyond the password.

A password alone must not let anyone enrol their own authenticator on an account
that has none yet. The first enrolment needs a proof held in the session: the
activation code (set when the account is created with it) or a code sent to the
resident's registered e-mail address. Replacing an enrolled authenticator needs
the current one (an OTP-verified session) instead.
"""

import hashlib
import hmac
import secrets
import time

from django.conf import settings
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.web.access import resident_required
from portal.web.forms import EnrolmentCodeForm

PROOF_SESSION_KEY = "onecard_enrol_proof"
CHALLENGE_SESSION_KEY = "onecard_enrol_challenge"
PROOF_LIFETIME_SECONDS = 30 * 60
CHALLENGE_LIFETIME_SECONDS = 10 * 60
CHALLENGE_MAX_ATTEMPTS = 5
_CODE_DIGITS = 8


def enrolment_proof_mark(request, *, by: str) -> None:
    """Remember that this session proved a second factor (BY names it) for a first enrolment."""
    request.session[PROOF_SESSION_KEY] = {"by": by, "at": time.time()}


def enrolment_proof(request) -> str | None:
    """Return how this session proved a second factor for a first enrolment, or None if it has not lately."""
    proof = request.session.get(PROOF_SESSION_KEY)
    if not proof or time.time() - proof["at"] > PROOF_LIFETIME_SECONDS:
        return None
    return proof["by"]


def enrolment_proof_spend(request) -> None:
    """Forget the proof: it served one enrolment."""
    request.session.pop(PROOF_SESSION_KEY, None)


def _code_hash(*, user_id: int, code: str) -> str:
    message = f"enrolment-email-code:{user_id}:{code.strip()}".encode()
    return hmac.new(settings.ONECARD_LOOKUP_KEY, message, hashlib.sha256).hexdigest()


def _masked(email: str) -> str:
    name, _at, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def _send(request, email: str) -> None:
    code = "".join(secrets.choice("0123456789") for _ in range(_CODE_DIGITS))
    # Only a keyed hash of the code is kept, in the session.
    request.session[CHALLENGE_SESSION_KEY] = {
        "hash": _code_hash(user_id=request.user.pk, code=code),
        "expires": time.time() + CHALLENGE_LIFETIME_SECONDS,
        "attempts": 0,
    }
    send_mail(
        subject=_("Your OneCard sign-in set-up code"),
        message=_(
            "Someone signed in to your OneCard account and wants to set up an authenticator app.\n"
            "If it was you, enter this code: %(code)s\n"
            "It expires in 10 minutes. If it was not you, change your password now: your password is known."
        )
        % {"code": code},
        from_email=None,
        recipient_list=[email],
    )


def _check(request, code: str) -> bool:
    challenge = request.session.get(CHALLENGE_SESSION_KEY)
    if not challenge or challenge["expires"] < time.time() or challenge["attempts"] >= CHALLENGE_MAX_ATTEMPTS:
        return False
    if hmac.compare_digest(challenge["hash"], _code_hash(user_id=request.user.pk, code=code)):
        request.session.pop(CHALLENGE_SESSION_KEY, None)
        return True
    challenge["attempts"] += 1
    request.session[CHALLENGE_SESSION_KEY] = challenge
    return False


@require_http_methods(["GET", "POST"])
@resident_required(otp=False, proxy=False)
def enrolment_email(request):
    """Prove the registered e-mail address before a first authenticator enrolment."""
    email = request.resident.email
    form = EnrolmentCodeForm(request.POST if request.POST.get("code") is not None else None)
    sent = request.session.get(CHALLENGE_SESSION_KEY) is not None
    if request.method == "POST" and email:
        if request.POST.get("send"):
            _send(request, email)
            sent = True
        elif form.is_valid():
            if _check(request, form.cleaned_data["code"]):
                enrolment_proof_mark(request, by="email-code")
                return redirect(reverse("portal:otp-enrol"))
            form.add_error("code", _("That code is wrong, expired or was tried too often. Ask for a new one."))
    context = {"form": form, "email": _masked(email) if email else "", "sent": sent}
    return render(request, "portal/accounts/otp_enrol_email.html", context)
