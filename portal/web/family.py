"""Family proxies in the portal: let someone act for you, act for a family member, and stop.

Acting for someone is a mode of the session (portal.web.access): these pages
start and stop it and manage the grants behind it. They are about the
signed-in resident's own grants, so they do not open while acting for someone,
except the one that stops it.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import actions, selectors
from portal.errors import ProxyRefused
from portal.models import ProxyGrant
from portal.web.access import acting_for_start, acting_for_stop, resident_required, step_up_required
from portal.web.forms import ProxyAcceptForm, ProxyInvitationForm
from portal.web.throttles import proxy_accept_attempt_allowed


@require_GET
@resident_required(proxy=False)
def family(request):
    """Show who may act for the resident, whom the resident may act for, and open invitations."""
    proxies = selectors.proxy_grants_for_resident(resident=request.resident)
    return render(request, "portal/me/family.html", {"proxies": proxies})


@require_http_methods(["GET", "POST"])
@resident_required(proxy=False)
@step_up_required
def family_invite(request):
    """Invite a family member to act for the resident: a code shown once, valid for 48 hours."""
    form = ProxyInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant, code = actions.proxy_invitation_create(
                dependant=request.resident, relationship=form.cleaned_data["relationship"]
            )
        except ProxyRefused:
            form.add_error(None, _("A child's parent or guardian is linked by a caseworker at a service centre."))
        else:
            return render(request, "portal/me/family_invitation.html", {"grant": grant, "code": code})
    return render(request, "portal/me/family_invite.html", {"form": form})


@require_http_methods(["GET", "POST"])
@resident_required(proxy=False)
@step_up_required
def family_accept(request):
    """Take up a family member's invitation code, so the resident may act for them."""
    form = ProxyAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not proxy_accept_attempt_allowed(request, resident=request.resident):
            form.add_error(None, _("Too many codes tried. Wait an hour, then try again."))
            return render(request, "portal/me/family_accept.html", {"form": form}, status=429)
        try:
            grant = actions.proxy_invitation_accept(proxy=request.resident, code=form.cleaned_data["code"])
        except ProxyRefused:
            form.add_error("code", _("This code is wrong, has expired or was already used."))
        else:
            messages.success(request, _("You may now act for %(name)s.") % {"name": grant.dependant.full_name})
            return redirect("portal:family")
    return render(request, "portal/me/family_accept.html", {"form": form})


@require_http_methods(["GET", "POST"])
@resident_required(proxy=False)
def family_end(request, grant_id):
    """End a grant: the person acted for withdraws it, or the person acting gives it up."""
    grant = selectors.proxy_grant_get_for_resident(resident=request.resident, grant_id=grant_id)
    if grant is None:
        raise Http404("no such family proxy")
    as_dependant = grant.dependant_id == request.resident.pk
    if as_dependant and grant.kind == ProxyGrant.Kind.MINOR:
        # A caseworker's link to a parent ends at 18 or by a caseworker, not by the child.
        raise Http404("a minor's link is ended by a caseworker")
    if request.method == "POST":
        ended_by = ProxyGrant.EndedBy.DEPENDANT if as_dependant else ProxyGrant.EndedBy.PROXY
        actions.proxy_grant_end(grant=grant, by=ended_by)
        messages.success(request, _("Done. This permission has ended."))
        return redirect("portal:family")
    return render(request, "portal/me/family_end.html", {"grant": grant, "as_dependant": as_dependant})


@require_POST
@resident_required(proxy=False)
def family_act(request, grant_id):
    """Start acting for the dependant of grant GRANT_ID, if it is the resident's and in force."""
    grant = selectors.proxy_grant_in_force(proxy=request.resident, grant_id=grant_id)
    if grant is None:
        raise Http404("no such family proxy in force")
    actions.proxy_session_start(grant=grant)
    acting_for_start(request, grant)
    messages.success(request, _("You are now acting for %(name)s.") % {"name": grant.dependant.full_name})
    return redirect("portal:dashboard")


@require_POST
@resident_required
def family_stop(request):
    """Stop acting for someone and act as oneself again."""
    grant = request.proxy_grant
    if grant is not None:
        actions.proxy_session_stop(grant=grant)
        acting_for_stop(request)
        messages.success(request, _("You stopped acting for %(name)s.") % {"name": grant.dependant.full_name})
    return redirect("portal:family")
