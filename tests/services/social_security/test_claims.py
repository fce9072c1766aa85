"""The unemployment benefit rule and the claim's life: submit, assess (task), decide; each step recorded."""

import datetime
from decimal import Decimal

import pytest

from ledger.api import Actor, access_context
from portal.models import User
from services.social_security import rules
from services.social_security.actions import (
    unemployment_claim_assess,
    unemployment_claim_decide,
    unemployment_claim_submit,
)
from services.social_security.errors import ClaimAlreadyOpen, ClaimNotDecidable
from services.social_security.models import UnemploymentClaim
from services.social_security.months import month_add
from services.social_security.selectors import claim_list_for_resident, unemployment_benefit_is_paid
from services.social_security.tasks import unemployment_claim_assess_task
from tests.factories import ResidentFactory
from tests.factories.services import contribute, employer, entries
from tests.ledger.database import pending_discard

UNEMPLOYED_SINCE = datetime.date(2025, 7, 15)


@pytest.mark.parametrize(("months", "paid"), [(0, 0), (11, 0), (12, 3), (23, 3), (24, 6), (59, 6), (60, 12)])
def test_months_contributed_decide_the_months_paid(months, paid):
    assert rules.entitled_months(months) == paid


def test_the_monthly_amount_is_60_percent_of_the_average_recent_base_capped():
    assert rules.monthly_benefit([Decimal("4000.00")] * 12) == Decimal("2400.00")
    assert rules.monthly_benefit([Decimal("4000.00")] * 12 + [Decimal("99999")] * 10) == Decimal("2400.00")
    assert rules.monthly_benefit([Decimal("20000.00")] * 12) == rules.MONTHLY_CAP


@pytest.fixture
def resident_web():
    with access_context(actor=Actor(type="resident", id="r1"), role="resident", channel="web", purpose="self-service"):
        yield


@pytest.fixture
def system_task():
    with access_context(
        actor=Actor(type="system", id="claims-assessor"),
        role="system",
        channel="task",
        purpose="benefit-administration",
    ):
        yield


def history(resident, months: int, *, base="5000.00"):
    """Unemployment-insurance contributions for the MONTHS months before UNEMPLOYED_SINCE's month."""
    contribute(
        resident,
        employer(),
        month_add(datetime.date(2025, 7, 1), -months),
        months,
        insurances=["unemployment"],
        base=base,
    )


@pytest.mark.django_db
def test_submitting_records_and_the_assessment_task_records_too(resident_web, django_capture_on_commit_callbacks):
    resident = ResidentFactory()
    history(resident, 30)
    with django_capture_on_commit_callbacks() as queued:
        claim = unemployment_claim_submit(resident=resident, unemployed_since=UNEMPLOYED_SINCE)

    # Run the task in this process, as a worker would, whether or not a broker is configured.
    unemployment_claim_assess_task(claim.pk)

    assert any(
        getattr(callback, "func", None) == unemployment_claim_assess_task.delay and callback.args == (claim.pk,)
        for callback in queued
    )
    claim.refresh_from_db()
    assert (claim.status, claim.contribution_months, claim.entitled_months) == ("assessed", 30, 6)
    assert claim.monthly_amount == Decimal("3000.00")  # 60 % of 5000
    assert entries() == [
        ("social_security.claims.submit", "r1", "self-service", "ok"),
        ("social_security.claims.assess", "claims-assessor", "benefit-administration", "ok"),
    ]


@pytest.mark.django_db
def test_contributions_older_than_five_years_or_after_unemployment_do_not_count(system_task):
    resident = ResidentFactory()
    contribute(resident, employer(), datetime.date(2018, 1, 1), 11, insurances=["unemployment"])  # before the window
    contribute(resident, employer(), datetime.date(2020, 7, 1), 11, insurances=["unemployment"])  # inside
    contribute(resident, employer(), datetime.date(2025, 7, 1), 3, insurances=["unemployment"])  # after
    contribute(resident, employer(), datetime.date(2021, 7, 1), 12, insurances=["pension"])  # another insurance
    claim = UnemploymentClaim.objects.create(resident=resident, unemployed_since=UNEMPLOYED_SINCE)

    claim = unemployment_claim_assess(claim=claim)

    assert (claim.status, claim.contribution_months, claim.entitled_months) == ("ineligible", 11, 0)


@pytest.mark.django_db
def test_the_window_edge_counts_exactly_sixty_months(system_task):
    resident = ResidentFactory()
    history(resident, 61)
    claim = UnemploymentClaim.objects.create(resident=resident, unemployed_since=UNEMPLOYED_SINCE)

    claim = unemployment_claim_assess(claim=claim)

    assert (claim.contribution_months, claim.entitled_months) == (60, 12)


@pytest.mark.django_db
def test_a_second_open_claim_is_refused(resident_web):
    resident = ResidentFactory()
    unemployment_claim_submit(resident=resident, unemployed_since=UNEMPLOYED_SINCE)

    with pytest.raises(ClaimAlreadyOpen):
        unemployment_claim_submit(resident=resident, unemployed_since=UNEMPLOYED_SINCE)


@pytest.mark.django_db
def test_approval_starts_the_benefit_for_the_months_assessed(system_task):
    resident = ResidentFactory()
    history(resident, 12)
    claim = unemployment_claim_assess(
        claim=UnemploymentClaim.objects.create(resident=resident, unemployed_since=UNEMPLOYED_SINCE)
    )
    officer = User.objects.create_user(username="officer")
    pending_discard()

    claim = unemployment_claim_decide(claim=claim, approve=True, decided_by=officer)

    assert claim.status == "approved"
    today = claim.benefit_starts_on
    assert unemployment_benefit_is_paid(resident=resident, on=today)
    assert unemployment_benefit_is_paid(resident=resident, on=claim.benefit_ends_on - datetime.timedelta(days=1))
    assert not unemployment_benefit_is_paid(resident=resident, on=claim.benefit_ends_on)
    assert (claim.benefit_ends_on - today).days in range(89, 93)  # three months
    assert entries() == [("social_security.claims.decide", "claims-assessor", "benefit-administration", "ok")]


@pytest.mark.django_db
def test_an_ineligible_claim_cannot_be_approved(system_task):
    resident = ResidentFactory()
    claim = unemployment_claim_assess(
        claim=UnemploymentClaim.objects.create(resident=resident, unemployed_since=UNEMPLOYED_SINCE)
    )

    with pytest.raises(ClaimNotDecidable):
        unemployment_claim_decide(claim=claim, approve=True, decided_by=None)


@pytest.mark.django_db
def test_the_resident_sees_their_claims_and_the_read_is_recorded(resident_web):
    resident = ResidentFactory()
    UnemploymentClaim.objects.create(resident=resident, unemployed_since=UNEMPLOYED_SINCE)

    claims = claim_list_for_resident(resident=resident)

    assert len(claims) == 1
    assert entries() == [("social_security.claims.read", "r1", "self-service", "ok")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_open_one_claim():
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency are tested on PostgreSQL; SQLite serialises writers")
    resident = ResidentFactory()
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            with access_context(
                actor=Actor(type="resident", id="r1"), role="resident", channel="web", purpose="self-service"
            ):
                barrier.wait()
                unemployment_claim_submit(resident=resident, unemployed_since=UNEMPLOYED_SINCE)
            outcomes.append("submitted")
        except ClaimAlreadyOpen:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "submitted"]
    assert UnemploymentClaim.objects.filter(resident=resident).count() == 1
