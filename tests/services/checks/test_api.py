"""POST /api/v1/checks: booleans only, every predicate scoped, consented and recorded."""

import datetime

import pytest
from django.utils import timezone

from cards.models import Card
from ledger.api import subject_pseudonym
from ledger.models import PendingEntry
from services.checks.predicates import PREDICATES
from services.social_security.models import UnemploymentClaim
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.factories.services import api, consent, contribute, employer, entries
from tests.idnumbers import make_national_id
from tests.ledger.database import pending_discard

CREDIT = "credit-assessment"
ELIGIBILITY = "benefit-eligibility"
ALL_SCOPES = sorted({predicate.scope for predicate in PREDICATES.values()})


@pytest.fixture
def government():
    """A government body holding every check scope, with consent from the residents it asks about."""
    agency, key = agency_with_key(kind="government", scopes=ALL_SCOPES, purposes=[ELIGIBILITY])
    return agency, api(key, ELIGIBILITY)


def ask(client, resident_or_id, *predicates):
    national_id = getattr(resident_or_id, "national_id", resident_or_id)
    return client.post("/api/v1/checks", {"national_id": national_id, "predicates": list(predicates)}, format="json")


def consenting(agency, purpose=ELIGIBILITY, **fields):
    resident = ResidentFactory(**fields)
    for scope in ALL_SCOPES:
        if scope != "checks:card-active":
            consent(resident, agency, scope, purpose)
    return resident


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def make_insured(resident):
    contribute(resident, employer(), this_month(), 1, insurances=["medical"])


def make_contributor(resident, months):
    contribute(resident, employer(), this_month().replace(year=this_month().year - 20), months, insurances=["pension"])


def make_beneficiary(resident):
    UnemploymentClaim.objects.create(
        resident=resident,
        unemployed_since=timezone.localdate(),
        status="approved",
        entitled_months=3,
        benefit_starts_on=timezone.localdate() - datetime.timedelta(days=10),
        benefit_ends_on=timezone.localdate() + datetime.timedelta(days=80),
    )


CASES = [
    ("insured_medical", make_insured, "checks.insured_medical.evaluate"),
    (
        "contribution_months_gte:12",
        lambda resident: make_contributor(resident, 12),
        "checks.contribution_months_gte.evaluate",
    ),
    ("receiving_unemployment_benefit", make_beneficiary, "checks.receiving_unemployment_benefit.evaluate"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("predicate", "make_true", "action"), CASES, ids=[case[0] for case in CASES])
def test_each_data_predicate_is_true_when_the_data_says_so_and_false_otherwise(
    government, predicate, make_true, action
):
    agency, client = government
    yes, no = consenting(agency), consenting(agency)
    make_true(yes)
    if predicate.startswith("contribution_months"):
        make_contributor(no, 11)
    pending_discard()

    answers = ask(client, yes, predicate).json(), ask(client, no, predicate).json()

    assert answers == ({"results": {predicate: True}}, {"results": {predicate: False}})
    assert entries() == [(action, agency.code, ELIGIBILITY, "ok")] * 2
    assert list(PendingEntry.objects.values_list("object", flat=True)) == [predicate, predicate]


@pytest.mark.django_db
def test_age_gte_is_true_from_the_birthday_on(government):
    agency, client = government
    today = timezone.localdate()
    born = today.replace(year=today.year - 30) if (today.month, today.day) != (2, 29) else today.replace(day=28)
    resident = consenting(agency, national_id_value=make_national_id(birth=born.strftime("%Y%m%d")))

    pending_discard()

    response = ask(client, resident, "age_gte:30", "age_gte:31")

    assert response.json() == {"results": {"age_gte:30": True, "age_gte:31": False}}
    assert entries() == [("checks.age_gte.evaluate", agency.code, ELIGIBILITY, "ok")] * 2


@pytest.mark.django_db
def test_resident_of_province_compares_the_province_of_the_national_id(government):
    agency, client = government
    resident = consenting(agency, national_id_value=make_national_id(county="310101"))

    pending_discard()

    response = ask(client, resident, "resident_of_province:31", "resident_of_province:11")

    assert response.json() == {"results": {"resident_of_province:31": True, "resident_of_province:11": False}}
    assert entries() == [("checks.resident_of_province.evaluate", agency.code, ELIGIBILITY, "ok")] * 2


@pytest.mark.django_db
def test_a_bank_learns_two_booleans_and_the_resident_can_see_that_it_asked():
    bank, key = agency_with_key(
        kind="bank", scopes=["checks:insured-medical", "checks:contribution-months"], purposes=[CREDIT]
    )
    resident = ResidentFactory()
    consent(resident, bank, "checks:insured-medical", CREDIT)
    consent(resident, bank, "checks:contribution-months", CREDIT)
    make_insured(resident)
    make_contributor(resident, 12)
    pending_discard()

    response = ask(api(key, CREDIT), resident, "insured_medical", "contribution_months_gte:12")

    assert response.json() == {"results": {"insured_medical": True, "contribution_months_gte:12": True}}
    mine = PendingEntry.objects.filter(subject=subject_pseudonym(resident))
    assert [(e.actor_id, e.action, e.object) for e in mine] == [
        (bank.code, "checks.insured_medical.evaluate", "insured_medical"),
        (bank.code, "checks.contribution_months_gte.evaluate", "contribution_months_gte:12"),
    ]


@pytest.mark.django_db
def test_without_consent_nothing_is_answered_and_each_refused_predicate_is_recorded(government):
    agency, client = government
    resident = ResidentFactory()
    make_insured(resident)
    consent(resident, agency, "checks:age", ELIGIBILITY)
    pending_discard()

    response = ask(client, resident, "age_gte:18", "insured_medical")

    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/consent-missing"
    assert "true" not in response.content.decode().lower()
    assert entries() == [("checks.insured_medical.evaluate", agency.code, ELIGIBILITY, "denied")]


@pytest.mark.django_db
def test_an_unknown_predicate_is_a_400_problem_and_nothing_is_recorded(government):
    agency, client = government
    resident = consenting(agency)
    pending_discard()

    for bad in ("credit_score_gte:700", "age_gte", "age_gte:old", "insured_medical:1", "resident_of_province:99"):
        response = ask(client, resident, "insured_medical", bad)

        assert response.status_code == 400, bad
        assert response.json()["type"] == "/api/problems/predicate-unknown"
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_malformed_national_id_is_a_400_problem(government):
    _agency, client = government

    response = ask(client, "110105199003071230", "age_gte:18")

    assert response.status_code == 400
    assert response.json()["type"] == "/api/problems/national-id-invalid"


@pytest.mark.django_db
def test_an_unregistered_resident_is_refused_like_a_missing_consent(government):
    _agency, client = government

    response = ask(client, make_national_id(sequence=777), "insured_medical")

    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/consent-missing"
    # The same denied entry a registered resident without consent gets, under no resident's pseudonym.
    assert list(PendingEntry.objects.values_list("action", "outcome")) == [
        ("checks.insured_medical.evaluate", "denied")
    ]


@pytest.mark.django_db
def test_a_predicate_whose_scope_the_agency_lacks_is_refused():
    _bank, key = agency_with_key(kind="bank", scopes=["checks:insured-medical"], purposes=[CREDIT])
    resident = ResidentFactory()

    response = ask(api(key, CREDIT), resident, "insured_medical", "contribution_months_gte:12")

    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/predicate-not-allowed"
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_purpose_that_does_not_allow_the_predicate_is_refused():
    _bank, key = agency_with_key(kind="bank", scopes=["checks:unemployment-benefit"], purposes=[CREDIT])

    response = ask(api(key, CREDIT), ResidentFactory(), "receiving_unemployment_benefit")

    assert response.status_code == 403
    assert "does not allow" in response.json()["detail"]


@pytest.mark.django_db
def test_card_active_asks_the_card_register_and_needs_no_consent(government):
    agency, client = government
    holder = CardFactory().resident
    suspended = CardFactory(status=Card.Status.SUSPENDED).resident
    pending_discard()

    answers = [ask(client, resident, "card_active").json() for resident in (holder, suspended, ResidentFactory())]

    assert answers == [
        {"results": {"card_active": True}},
        {"results": {"card_active": False}},
        {"results": {"card_active": False}},
    ]
    assert entries() == [("checks.card_active.evaluate", agency.code, ELIGIBILITY, "ok")] * 3
