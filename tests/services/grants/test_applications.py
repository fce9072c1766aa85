"""Applications: the one-per-programme rule, the eligibility check, every transition and sign-off rule, appeals."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from services.grants import actions
from services.grants.errors import (
    ApplicationExists,
    BudgetExceeded,
    ProgrammeClosed,
    SignOffRefused,
    TransitionNotAllowed,
)
from services.grants.models import Application
from tests.factories import ResidentFactory, UserFactory
from tests.factories.grants import ProgrammeFactory, apply, as_resident, assess, caseworker, staff, to_review
from tests.factories.services import employer, entries

pytestmark = pytest.mark.django_db
S = Application.Status


@pytest.fixture
def reviewer():
    return caseworker("review_application", username="reviewer")


@pytest.fixture
def approver():
    return caseworker("approve_application", username="approver")


@pytest.fixture
def approver2():
    return caseworker("approve_application", username="approver2")


@pytest.fixture
def tasks_in_process():
    """Run queued tasks in this process, as a worker would, whether or not a broker is configured."""
    from portal.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


def eligible(programme=None, resident=None, **fields):
    application = apply(programme or ProgrammeFactory(), resident or ResidentFactory(), **fields)
    return assess(application)


def test_applying_submits_and_the_task_checks_eligibility_on_commit(
    django_capture_on_commit_callbacks, tasks_in_process
):
    programme = ProgrammeFactory(age_min=18, province_code="11")

    with django_capture_on_commit_callbacks(execute=True):
        application = apply(programme, ResidentFactory())

    application.refresh_from_db()
    assert application.status == S.ELIGIBLE
    assert [check["rule"] for check in application.eligibility] == ["age_gte:18", "resident_of_province:11"]
    assert all(check["passed"] for check in application.eligibility)
    assert application.amount == Decimal("1000.00")


def test_each_failed_rule_is_stored_with_its_reason():
    programme = ProgrammeFactory(age_max=30, province_code="31", income_ceiling=Decimal("3000"))

    application = eligible(programme, declared_income=Decimal("4500"))

    assert application.status == S.INELIGIBLE
    assert [(c["rule"], c["passed"]) for c in application.eligibility] == [
        ("age_lte:30", False),
        ("resident_of_province:31", False),
        ("declared_income_lte:3000.00", False),
    ]
    assert "exceeds the ceiling" in application.eligibility[2]["reason"]


def test_contribution_months_and_insurance_come_from_the_predicates():
    from tests.factories.services import contribute

    resident = ResidentFactory()
    contribute(resident, employer(), datetime.date(2020, 1, 1), 12, insurances=["pension"])
    programme = ProgrammeFactory(contribution_months_min=12, require_insured_medical=True)

    application = eligible(programme, resident)

    assert [(c["rule"], c["passed"]) for c in application.eligibility] == [
        ("insured_medical", False),
        ("contribution_months_gte:12", True),
    ]


@pytest.mark.parametrize(
    ("formula", "fields", "expected"),
    [
        ("fixed", {}, "1000.00"),
        ("per_dependant", {"dependants": 3}, "1600.00"),
        ("per_dependant", {"dependants": 40}, "3000.00"),
        ("income_top_up", {"declared_income": Decimal("2600")}, "400.00"),
        ("income_top_up", {"declared_income": Decimal("500")}, "1000.00"),
    ],
)
def test_the_amount_follows_the_programme_formula(formula, fields, expected):
    programme = ProgrammeFactory(formula=formula, amount_per_dependant=Decimal("200"), income_ceiling=Decimal("3000"))

    application = eligible(programme, **fields)

    assert application.amount == Decimal(expected)


def test_a_second_application_to_the_same_programme_is_refused():
    programme, resident = ProgrammeFactory(), ResidentFactory()
    apply(programme, resident)

    with pytest.raises(ApplicationExists):
        apply(programme, resident)


def test_the_database_holds_one_application_per_resident_and_programme():
    application = apply(ProgrammeFactory(), ResidentFactory())

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            programme=application.programme, resident=application.resident, payout_account="6222020200001234567"
        )


def test_a_closed_programme_takes_no_application():
    programme = ProgrammeFactory(closes_on=datetime.date(2020, 1, 1), opens_on=datetime.date(2019, 1, 1))

    with pytest.raises(ProgrammeClosed):
        apply(programme, ResidentFactory())


def test_a_shared_phone_or_payout_account_is_flagged_for_the_reviewer():
    programme = ProgrammeFactory()
    ResidentFactory(phone="13900000001")
    eligible(programme, ResidentFactory(), payout_account="6222000000000000001")

    application = eligible(programme, ResidentFactory(phone="13900000001"), payout_account="6222000000000000001")

    assert application.flags == ["phone_shared", "payout_account_shared"]


def test_the_full_path_with_one_approver_commits_the_budget(reviewer, approver):
    application = eligible()
    to_review(application, reviewer)

    with staff(approver):
        approved = actions.application_approve(application=application, user=approver, reason="meets every rule")

    assert approved.status == S.APPROVED
    approved.programme.refresh_from_db()
    assert approved.programme.budget_committed == Decimal("1000.00")


def test_a_reviewer_never_approves_what_they_reviewed():
    both = caseworker("review_application", "approve_application")
    application = eligible()
    to_review(application, both)

    with staff(both), pytest.raises(SignOffRefused):
        actions.application_approve(application=application, user=both, reason="looks fine")


def test_approval_needs_the_approver_permission(reviewer):
    application = eligible()
    to_review(application, reviewer)
    clerk = caseworker("review_application")

    with staff(clerk), pytest.raises(SignOffRefused):
        actions.application_approve(application=application, user=clerk, reason="looks fine")


def test_review_needs_the_reviewer_permission(approver):
    application = eligible()

    with staff(approver), pytest.raises(SignOffRefused):
        actions.application_review_start(application=application, user=approver)


def test_nobody_decides_their_own_application():
    user = caseworker("review_application", "approve_application")
    resident = ResidentFactory(user=user)
    application = eligible(resident=resident)

    with staff(user), pytest.raises(SignOffRefused):
        actions.application_review_start(application=application, user=user)


def test_only_the_reviewer_who_took_it_recommends_it(reviewer):
    other = caseworker("review_application")
    application = eligible()
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)

    with staff(other), pytest.raises(SignOffRefused):
        actions.application_recommend(application=application, user=other, reason="fine")


def test_approval_waits_for_the_reviewers_recommendation(reviewer, approver):
    application = eligible()
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)

    with staff(approver), pytest.raises(TransitionNotAllowed):
        actions.application_approve(application=application, user=approver, reason="fine")


def test_above_the_threshold_two_different_approvers_sign(reviewer, approver, approver2):
    application = eligible(ProgrammeFactory(amount_base=Decimal("8000"), two_approvers_above=Decimal("5000")))
    to_review(application, reviewer)

    with staff(approver):
        first = actions.application_approve(application=application, user=approver, reason="checked income")
        assert first.status == S.UNDER_REVIEW
        with pytest.raises(SignOffRefused):
            actions.application_approve(application=application, user=approver, reason="again")
    with staff(approver2):
        second = actions.application_approve(application=application, user=approver2, reason="checked household")

    assert second.status == S.APPROVED
    assert list(second.sign_offs.values_list("step", "user__username")) == [
        ("review", "reviewer"),
        ("approval", "approver"),
        ("approval", "approver2"),
    ]


def test_at_the_threshold_one_approver_is_enough(reviewer, approver):
    application = eligible(ProgrammeFactory(amount_base=Decimal("5000"), two_approvers_above=Decimal("5000")))
    to_review(application, reviewer)

    with staff(approver):
        assert actions.application_approve(application=application, user=approver, reason="ok").status == S.APPROVED


def test_an_approval_over_the_budget_is_refused_and_changes_nothing(reviewer, approver):
    programme = ProgrammeFactory(budget_cap=Decimal("1500"))
    first, second = eligible(programme), eligible(programme)
    to_review(first, reviewer)
    to_review(second, reviewer)
    with staff(approver):
        actions.application_approve(application=first, user=approver, reason="ok")

        with pytest.raises(BudgetExceeded):
            actions.application_approve(application=second, user=approver, reason="ok")

    second.refresh_from_db()
    programme.refresh_from_db()
    assert second.status == S.UNDER_REVIEW
    assert programme.budget_committed == Decimal("1000.00")


def test_the_reviewer_rejects_with_a_reason(reviewer):
    application = eligible()
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)
        rejected = actions.application_reject(application=application, user=reviewer, reason="income not proven")

    assert rejected.status == S.REJECTED
    assert rejected.decision_reason == "income not proven"


def test_an_approver_rejects_only_after_the_review(reviewer, approver):
    application = eligible()
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)

    with staff(approver), pytest.raises(SignOffRefused):
        actions.application_reject(application=application, user=approver, reason="no")


def test_a_decision_without_a_reason_is_refused(reviewer):
    from services.grants.errors import ApplicationInvalid

    application = eligible()
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)

        with pytest.raises(ApplicationInvalid):
            actions.application_reject(application=application, user=reviewer, reason="  ")


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (S.DRAFT, "review_start"),
        (S.SUBMITTED, "review_start"),
        (S.INELIGIBLE, "review_start"),
        (S.APPROVED, "review_start"),
        (S.PAID, "reject"),
        (S.ELIGIBLE, "reject"),
        (S.SUBMITTED, "submit"),
        (S.ELIGIBLE, "appeal"),
        (S.PAID, "appeal"),
    ],
)
def test_a_transition_that_is_not_allowed_raises(status, call, reviewer):
    application = eligible()
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()

    with staff(reviewer), pytest.raises(TransitionNotAllowed):
        if call == "review_start":
            actions.application_review_start(application=application, user=reviewer)
        elif call == "reject":
            actions.application_reject(application=application, user=reviewer, reason="no")
        elif call == "submit":
            actions.application_submit(application=application)
        else:
            actions.application_appeal(application=application, reason="please")


def test_the_transition_table_covers_every_status():
    assert set(actions.TRANSITIONS) == set(S.values)


def test_an_appeal_reopens_a_rejection_for_a_different_reviewer(reviewer, approver):
    application = eligible()
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)
        actions.application_reject(application=application, user=reviewer, reason="income not proven")
    with as_resident():
        appealed = actions.application_appeal(application=application, reason="payslips attached")

    assert (appealed.status, appealed.round, appealed.reviewer) == (S.UNDER_REVIEW, 2, None)
    with staff(reviewer), pytest.raises(SignOffRefused):
        actions.application_review_start(application=application, user=reviewer)
    second_reviewer = caseworker("review_application")
    to_review(application, second_reviewer, reason="payslips check out")
    with staff(approver):
        assert actions.application_approve(application=application, user=approver, reason="ok").status == S.APPROVED


def test_an_ineligible_application_can_be_appealed_once():
    application = eligible(ProgrammeFactory(province_code="31"))
    assert application.status == S.INELIGIBLE

    with as_resident():
        appealed = actions.application_appeal(application=application, reason="I moved to Shanghai")
    assert appealed.status == S.UNDER_REVIEW
    reviewer = caseworker("review_application")
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)
        actions.application_reject(application=application, user=reviewer, reason="no residence permit")

    from services.grants.errors import ApplicationInvalid

    with as_resident(), pytest.raises(ApplicationInvalid):
        actions.application_appeal(application=application, reason="again")


def test_each_change_of_state_emails_the_resident_in_their_language(
    django_capture_on_commit_callbacks, tasks_in_process
):
    resident = ResidentFactory(email="li@example.org")
    programme = ProgrammeFactory(name_zh_hans="冬季取暖补贴")

    with django_capture_on_commit_callbacks(execute=True):
        apply(programme, resident, language="zh-hans")

    assert [message.to for message in mail.outbox] == [["li@example.org"], ["li@example.org"]]
    assert "冬季取暖补贴" in mail.outbox[0].body
    assert mail.outbox[0].body.startswith("我们")
    assert "冬季取暖补贴" in mail.outbox[1].body


def test_the_actions_record_actor_purpose_and_outcome(reviewer, approver):
    application = apply(ProgrammeFactory(), ResidentFactory())
    assess(application)
    to_review(application, reviewer)
    with staff(approver):
        actions.application_approve(application=application, user=approver, reason="ok")

    assert entries(action__startswith="grants.applications") == [
        ("grants.applications.create", "r1", "self-service", "ok"),
        ("grants.applications.submit", "r1", "self-service", "ok"),
        ("grants.applications.assess", "t", "grant-administration", "ok"),
        ("grants.applications.review_start", f"user:{reviewer.pk}", "grant-administration", "ok"),
        ("grants.applications.recommend", f"user:{reviewer.pk}", "grant-administration", "ok"),
        ("grants.applications.approve", f"user:{approver.pk}", "grant-administration", "ok"),
    ]


def test_a_plain_user_is_no_caseworker():
    application = eligible()
    user = UserFactory()

    with staff(user), pytest.raises(SignOffRefused):
        actions.application_review_start(application=application, user=user)


@pytest.mark.django_db
def test_a_resident_reading_their_application_records_one_entry():
    from services.grants.selectors import application_get_for_resident

    resident = ResidentFactory()
    application = apply(ProgrammeFactory(), resident)
    with as_resident():
        before = len(entries())
        found = application_get_for_resident(resident=resident, application_id=application.pk)

    assert found == application
    assert entries()[before:] == [("grants.applications.read", "r1", "self-service", "ok")]
