"""Real threads on PostgreSQL: no ordering of simultaneous requests over-dispenses or sells a box twice."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from ledger.api import Actor, access_context
from services.pharmacy.actions import dispensation_create, session_open
from services.pharmacy.errors import QuantityExceeded, TraceabilityCodeUsed
from services.pharmacy.models import Dispensation, TraceabilityCode
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.pharmacy import DISPENSING, prescription, qr_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency are tested on PostgreSQL; SQLite serialises writers")


def _as(pharmacy):
    return access_context(
        actor=Actor(type="agency", id=pharmacy.code), role="pharmacy", channel="api", purpose=DISPENSING
    )


def _session(pharmacy, card) -> uuid.UUID:
    with _as(pharmacy):
        return session_open(pharmacy=pharmacy, token=qr_token(card)).session.public_id


def _race(attempts) -> list[str]:
    """Run each (pharmacy, keyword arguments) at the same moment in its own thread; return the outcomes."""
    barrier = threading.Barrier(len(attempts))
    outcomes = []

    def attempt(pharmacy, kwargs):
        try:
            with _as(pharmacy):
                barrier.wait()
                dispensation_create(pharmacy=pharmacy, price=Decimal("10.00"), **kwargs)
            outcomes.append("dispensed")
        except QuantityExceeded:
            outcomes.append("quantity-exceeded")
        except TraceabilityCodeUsed:
            outcomes.append("traceability-code-used")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_twenty_simultaneous_fills_never_exceed_the_remaining_quantity():
    pharmacy = AgencyFactory(kind="pharmacy")
    card = CardFactory()
    rx = prescription(card.resident, quantity=10, repeats_allowed=5, min_fill_interval_days=0)
    session = _session(pharmacy, card)

    outcomes = _race([(pharmacy, {"session_id": session, "prescription_id": rx.pk, "quantity": 10})] * 20)

    assert outcomes == ["dispensed"] * 6 + ["quantity-exceeded"] * 14
    assert sum(Dispensation.objects.filter(prescription=rx).values_list("quantity", flat=True)) == 60


def test_two_pharmacies_at_once_never_both_dispense_the_last_fill():
    first, second = AgencyFactory(kind="pharmacy"), AgencyFactory(kind="pharmacy")
    card = CardFactory()
    rx = prescription(card.resident, quantity=30, repeats_allowed=0, min_fill_interval_days=0)
    sessions = {first: _session(first, card), second: _session(second, card)}

    outcomes = _race(
        [
            (pharmacy, {"session_id": sessions[pharmacy], "prescription_id": rx.pk, "quantity": 30})
            for pharmacy in sessions
        ]
    )

    assert outcomes == ["dispensed", "quantity-exceeded"]
    assert Dispensation.objects.filter(prescription=rx).count() == 1


def test_one_traceability_code_is_never_sold_twice():
    code = "81234567890123456789"
    attempts = []
    for _ in range(4):
        pharmacy, card = AgencyFactory(kind="pharmacy"), CardFactory()
        rx = prescription(card.resident)
        attempts.append(
            (
                pharmacy,
                {
                    "session_id": _session(pharmacy, card),
                    "prescription_id": rx.pk,
                    "quantity": 1,
                    "traceability_codes": [code],
                },
            )
        )

    outcomes = _race(attempts)

    assert outcomes == ["dispensed"] + ["traceability-code-used"] * 3
    assert TraceabilityCode.objects.filter(code=code).count() == 1
    assert Dispensation.objects.count() == 1
