"""Each dispensing rule at its edge: exactly at the limit passes, one over fails."""

import datetime

import pytest
from django.utils import timezone

from services.pharmacy.models import ControlledCap, Dispensation
from tests.factories.pharmacy import controlled, otc_product, pharmacy_with_client, prescription, qr_token

pytestmark = pytest.mark.django_db


def dispense(client, session, rx, quantity, key, **extra):
    body = {"session": session, "prescription": rx.pk, "quantity": quantity, "price": "10.00"} | extra
    return client.post("/api/v1/pharmacy/dispensations", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def buy(client, session, product, quantity, key, **extra):
    body = {"session": session, "product": product.code, "quantity": quantity, "price": "25.00"} | extra
    return client.post("/api/v1/pharmacy/otc-dispensations", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def problem(response) -> str:
    return response.json()["type"].removeprefix("/api/problems/")


def frozen(monkeypatch, at: datetime.datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: at)


def test_one_fill_of_exactly_the_quantity_per_fill_passes(pharmacy, card, open_session):
    rx = prescription(card.resident, quantity=30)

    assert dispense(pharmacy[1], open_session(), rx, 30, "k").status_code == 201


def test_one_fill_of_one_more_than_the_quantity_per_fill_fails(pharmacy, card, open_session):
    rx = prescription(card.resident, quantity=30)

    response = dispense(pharmacy[1], open_session(), rx, 31, "k")

    assert (response.status_code, problem(response)) == (409, "quantity-exceeded")


def test_fills_up_to_quantity_times_one_plus_repeats_pass_and_one_more_unit_fails(pharmacy, card, open_session):
    rx = prescription(card.resident, quantity=10, repeats_allowed=1, min_fill_interval_days=0)
    session = open_session()

    assert dispense(pharmacy[1], session, rx, 10, "k1").status_code == 201
    assert dispense(pharmacy[1], session, rx, 10, "k2").status_code == 201
    response = dispense(pharmacy[1], session, rx, 1, "k3")

    assert (response.status_code, problem(response)) == (409, "quantity-exceeded")
    assert sum(Dispensation.objects.values_list("quantity", flat=True)) == 20


def test_a_fill_exactly_the_interval_after_the_last_passes(pharmacy, card, monkeypatch):
    rx = prescription(card.resident, quantity=10, repeats_allowed=1, min_fill_interval_days=25)
    start = timezone.now()
    frozen(monkeypatch, start)
    session = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()
    assert dispense(pharmacy[1], session["session"], rx, 5, "k1").status_code == 201

    frozen(monkeypatch, start + datetime.timedelta(days=25))
    session = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()

    assert dispense(pharmacy[1], session["session"], rx, 5, "k2").status_code == 201


def test_a_fill_one_second_before_the_interval_has_elapsed_fails(pharmacy, card, monkeypatch):
    rx = prescription(card.resident, quantity=10, repeats_allowed=1, min_fill_interval_days=25)
    start = timezone.now()
    frozen(monkeypatch, start)
    session = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()
    assert dispense(pharmacy[1], session["session"], rx, 5, "k1").status_code == 201

    frozen(monkeypatch, start + datetime.timedelta(days=25) - datetime.timedelta(seconds=1))
    session = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()
    response = dispense(pharmacy[1], session["session"], rx, 5, "k2")

    assert (response.status_code, problem(response)) == (409, "interval-not-elapsed")


def test_the_interval_holds_across_pharmacies(pharmacy, card, open_session):
    rx = prescription(card.resident, quantity=10, repeats_allowed=1, min_fill_interval_days=25)
    assert dispense(pharmacy[1], open_session(), rx, 5, "k1").status_code == 201
    _other, other_client = pharmacy_with_client()

    response = dispense(other_client, open_session(other_client), rx, 5, "k2")

    assert problem(response) == "interval-not-elapsed"


def test_a_prescription_is_dispensable_on_its_last_valid_day(pharmacy, card, open_session):
    rx = prescription(card.resident, valid_until=timezone.localdate())

    assert dispense(pharmacy[1], open_session(), rx, 1, "k").status_code == 201


def test_a_prescription_is_not_dispensable_the_day_after_its_validity(pharmacy, card, open_session):
    rx = prescription(card.resident, valid_until=timezone.localdate() - datetime.timedelta(days=1))

    response = dispense(pharmacy[1], open_session(), rx, 1, "k")

    assert (response.status_code, problem(response)) == (409, "prescription-not-dispensable")


def test_a_cancelled_prescription_is_not_dispensable(pharmacy, card, open_session):
    rx = prescription(card.resident, status="cancelled")

    assert problem(dispense(pharmacy[1], open_session(), rx, 1, "k")) == "prescription-not-dispensable"


def test_a_controlled_prescription_is_never_dispensed_on_repeats(pharmacy, card, open_session):
    # Written straight to the table: the model refuses repeats on a controlled drug.
    rx = controlled(card.resident, repeats_allowed=1)

    response = dispense(pharmacy[1], open_session(), rx, 7, "k")

    assert (response.status_code, problem(response)) == (409, "controlled-cap")


def test_a_controlled_prescription_gives_its_quantity_once_and_no_more(pharmacy, card, open_session):
    rx = controlled(card.resident, quantity=7)
    session = open_session()

    assert dispense(pharmacy[1], session, rx, 7, "k1").status_code == 201
    assert problem(dispense(pharmacy[1], session, rx, 1, "k2")) == "quantity-exceeded"


def test_the_controlled_cap_allows_exactly_the_cap_and_refuses_one_more_day(pharmacy, card, open_session):
    ControlledCap.objects.create(controlled_class="psychotropic_2", max_days_supply=14, period_days=30)
    first, second, third = (controlled(card.resident) for _ in range(3))
    session = open_session()

    assert dispense(pharmacy[1], session, first, 7, "k1").status_code == 201
    assert dispense(pharmacy[1], session, second, 7, "k2").status_code == 201
    response = dispense(pharmacy[1], session, third, 1, "k3")

    assert (response.status_code, problem(response)) == (409, "controlled-cap")


def test_the_controlled_cap_counts_every_pharmacy(pharmacy, card, open_session):
    ControlledCap.objects.create(controlled_class="psychotropic_2", max_days_supply=7, period_days=30)
    first, second = controlled(card.resident), controlled(card.resident)
    assert dispense(pharmacy[1], open_session(), first, 7, "k1").status_code == 201
    _other, other_client = pharmacy_with_client()

    response = dispense(other_client, open_session(other_client), second, 7, "k2")

    assert problem(response) == "controlled-cap"


def test_a_controlled_fill_exactly_one_period_ago_no_longer_counts(pharmacy, card, monkeypatch):
    ControlledCap.objects.create(controlled_class="psychotropic_2", max_days_supply=7, period_days=30)
    first, second = controlled(card.resident), controlled(card.resident)
    start = timezone.now()
    frozen(monkeypatch, start)
    session = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()
    assert dispense(pharmacy[1], session["session"], first, 7, "k1").status_code == 201
    second.valid_until = timezone.localdate() + datetime.timedelta(days=60)
    second.save()

    frozen(monkeypatch, start + datetime.timedelta(days=30))
    session = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()

    assert dispense(pharmacy[1], session["session"], second, 7, "k2").status_code == 201


def test_otc_sales_up_to_the_limit_pass_and_one_more_pack_fails(pharmacy, card, open_session):
    product = otc_product(max_amount_mg=720 * 3, amount_mg=720)
    session = open_session()

    assert buy(pharmacy[1], session, product, 2, "k1").status_code == 201
    assert buy(pharmacy[1], session, product, 1, "k2").status_code == 201
    response = buy(pharmacy[1], session, product, 1, "k3")

    assert (response.status_code, problem(response)) == (409, "otc-limit")


def test_the_otc_limit_counts_every_pharmacy_and_every_product_of_the_ingredient(pharmacy, card, open_session):
    product = otc_product(max_amount_mg=1000, amount_mg=600)
    from services.pharmacy.models import OtcProduct

    other_product = OtcProduct.objects.create(
        code="PSE-OTHER", name="Cold relief", restriction=product.restriction, amount_mg=400
    )
    assert buy(pharmacy[1], open_session(), product, 1, "k1").status_code == 201
    _other, other_client = pharmacy_with_client()
    session = open_session(other_client)

    assert buy(other_client, session, other_product, 1, "k2").status_code == 201
    assert problem(buy(other_client, session, other_product, 1, "k3")) == "otc-limit"


def test_an_otc_sale_needs_no_prescription_and_is_paid_by_the_resident(pharmacy, card, open_session):
    product = otc_product()

    response = buy(pharmacy[1], open_session(), product, 1, "k1")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["prescription"], body["product"], body["insured_share"], body["resident_share"]) == (
        None,
        product.code,
        "0.00",
        "25.00",
    )


def test_an_unknown_otc_product_is_not_found(pharmacy, card, open_session):
    session = open_session()
    response = pharmacy[1].post(
        "/api/v1/pharmacy/otc-dispensations",
        {"session": session, "product": "NOPE", "quantity": 1, "price": "1.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert (response.status_code, problem(response)) == (404, "product-unknown")


def test_a_traceability_code_is_sold_once_nationally(pharmacy, card, open_session):
    from tests.factories.cards import CardFactory

    code = "81234567890123456789"
    rx = prescription(card.resident)
    assert dispense(pharmacy[1], open_session(), rx, 1, "k1", traceability_codes=[code]).status_code == 201
    other_card = CardFactory()
    other_rx = prescription(other_card.resident)
    _other, other_client = pharmacy_with_client()
    session = other_client.post("/api/v1/pharmacy/sessions", {"token": qr_token(other_card)}, format="json").json()

    response = dispense(other_client, session["session"], other_rx, 1, "k2", traceability_codes=[code])

    assert (response.status_code, problem(response)) == (409, "traceability-code-used")
    assert Dispensation.objects.count() == 1


def test_a_traceability_code_listed_twice_in_one_request_is_invalid(pharmacy, card, open_session):
    rx = prescription(card.resident)
    code = "81234567890123456789"

    response = dispense(pharmacy[1], open_session(), rx, 1, "k", traceability_codes=[code, code])

    assert response.status_code == 400


def test_an_otc_sale_writes_exactly_one_ledger_row(pharmacy, card, open_session, ledger_cleared):
    from tests.factories.pharmacy import DISPENSING
    from tests.factories.services import entries

    product = otc_product()
    session = open_session()
    ledger_cleared()

    assert buy(pharmacy[1], session, product, 1, "k1").status_code == 201
    assert entries() == [("pharmacy.dispensations.create", pharmacy[0].code, DISPENSING, "ok")]
