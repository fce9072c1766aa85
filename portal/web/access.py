"""Who may open a resident page, and the ledger access context those pages run in.

Every resident page is wrapped in ``resident_required``: signed in, holding a
resident record, OTP-verified in this session. It opens the ledger access
context (actor = the resident's pseudonym, purpose ``self-service``) unless a
middleware already opened one for the request, in which case it reuses it.
Sensitive actions add ``step_up_required``: a one-time password entered within
``ONECARD_STEP_UP_SECONDS``.

While the signed-in resident acts for a family member (a proxy grant named in
the session), ``resident_required`` checks that grant on every request, makes
``request.resident`` the dependant, and opens a context whose actor is the
proxy in role ``proxy`` under purpose ``family-proxy``; every access the page
records is then also summed up in one ``portal.proxies.act`` entry under the
proxy. An ended grant ends the mode at once. Pages about one's own account
(``proxy=False``) refuse to open while acting for someone.
"""

import contextlib
import functools
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import devices_for_user

from ledger.api import Actor, access_context, accesses_collected, context_get_or_none, subject_pseudonym
from portal.actions import PROXY_PURPOSE, proxy_accesses_record
from portal.selectors import proxy_grant_in_force

RESIDENT_PURPOSE = "self-service"
PROXY_ROLE = "proxy"
STEP_UP_SESSION_KEY = "onecard_step_up_at"
ACTING_FOR_SESSION_KEY = "onecard_acting_for"


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
def proxy_context(grant):
    """Run the block as GRANT's proxy acting for its dependant, in this request's context (its request id)."""
    outer = context_get_or_none()
    with access_context(
        actor=Actor(type="resident", id=subject_pseudonym(grant.proxy)),
        role=PROXY_ROLE,
        channel="web",
        purpose=PROXY_PURPOSE,
        request_id=outer.request_id if outer is not None else None,
    ) as context:
        yield context


def acting_for(request, resident):
    """Return the proxy grant under which signed-in RESIDENT acts in this session, or None.

    The grant is checked on every request: a grant ended by either person, one
    that is not RESIDENT's, or a child's that ran out at 18 ends the mode at once.
    """
    grant_id = request.session.get(ACTING_FOR_SESSION_KEY)
    if grant_id is None:
        return None
    grant = proxy_grant_in_force(proxy=resident, grant_id=grant_id if type(grant_id) is int else None)
    if grant is None:
        request.session.pop(ACTING_FOR_SESSION_KEY, None)
        rotate_token(request)
        messages.warning(request, _("You are no longer acting for someone else: that permission has ended."))
    return grant


def acting_for_start(request, grant) -> None:
    """Act for GRANT's dependant from the next request on.

    Switching whom the session acts for rotates the CSRF token, as signing in does: a form still open
    in another tab was made for the other person, and posting it now is refused, not applied to this one.
    """
    request.session[ACTING_FOR_SESSION_KEY] = grant.pk
    rotate_token(request)


def acting_for_stop(request) -> None:
    """Act as oneself again from the next request on (the CSRF token rotates: acting_for_start)."""
    request.session.pop(ACTING_FOR_SESSION_KEY, None)
    rotate_token(request)


def _as_proxy(function, request, grant, *args, **kwargs):
    with proxy_context(grant), accesses_collected() as collected:
        try:
            response = function(request, *args, **kwargs)
        except (Http404, PermissionDenied):
            _accesses_record(grant, collected)
            raise
        _accesses_record(grant, collected)
        return response


def _accesses_record(grant, collected: list[dict]) -> None:
    # Starting and stopping are recorded under both people already.
    names = [access["action"] for access in collected if not access["action"].startswith("portal.proxies.")]
    if names:
        proxy_accesses_record(grant=grant, actions=names)


def refused_while_acting(request, grant):
    """Return the page that says this is not done for someone else (HTTP 403)."""
    return render(request, "portal/me/proxy_refused.html", {"grant": grant}, status=403)


def own_account_only(view):
    """Refuse VIEW while the session acts for someone (for account pages outside resident_required)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        session = getattr(request, "session", None)
        if session is not None and session.get(ACTING_FOR_SESSION_KEY) is not None:
            return render(request, "portal/me/proxy_refused.html", {"grant": None}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


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


def resident_required(view=None, *, otp: bool = True, proxy: bool = True):
    """Let in signed-in residents (OTP-verified unless OTP is False) and open their access context.

    While the resident acts for a family member, the page is about the dependant (PROXY true) or
    refused (PROXY false: one's own password, one-time passwords, e-mail and family proxies).
    """

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
            request.signed_in_resident = resident
            request.resident = resident
            was_acting = request.session.get(ACTING_FOR_SESSION_KEY) is not None
            request.proxy_grant = grant = acting_for(request, resident)
            if grant is None and was_acting and request.method not in ("GET", "HEAD", "OPTIONS"):
                # The grant ended while this form was open: it was meant for the dependant, and
                # applying it now would apply it to the proxy's own account. Nothing is saved.
                return render(request, "portal/me/form_expired.html", status=403)
            if grant is not None:
                if not proxy:
                    return refused_while_acting(request, grant)
                request.resident = grant.dependant
                return _as_proxy(function, request, grant, *args, **kwargs)
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
