"""Resident pages of the social security and health services.

Each page calls the services' resident-facing selectors, which record one ledger
entry per kind of data shown (docs/services.md, "Resident-facing selectors").
"""

import datetime
from collections import OrderedDict
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cards.selectors import card_payment_list_for_resident
from portal.web.access import resident_required, step_up_required
from portal.web.forms import ClaimApplyForm
from services.grants.selectors import application_list_for_resident, programme_list_open
from services.health.coverage import MONTHS_AFTER_CONTRIBUTION, REIMBURSEMENT_RATE
from services.health.selectors import (
    coverage_get_for_resident,
    visit_list_for_resident,
)
from services.pharmacy.selectors import dispensation_list_for_resident, prescription_fills_for_resident
from services.social_security.actions import unemployment_claim_submit
from services.social_security.errors import ClaimAlreadyOpen, ClaimInvalid
from services.social_security.models import Insurance
from services.social_security.selectors import (
    claim_list_for_resident,
    contribution_list_for_resident,
    contribution_statement,
    employment_list_for_resident,
)

CONTRIBUTION_MONTHS_PER_PAGE = 12
STATEMENT_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _contribution_months(contributions) -> list[dict]:
    """Group contributions by month, newest first: each month's total per insurance, and the month's sum."""
    months: OrderedDict[datetime.date, dict] = OrderedDict()
    for row in sorted(contributions, key=lambda item: item.month, reverse=True):
        month = months.setdefault(row.month, {"month": row.month, "amounts": {}, "total": Decimal("0.00")})
        paid = row.employer_amount + row.employee_amount
        month["amounts"][row.insurance] = month["amounts"].get(row.insurance, Decimal("0.00")) + paid
        month["total"] += paid
    return [
        {**month, "cells": [month["amounts"].get(code, None) for code in Insurance.values]} for month in months.values()
    ]


@require_GET
@resident_required
def social_security(request):
    """Show employment periods, contributions by month, statements and unemployment benefit claims."""
    employments = employment_list_for_resident(resident=request.resident)
    months = _contribution_months(contribution_list_for_resident(resident=request.resident))
    claims = claim_list_for_resident(resident=request.resident)
    page = Paginator(months, CONTRIBUTION_MONTHS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "employments": employments,
        "months": page,
        "insurances": Insurance.choices,
        "claims": claims,
        "open_claim": any(claim.status in claim.OPEN_STATUSES for claim in claims),
    }
    return render(request, "portal/me/sections/social-security.html", context)


@require_GET
@resident_required
@step_up_required
def statement_download(request, format):
    """Download the contribution statement as CSV or PDF, after a fresh one-time password."""
    content = contribution_statement(resident=request.resident, format=format)
    response = HttpResponse(content, content_type=STATEMENT_CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="onecard-contributions-{timezone.localdate()}.{format}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@resident_required
def claim_apply(request):
    """Apply for unemployment benefit; the claim is assessed automatically, then decided by a caseworker."""
    form = ClaimApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = unemployment_claim_submit(
                resident=request.resident,
                unemployed_since=form.cleaned_data["unemployed_since"],
                reason=form.cleaned_data["reason"],
            )
        except ClaimInvalid:
            form.add_error("unemployed_since", _("The date unemployment began cannot be in the future."))
        except ClaimAlreadyOpen:
            form.add_error(None, _("You already have a claim waiting for assessment or a decision."))
        else:
            messages.success(request, _("Your claim #%(id)s is submitted. Its status shows below.") % {"id": claim.pk})
            return redirect("portal:social-security")
    return render(request, "portal/me/sections/claim-apply.html", {"form": form})


@require_GET
@resident_required
def health(request):
    """Show medical insurance coverage with its rule, visits, prescriptions with what remains, and purchases."""
    context = {
        "coverage": (coverage := coverage_get_for_resident(resident=request.resident)),
        "rate_percent": int(REIMBURSEMENT_RATE * 100),
        "coverage_percent": int(coverage.reimbursement_rate * 100),
        "months_after": MONTHS_AFTER_CONTRIBUTION,
        "visits": visit_list_for_resident(resident=request.resident),
        "prescriptions": prescription_fills_for_resident(resident=request.resident),
        "purchases": dispensation_list_for_resident(resident=request.resident),
    }
    return render(request, "portal/me/sections/health.html", context)


@require_GET
@resident_required
def grants(request):
    """Show the programmes open to applications, the resident's applications, and payments onto their card."""
    applications = application_list_for_resident(resident=request.resident)
    applied = {application.programme_id for application in applications}
    context = {
        "service_name": _("Grants"),
        "programmes": [programme for programme in programme_list_open() if programme.pk not in applied],
        "applications": applications,
        "payments": card_payment_list_for_resident(resident=request.resident),
    }
    return render(request, "portal/me/sections/grants.html", context)
