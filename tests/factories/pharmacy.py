"""Factories and helpers for drug purchase."""

import datetime

from django.utils import timezone

from cards.actions import card_token_dynamic
from ledger.api import Actor, access_context
from services.health.models import Prescription
from services.pharmacy.models import OtcProduct, OtcRestriction
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory, agency_with_key
from tests.factories.services import api

DISPENSING = "drug-dispensing"
PHARMACY_SCOPES = ["cards:verify", "pharmacy:prescriptions:read", "pharmacy:dispense"]


def pharmacy_with_client(**fields):
    """Return a pharmacy holding the dispensing scopes and purpose, and a client sending its key."""
    agency, key = agency_with_key(kind="pharmacy", scopes=PHARMACY_SCOPES, purposes=[DISPENSING], **fields)
    return agency, api(key, DISPENSING)


def qr_token(card) -> str:
    """Return a fresh 60-second QR code of CARD, as the resident's phone shows it."""
    with access_context(
        actor=Actor(type="resident", id="test"), role="resident", channel="web", purpose="self-service"
    ):
        return card_token_dynamic(card=card)


def prescription(resident, **fields) -> Prescription:
    """Write an open prescription for RESIDENT straight to the table."""
    values = {
        "hospital": AgencyFactory(kind="hospital"),
        "prescriber": "Dr. Test",
        "drug_code": "86901234000012",
        "drug_name": "Metformin hydrochloride",
        "strength": "500 mg",
        "form": "tablet",
        "quantity": 60,
        "repeats_allowed": 2,
        "min_fill_interval_days": 25,
        "max_days_supply": 30,
        "valid_until": timezone.localdate() + datetime.timedelta(days=180),
    } | fields
    return Prescription.objects.create(resident=resident, **values)


def controlled(resident, **fields) -> Prescription:
    return prescription(
        resident,
        **{
            "drug_name": "Zolpidem tartrate",
            "quantity": 7,
            "repeats_allowed": 0,
            "min_fill_interval_days": 0,
            "max_days_supply": 7,
            "controlled_class": "psychotropic_2",
        }
        | fields,
    )


def otc_product(*, max_amount_mg=720 * 3, period_days=30, amount_mg=720, code="PSE-TEST") -> OtcProduct:
    restriction = OtcRestriction.objects.create(
        code=f"r-{code.lower()}", name="Pseudoephedrine", max_amount_mg=max_amount_mg, period_days=period_days
    )
    return OtcProduct.objects.create(
        code=code, name="Pseudoephedrine 30 mg", restriction=restriction, amount_mg=amount_mg
    )


__all__ = ["CardFactory"]
