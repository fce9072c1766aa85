"""Who may open a resident page, and the ledger access context those pages run in.

Every resident page is wrapped in ``resident_required``: signed in, holding a
resident record, OTP-verified in this session. It opens the ledger access
context (actor = the resident's pseudonym, purpose ``self-service``) unless a
middleware already opened one for the request, in which case it reuses it.
Sensitive actions add ``step_up_required``: a one-time password entered within
``ONECARD_STEP_UP_SECONDS``.
"""

import contextlib
import functools
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import devices_for_user

from ledger.api import Actor, access_context, context_get_or_none, subject_pseudonym

RESIDENT_PURPOSE = "self-service"
STEP_UP_SESSION_KEY = "onecard_step_up_at"


@contextlib.contextmanager
def resident_context(resident):
    """Run the block in the resident's self-service access context, reusing one already open."""
    if context_get_or_none() is not None:
        yield context_get_or_none()
        return
    with access_context(
        actor=Actor(type="resident", id=subject_pseudonym(resident)),
        role="resident",
        channel="web",
        purpose=RESIDENT_PURPOSE,
    ) as context:
        yield context


@contextlib.contextmanager
def system_context(component: str):
    """Run the block as a portal component acting before anyone has signed in (login, activation)."""
    with access_context(
        actor=Actor(type="system", id=component), role=component, channel="web", purpose=RESIDENT_PURPOSE
    ) as context:
        yield context


def resident_of(user):
    """Return the resident record of USER, or None for staff and unlinked accounts."""
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "resident", None)


def has_confirmed_device(user) -> bool:
    """Return whether USER has enrolled a one-time password device."""
    return any(True for _ in devices_for_user(user, confirmed=True))


def _with_next(name: str, request) -> str:
    return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"


def resident_required(view=None, *, otp: bool = True):
    """Let in signed-in residents (OTP-verified unless OTP is False) and open their access context."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            resident = resident_of(request.user)
            if resident is None:
                raise PermissionDenied("this account has no resident record")
            if otp and not request.user.is_verified():
                if has_confirmed_device(request.user):
                    return redirect(_with_next("portal:otp-verify", request))
                return redirect(_with_next("portal:otp-enrol", request))
            request.resident = resident
            with resident_context(resident):
                return function(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def step_up_fresh(request) -> bool:
    """Return whether the session entered a one-time password within the step-up window."""
    entered_at = request.session.get(STEP_UP_SESSION_KEY)
    return entered_at is not None and time.time() - entered_at <= settings.ONECARD_STEP_UP_SECONDS


def step_up_mark(request) -> None:
    """Remember that the session just entered a one-time password."""
    request.session[STEP_UP_SESSION_KEY] = time.time()


def step_up_required(view):
    """Ask for a fresh one-time password before a sensitive action; apply inside resident_required."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not step_up_fresh(request):
            # After the code, come back to the page (a POST is replayed as a GET of its form).
            return redirect(f"{reverse('portal:step-up')}?{urlencode({'next': request.path})}")
        return view(request, *args, **kwargs)

    return wrapper
