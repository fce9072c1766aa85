"""Factories and helpers for social security, health and data checks."""

import datetime
from decimal import Decimal

from rest_framework.test import APIClient

from ledger.api import Actor, access_context
from services.core.actions import consent_grant
from services.social_security.models import Contribution, Employment, Insurance
from services.social_security.months import month_add
from tests.factories.core import AgencyFactory


def employer(**fields):
    return AgencyFactory(kind="employer", **fields)


def employ(resident, employer, started_on=datetime.date(2010, 1, 1), ended_on=None) -> Employment:
    return Employment.objects.create(resident=resident, employer=employer, started_on=started_on, ended_on=ended_on)


def contribute(resident, employer, first_month: datetime.date, months: int, *, insurances=None, base="8000.00"):
    """Write MONTHS consecutive months of contributions from FIRST_MONTH straight to the table."""
    insurances = insurances or Insurance.values
    Contribution.objects.bulk_create(
        Contribution(
            resident=resident,
            employer=employer,
            month=month_add(first_month, offset),
            insurance=insurance,
            base=Decimal(base),
            employer_amount=Decimal("100.00"),
            employee_amount=Decimal("50.00"),
        )
        for offset in range(months)
        for insurance in insurances
    )


def consent(resident, agency, scope, purpose):
    with access_context(actor=Actor(type="resident", id="test"), role="resident", channel="web"):
        return consent_grant(resident=resident, agency=agency, scope=scope, purpose=purpose)


def api(key: str, purpose: str, **extra) -> APIClient:
    """Return a client sending KEY and PURPOSE on every request."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE=purpose, **extra)
    return client


def entries(**filters):
    """Return the pending ledger rows as (action, actor_id, purpose, outcome) tuples."""
    from ledger.models import PendingEntry

    return [
        (row.action, row.actor_id, row.purpose, row.outcome)
        for row in PendingEntry.objects.filter(**filters).order_by("id")
    ]
