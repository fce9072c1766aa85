"""Employer reporting, statements and claim queries through the partner API, with their ledger rows."""

import datetime

import pytest

from ledger.api import subject_pseudonym
from ledger.models import PendingEntry
from services.social_security.models import Contribution, Employment
from tests.factories import ResidentFactory
from tests.factories.core import agency_with_key
from tests.factories.services import api, consent, contribute, employ, entries
from tests.ledger.database import pending_discard

REPORTING = "contribution-reporting"
SHARES = {
    "pension": {"employer": "1280.00", "employee": "640.00"},
    "medical": {"employer": "720.00", "employee": "160.00"},
    "unemployment": {"employer": "40.00", "employee": "40.00"},
    "work_injury": {"employer": "16.00", "employee": "0.00"},
    "maternity": {"employer": "64.00", "employee": "0.00"},
}


def item(resident, month="2025-03", **overrides) -> dict:
    return {"national_id": resident.national_id, "month": month, "base": "8000.00", "contributions": SHARES} | overrides


def problems_of(response) -> list[str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/problems/batch-invalid"
    return response.json()["problems"]


@pytest.fixture
def employer():
    agency, key = agency_with_key(
        kind="employer",
        scopes=["social-security:contributions:write", "social-security:employments:write"],
        purposes=[REPORTING],
    )
    return agency, api(key, REPORTING)


@pytest.fixture
def staff(employer):
    agency, _client = employer
    residents = ResidentFactory.create_batch(3)
    for resident in residents:
        employ(resident, agency, started_on=datetime.date(2020, 1, 1))
    pending_discard()
    return residents


@pytest.mark.django_db
def test_a_batch_saves_five_insurances_per_item_and_records_one_entry_per_item(employer, staff):
    agency, client = employer

    response = client.post("/api/v1/social-security/contributions", [item(r) for r in staff], format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {"items": 3, "rows": 15}
    assert Contribution.objects.filter(employer=agency).count() == 15
    assert entries() == [("social_security.contributions.report", agency.code, REPORTING, "ok")] * 3
    assert set(PendingEntry.objects.values_list("actor_type", "role", "channel")) == {("agency", "employer", "api")}


@pytest.mark.django_db
def test_one_bad_item_rejects_the_whole_batch_and_lists_every_problem(employer, staff):
    _agency, client = employer
    batch = [
        item(staff[0]),
        item(staff[1], month="2025-13"),
        item(staff[2], base="-5"),
        item(staff[0], national_id="110105199003071230"),
        item(staff[1], month="2025-04", contributions={"dental": {"employer": "1", "employee": "1"}}),
    ]

    response = client.post("/api/v1/social-security/contributions", batch, format="json")

    assert problems_of(response) == [
        "items[1].month: must be a month written YYYY-MM",
        "items[2].base: must be greater than zero",
        "items[3].national_id: check character does not match",
        "items[4].contributions.dental: unknown insurance; use one of pension, medical, unemployment, "
        "work_injury, maternity",
    ]
    assert Contribution.objects.count() == 0
    # The resident whose item passed every other check was looked up: the rejection is in their history.
    entry = PendingEntry.objects.get()
    assert (entry.action, entry.subject, entry.outcome) == (
        "social_security.contributions.report",
        subject_pseudonym(staff[0]),
        "invalid",
    )


@pytest.mark.django_db
def test_a_month_outside_any_employment_and_an_unregistered_resident_are_refused(employer, staff):
    _agency, client = employer
    stranger = ResidentFactory()
    batch = [item(staff[0], month="2019-12"), item(stranger), {"national_id": "11010519900307123X"}]

    response = client.post("/api/v1/social-security/contributions", batch, format="json")

    found = problems_of(response)
    assert "items[0].month: no employment period reported by" in found[0] and found[0].endswith("covers 2019-12")
    assert found[1] == "items[1].month: no employment period reported by " + employer[0].code + " covers 2025-03"
    assert "items[2].month: must be a month written YYYY-MM" in found
    assert Contribution.objects.count() == 0


@pytest.mark.django_db
def test_a_body_that_is_not_a_list_is_a_problem(employer, staff):
    _agency, client = employer

    response = client.post("/api/v1/social-security/contributions", {"national_id": "x"}, format="json")

    assert problems_of(response) == ["items: the body must be a JSON list of items"]


@pytest.mark.django_db
def test_a_retried_batch_with_the_same_idempotency_key_is_replayed_not_written_again(employer, staff):
    agency, client = employer
    batch = [item(r) for r in staff]
    first = client.post("/api/v1/social-security/contributions", batch, format="json", HTTP_IDEMPOTENCY_KEY="march-1")

    again = client.post("/api/v1/social-security/contributions", batch, format="json", HTTP_IDEMPOTENCY_KEY="march-1")

    assert again.status_code == first.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Contribution.objects.count() == 15
    # Each resident's first entry, then the replay's: it showed the answer again, and saved nothing more.
    assert [entry.object for entry in PendingEntry.objects.order_by("id")] == [""] * 3 + ["replay"] * 3


@pytest.mark.django_db
def test_re_uploading_a_month_without_a_key_replaces_it_instead_of_doubling_it(employer, staff):
    _agency, client = employer
    client.post("/api/v1/social-security/contributions", [item(r) for r in staff], format="json")
    corrected = [item(r, base="9000.00") for r in staff]

    response = client.post("/api/v1/social-security/contributions", corrected, format="json")

    assert response.status_code == 201
    assert Contribution.objects.count() == 15
    assert set(Contribution.objects.values_list("base", flat=True)) == {9000}


@pytest.mark.django_db
def test_employment_periods_are_reported_in_a_batch_and_an_end_date_updates_them(employer):
    agency, client = employer
    resident = ResidentFactory()
    start = {"national_id": resident.national_id, "started_on": "2021-04-01"}
    client.post("/api/v1/social-security/employments", [start], format="json")

    response = client.post("/api/v1/social-security/employments", [start | {"ended_on": "2024-06-30"}], format="json")

    assert response.status_code == 201, response.content
    employment = Employment.objects.get()
    assert (employment.started_on, employment.ended_on) == (datetime.date(2021, 4, 1), datetime.date(2024, 6, 30))
    assert entries() == [("social_security.employments.report", agency.code, REPORTING, "ok")] * 2


@pytest.mark.django_db
def test_an_employment_ending_before_it_starts_is_refused(employer):
    _agency, client = employer
    resident = ResidentFactory()
    bad = {"national_id": resident.national_id, "started_on": "2021-04-01", "ended_on": "2020-01-01"}

    response = client.post("/api/v1/social-security/employments", [bad], format="json")

    assert problems_of(response) == ["items[0].ended_on: must not be before started_on"]


@pytest.mark.django_db
def test_only_an_employer_may_report(staff):
    _bank, key = agency_with_key(kind="bank", scopes=["social-security:contributions:write"], purposes=[REPORTING])

    response = api(key, REPORTING).post("/api/v1/social-security/contributions", [item(staff[0])], format="json")

    assert problems_of(response)[0].startswith("employer: ")


STATEMENT_SCOPE = "social-security:statement:read"


@pytest.fixture
def lender():
    return agency_with_key(kind="bank", scopes=[STATEMENT_SCOPE], purposes=["credit-assessment"])


@pytest.mark.django_db
def test_a_statement_needs_the_residents_consent_and_the_refusal_is_recorded(lender):
    agency, key = lender
    resident = ResidentFactory()

    response = api(key, "credit-assessment").post(
        "/api/v1/social-security/statement", {"national_id": resident.national_id}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/consent-missing"
    assert entries() == [("social_security.statement.read", agency.code, "credit-assessment", "denied")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("format", "content_type", "starts"),
    [("csv", "text/csv; charset=utf-8", b"\xef\xbb\xbfmonth,employer_code"), ("pdf", "application/pdf", b"%PDF-")],
)
def test_a_consented_partner_downloads_the_statement_as_csv_or_pdf(lender, employer, format, content_type, starts):
    agency, key = lender
    resident = ResidentFactory(full_name="李伟")
    contribute(resident, employer[0], datetime.date(2024, 1, 1), 3)
    consent(resident, agency, STATEMENT_SCOPE, "credit-assessment")
    pending_discard()

    response = api(key, "credit-assessment").post(
        "/api/v1/social-security/statement", {"national_id": resident.national_id, "format": format}, format="json"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response.content.startswith(starts)
    if format == "csv":
        assert len(response.content.decode("utf-8-sig").splitlines()) == 1 + 3 * 5
    assert entries() == [("social_security.statement.read", agency.code, "credit-assessment", "ok")]


@pytest.mark.django_db
def test_the_json_statement_lists_every_contribution(lender, employer):
    agency, key = lender
    resident = ResidentFactory()
    contribute(resident, employer[0], datetime.date(2024, 1, 1), 2, insurances=["pension"])
    consent(resident, agency, STATEMENT_SCOPE, "credit-assessment")

    response = api(key, "credit-assessment").post(
        "/api/v1/social-security/statement", {"national_id": resident.national_id}, format="json"
    )

    assert [line["month"] for line in response.json()["lines"]] == ["2024-01", "2024-02"]
    assert response.json()["national_id_masked"] != resident.national_id


@pytest.mark.django_db
def test_a_government_body_reads_a_residents_claims(employer):
    from services.social_security.models import UnemploymentClaim

    agency, key = agency_with_key(
        kind="government", scopes=["social-security:eligibility:read"], purposes=["benefit-eligibility"]
    )
    resident = ResidentFactory()
    UnemploymentClaim.objects.create(resident=resident, unemployed_since=datetime.date(2025, 1, 1))

    response = api(key, "benefit-eligibility").post(
        "/api/v1/social-security/claims/query", {"national_id": resident.national_id}, format="json"
    )

    assert response.status_code == 200
    assert [claim["status"] for claim in response.json()["claims"]] == ["submitted"]
    assert entries() == [("social_security.claims.read", agency.code, "benefit-eligibility", "ok")]


@pytest.mark.django_db
def test_an_employment_without_a_start_date_or_with_a_bad_one_is_refused(employer):
    _agency, client = employer
    resident = ResidentFactory()
    batch = [{"national_id": resident.national_id}, {"national_id": resident.national_id, "started_on": "2021-02-30"}]

    response = client.post("/api/v1/social-security/employments", batch, format="json")

    assert problems_of(response) == [
        "items[0].started_on: must be a date written YYYY-MM-DD",
        "items[1].started_on: must be a date written YYYY-MM-DD",
    ]
    assert Employment.objects.count() == 0
