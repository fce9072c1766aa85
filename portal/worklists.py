"""Caseworker worklists: one declarative registry of filtered admin lists.

Each worklist is an admin changelist with a filter, so opening one goes
through the recording admin base (cards/admin_base.py) like any other list.
A worklist shows only to staff holding its permission, and only once its
model exists: services that bring a model (grants, social security, the
portal's access reports) enable the entries waiting for them here.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Worklist:
    code: str
    title: str | Promise
    model: str  # "app_label.ModelName"
    filters: str  # the changelist query string
    permission: str  # "app_label.codename"
    count: Callable[[type], int]
    description: str | Promise = ""


def _count_status(status: str) -> Callable[[type], int]:
    return lambda model: model.objects.filter(status=status).count()


WORKLISTS: list[Worklist] = [
    Worklist(
        code="card-requests",
        title=_("Card requests"),
        model="cards.Card",
        filters="status__exact=pending",
        permission="cards.view_card",
        count=_count_status("pending"),
        description=_("Cards issued and waiting for the resident's activation."),
    ),
    Worklist(
        code="lost-cards",
        title=_("Reported-lost cards"),
        model="cards.Card",
        filters="status__exact=lost",
        permission="cards.view_card",
        count=_count_status("lost"),
        description=_("Cards their holder reported lost: reissue or revoke."),
    ),
    Worklist(
        code="photos-to-approve",
        title=_("Photos to approve"),
        model="cards.ResidentPhoto",
        filters="status__exact=pending",
        permission="cards.change_residentphoto",
        count=_count_status("pending"),
        description=_("Card photos residents sent from the portal: approve or reject each."),
    ),
    Worklist(
        code="unrecognised-access-reports",
        title=_("Unrecognised access reports"),
        model="portal.AccessReport",
        filters="status__exact=open",
        permission="portal.view_accessreport",
        count=_count_status("open"),
        description=_("Residents' reports of an access they do not recognise, each with its ledger entry."),
    ),
    Worklist(
        code="access-report-replies",
        title=_("Replies to answered access reports"),
        model="portal.AccessReport",
        filters="status__exact=replied",
        permission="portal.view_accessreport",
        count=_count_status("replied"),
        description=_(
            "Residents who replied to the answer to their report of an access: read the reply, answer again."
        ),
    ),
    Worklist(
        code="benefit-claims",
        title=_("Benefit claims"),
        model="social_security.UnemploymentClaim",
        filters="status__exact=assessed",
        permission="social_security.view_unemploymentclaim",
        count=_count_status("assessed"),
        description=_("Unemployment benefit claims assessed and waiting for an officer's decision."),
    ),
    Worklist(
        code="grant-reviews",
        title=_("Grant applications to review"),
        model="grants.Application",
        filters="waiting=reviewer",
        permission="grants.review_application",
        count=lambda model: (
            model.objects.filter(status="eligible").count()
            + model.objects.filter(status="under_review", reviewer__isnull=True).count()
        ),
        description=_("Eligible applications waiting for a reviewer (first pair of eyes)."),
    ),
    Worklist(
        code="grant-approvals",
        title=_("Grant applications to approve"),
        model="grants.Application",
        filters="waiting=approver",
        permission="grants.approve_application",
        count=lambda model: model.objects.filter(status="under_review", reviewed_at__isnull=False).count(),
        description=_("Reviewed applications waiting for an approver who is not the reviewer."),
    ),
    Worklist(
        code="pharmacy-flags",
        title=_("Suspicious dispensing patterns"),
        model="pharmacy.SuspiciousPatternFlag",
        filters="status__exact=open",
        permission="pharmacy.view_suspiciouspatternflag",
        count=_count_status("open"),
        description=_("Residents seen at several pharmacies in a short time, flagged for a regulator."),
    ),
]


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def worklists_for(user) -> list[dict]:
    """Return the worklists USER may open, each with its admin URL and how many items wait."""
    out = []
    for worklist in WORKLISTS:
        model = _model(worklist.model)
        if model is None or not user.has_perm(worklist.permission):
            continue
        opts = model._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        out.append(
            {
                "code": worklist.code,
                "title": worklist.title,
                "description": worklist.description,
                "url": f"{url}?{worklist.filters}",
                "count": worklist.count(model),
            }
        )
    return out
