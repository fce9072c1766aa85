"""Helpers writing hospital visits and prescriptions straight to their tables."""

import datetime
from decimal import Decimal

from django.utils import timezone

from services.health.models import Prescription, Visit
from tests.factories.core import AgencyFactory


def hospital(**fields):
    return AgencyFactory(kind="hospital", **fields)


def visit(resident, at, **fields) -> Visit:
    values = {
        "visited_on": datetime.date(2025, 3, 4),
        "icd10_code": "J06.9",
        "diagnosis": "Upper respiratory infection",
        "cost": Decimal("200.00"),
        "reimbursement_rate": Decimal("0.700"),
        "insured_share": Decimal("140.00"),
    } | fields
    return Visit.objects.create(resident=resident, hospital=at, **values)


def prescription(resident, at, **fields) -> Prescription:
    values = {
        "prescriber": "Dr. Chen",
        "drug_code": "X1",
        "drug_name": "Metformin",
        "strength": "500 mg",
        "form": "tablet",
        "quantity": 30,
        "max_days_supply": 30,
        "valid_until": timezone.localdate() + datetime.timedelta(days=30),
    } | fields
    return Prescription.objects.create(resident=resident, hospital=at, **values)
