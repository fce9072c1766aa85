"""The grants partner endpoints, the exact ledger rows each writes, and the bank callback replayed."""

from decimal import Decimal

import pytest

from cards.models import CardPayment
from ledger.models import PendingEntry
from services.grants import actions
from services.grants.models import Disbursement
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.factories.grants import ProgrammeFactory, apply, assess, caseworker, cycle_signed_off, staff, to_review
from tests.factories.services import api, entries
from tests.ledger.database import pending_discard

pytestmark = pytest.mark.django_db
PAYING = "grant-disbursement"


@pytest.fixture
def bank():
    agency, key = agency_with_key(kind="bank", scopes=["grants:disbursements"], purposes=[PAYING])
    return agency, api(key, PAYING)


@pytest.fixture
def scheduled(bank):
    agency, _client = bank
    programme = ProgrammeFactory(paying_agency=agency)
    resident = ResidentFactory()
    CardFactory(resident=resident)
    application = assess(apply(programme, resident))
    to_review(application, caseworker("review_application"))
    approver = caseworker("approve_application")
    with staff(approver):
        actions.application_approve(application=application, user=approver, reason="ok")
    cycle = cycle_signed_off(programme, creator=approver)
    with staff(purpose="grant-administration"):
        actions.cycle_batch_run(cycle=cycle)
    pending_discard()
    return Disbursement.objects.get()


def test_the_list_is_a_cursor_page_as_the_docs_say(bank, scheduled):
    _agency, client = bank

    response = client.get("/api/v1/grants/disbursements?page_size=1")

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"next", "previous", "results"}
    assert [row["reference"] for row in response.json()["results"]] == [str(scheduled.reference)]


def test_a_bad_cursor_on_the_list_is_a_404_problem(bank, scheduled):
    _agency, client = bank

    response = client.get("/api/v1/grants/disbursements?cursor=not-a-cursor")

    assert response.status_code == 404
    assert response.json()["type"] == "/api/problems/not-found"
    assert entries() == []


def url(disbursement):
    return f"/api/v1/grants/disbursements/{disbursement.reference}/confirmation"


def test_the_bank_lists_what_it_pays_and_each_resident_listed_is_recorded(bank, scheduled):
    agency, client = bank

    response = client.get("/api/v1/grants/disbursements")

    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    assert (row["reference"], row["amount"], row["card_number"]) == (
        str(scheduled.reference),
        "1000.00",
        scheduled.card.number,
    )
    assert entries() == [("grants.disbursements.read", agency.code, PAYING, "ok")]


def test_a_confirmation_pays_onto_the_card_and_writes_exactly_these_rows(bank, scheduled):
    agency, client = bank

    response = client.post(url(scheduled), {"outcome": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert entries() == [
        ("cards.payments.credit", agency.code, PAYING, "ok"),
        ("grants.disbursements.confirm", agency.code, PAYING, "ok"),
    ]


def test_a_replayed_callback_pays_nothing_more_and_records_only_the_replay(bank, scheduled):
    _agency, client = bank
    first = client.post(url(scheduled), {"outcome": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    rows = PendingEntry.objects.count()

    again = client.post(url(scheduled), {"outcome": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    replayed = PendingEntry.objects.order_by("id")[rows:]
    assert [(entry.action, entry.object.split(":")[0]) for entry in replayed] == [
        ("cards.payments.credit", "replay"),
        ("grants.disbursements.confirm", "replay"),
    ]
    assert CardPayment.objects.get().amount == Decimal("1000.00")


def test_a_new_key_with_the_same_outcome_changes_nothing(bank, scheduled):
    _agency, client = bank
    client.post(url(scheduled), {"outcome": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    again = client.post(url(scheduled), {"outcome": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert again.status_code == 200
    assert CardPayment.objects.count() == 1


def test_a_contradicting_confirmation_is_a_conflict(bank, scheduled):
    _agency, client = bank
    client.post(url(scheduled), {"outcome": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = client.post(url(scheduled), {"outcome": "failed"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 409
    assert response.json()["type"] == "/api/problems/disbursement-conflict"


def test_a_confirmation_without_an_idempotency_key_is_refused(bank, scheduled):
    _agency, client = bank

    response = client.post(url(scheduled), {"outcome": "paid"}, format="json")

    assert response.status_code == 428
    assert response["Content-Type"] == "application/problem+json"
    assert entries() == []


def test_another_bank_cannot_confirm(scheduled):
    _other, key = agency_with_key(kind="bank", scopes=["grants:disbursements"], purposes=[PAYING])

    response = api(key, PAYING).post(url(scheduled), {"outcome": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="x")

    assert response.status_code == 404
    assert response.json()["type"] == "/api/problems/disbursement-unknown"
    assert CardPayment.objects.count() == 0


def test_the_eligibility_check_answers_per_rule_and_records_one_row():
    agency, key = agency_with_key(scopes=["grants:eligibility:read"], purposes=["benefit-eligibility"])
    programme = ProgrammeFactory(code="heating", age_min=18, province_code="31")
    resident = ResidentFactory()

    response = api(key, "benefit-eligibility").post(
        "/api/v1/grants/eligibility", {"national_id": resident.national_id, "programme": "heating"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "programme": programme.code,
        "eligible": False,
        "rules": [{"rule": "age_gte:18", "passed": True}, {"rule": "resident_of_province:31", "passed": False}],
    }
    assert entries() == [("grants.eligibility.evaluate", agency.code, "benefit-eligibility", "ok")]
