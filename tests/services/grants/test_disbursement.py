"""Disbursement: batches per cycle onto the card, re-runs, bank callbacks, the budget under concurrent approvals."""

import csv
import io
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from cards.models import CardPayment
from services.grants import actions
from services.grants.errors import (
    BudgetExceeded,
    CycleNotApproved,
    DisbursementConflict,
    DisbursementUnknown,
    SignOffRefused,
)
from services.grants.models import Application, Disbursement
from services.grants.selectors import reconciliation_csv, reconciliation_summary
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.grants import ProgrammeFactory, apply, assess, caseworker, cycle_signed_off, staff, to_review

S = Application.Status


def approved_application(programme, reviewer, approver, *, card=True):
    resident = ResidentFactory()
    if card:
        CardFactory(resident=resident)
    application = assess(apply(programme, resident))
    to_review(application, reviewer)
    with staff(approver):
        return actions.application_approve(application=application, user=approver, reason="ok")


@pytest.fixture
def setup(db):
    bank = AgencyFactory(kind="bank")
    programme = ProgrammeFactory(paying_agency=bank)
    reviewer = caseworker("review_application")
    approver = caseworker("approve_application")
    cycle = cycle_signed_off(programme, creator=approver)
    return bank, programme, cycle, reviewer, approver


def run(cycle):
    with staff(purpose="grant-administration"):
        return actions.cycle_batch_run(cycle=cycle)


def confirm(disbursement, bank, outcome="paid"):
    with staff(purpose="grant-disbursement"):
        return actions.disbursement_confirm(
            reference=disbursement.reference, agency=bank, outcome=outcome, bank_reference="B-1"
        )


def test_a_batch_schedules_each_approved_application_onto_its_card(setup):
    bank, programme, cycle, reviewer, approver = setup
    first = approved_application(programme, reviewer, approver)
    second = approved_application(programme, reviewer, approver)
    without_card = approved_application(programme, reviewer, approver, card=False)

    result = run(cycle)

    assert (result.scheduled, result.without_card) == (2, 1)
    assert set(Disbursement.objects.values_list("application_id", flat=True)) == {first.pk, second.pk}
    assert Application.objects.get(pk=first.pk).status == S.SCHEDULED
    assert Application.objects.get(pk=without_card.pk).status == S.APPROVED


def test_re_running_a_batch_schedules_nobody_twice(setup):
    bank, programme, cycle, reviewer, approver = setup
    approved_application(programme, reviewer, approver)
    run(cycle)
    Application.objects.update(status=S.APPROVED)  # as if the batch crashed after the insert

    again = run(cycle)

    assert again.scheduled == 0
    assert Disbursement.objects.count() == 1


def test_the_bank_confirms_paid_and_the_money_appears_on_the_card_once(setup):
    bank, programme, cycle, reviewer, approver = setup
    application = approved_application(programme, reviewer, approver)
    run(cycle)
    disbursement = Disbursement.objects.get()

    confirm(disbursement, bank)
    confirm(disbursement, bank)

    payment = CardPayment.objects.get()
    assert (payment.amount, payment.card_id) == (Decimal("1000.00"), disbursement.card_id)
    assert Application.objects.get(pk=application.pk).status == S.PAID


def test_a_confirmation_with_another_outcome_is_refused(setup):
    bank, programme, cycle, reviewer, approver = setup
    approved_application(programme, reviewer, approver)
    run(cycle)
    confirm(Disbursement.objects.get(), bank)

    with pytest.raises(DisbursementConflict):
        confirm(Disbursement.objects.get(), bank, outcome="failed")


def test_only_the_programmes_paying_bank_confirms(setup):
    bank, programme, cycle, reviewer, approver = setup
    approved_application(programme, reviewer, approver)
    run(cycle)

    with pytest.raises(DisbursementUnknown):
        confirm(Disbursement.objects.get(), AgencyFactory(kind="bank"))


def test_a_failed_payment_is_tried_again_in_the_next_cycle_and_paid_once(setup):
    bank, programme, cycle, reviewer, approver = setup
    application = approved_application(programme, reviewer, approver)
    run(cycle)
    confirm(Disbursement.objects.get(cycle=cycle), bank, outcome="failed")
    next_cycle = cycle_signed_off(programme, creator=approver)

    run(next_cycle)
    confirm(Disbursement.objects.get(cycle=next_cycle), bank)
    run(next_cycle)

    assert Application.objects.get(pk=application.pk).status == S.PAID
    assert list(Disbursement.objects.order_by("id").values_list("status", flat=True)) == ["failed", "paid"]
    assert CardPayment.objects.count() == 1


def test_the_reconciliation_counts_scheduled_paid_failed_and_unconfirmed(setup):
    bank, programme, cycle, reviewer, approver = setup
    for _ in range(3):
        approved_application(programme, reviewer, approver)
    run(cycle)
    paid, failed, _open = Disbursement.objects.order_by("id")
    confirm(paid, bank)
    confirm(failed, bank, outcome="failed")

    summary = reconciliation_summary(cycle=cycle)
    with staff(purpose="grant-administration"):
        csv_text = reconciliation_csv(cycle=cycle)

    assert summary.scheduled == (3, Decimal("3000.00"))
    assert summary.paid == (1, Decimal("1000.00"))
    assert summary.failed == (1, Decimal("1000.00"))
    assert summary.unconfirmed == (1, Decimal("1000.00"))
    assert csv_text.splitlines()[0].startswith("reference,application,card_number,amount,status")
    assert len(csv_text.splitlines()) == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_approvals_never_overrun_the_budget():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency are tested on PostgreSQL; SQLite serialises writers")
    programme = ProgrammeFactory(budget_cap=Decimal("7500.00"))
    reviewer = caseworker("review_application")
    approvers = [caseworker("approve_application") for _ in range(20)]
    applications = [assess(apply(programme, ResidentFactory())) for _ in range(20)]
    for application in applications:
        to_review(application, reviewer)
    barrier = threading.Barrier(20)
    outcomes = []

    def approve(application, approver):
        try:
            with staff(approver):
                barrier.wait()
                actions.application_approve(application=application, user=approver, reason="ok")
            outcomes.append("approved")
        except BudgetExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=pair) for pair in zip(applications, approvers, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    programme.refresh_from_db()
    assert sorted(outcomes) == ["approved"] * 7 + ["refused"] * 13
    assert programme.budget_committed == Decimal("7000.00")
    assert Application.objects.filter(status=S.APPROVED).count() == 7


def test_nobody_signs_off_a_cycle_they_opened(setup):
    _bank, programme, _cycle, _reviewer, _approver = setup
    opener = caseworker("add_cycle", "approve_cycle")
    with staff(opener):
        cycle = actions.cycle_create(programme=programme, pays_on=programme.closes_on, user=opener)

    with staff(opener), pytest.raises(SignOffRefused):
        actions.cycle_approve(cycle=cycle, user=opener)

    cycle.refresh_from_db()
    assert cycle.approved_by is None


def test_a_cycle_not_signed_off_pays_nobody(setup):
    _bank, programme, _cycle, reviewer, approver = setup
    approved_application(programme, reviewer, approver)
    with staff(approver):
        unsigned = actions.cycle_create(programme=programme, pays_on=programme.closes_on, user=approver)

    with pytest.raises(CycleNotApproved):
        run(unsigned)

    assert not Disbursement.objects.filter(cycle=unsigned).exists()


def test_the_signer_of_a_cycle_cannot_run_its_batch_and_an_unsigned_one_is_not_queued(
    setup, django_capture_on_commit_callbacks
):
    _bank, programme, cycle, _reviewer, _approver = setup
    signer = cycle.approved_by
    signer.user_permissions.add(Permission.objects.get(codename="run_disbursement"))
    signer = type(signer).objects.get(pk=signer.pk)
    runner = caseworker("run_disbursement")
    with staff(runner):
        unsigned = actions.cycle_create(programme=programme, pays_on=programme.closes_on, user=runner)

    with django_capture_on_commit_callbacks() as callbacks:
        with staff(signer), pytest.raises(SignOffRefused):
            actions.cycle_batch_queue(cycle=cycle, user=signer)
        with staff(runner), pytest.raises(CycleNotApproved):
            actions.cycle_batch_queue(cycle=unsigned, user=runner)
        with staff(runner):
            actions.cycle_batch_queue(cycle=cycle, user=runner)

    assert len(callbacks) == 1


def test_the_reconciliation_csv_writes_a_banks_formula_as_text(setup):
    bank, programme, cycle, reviewer, approver = setup
    approved_application(programme, reviewer, approver)
    run(cycle)
    with staff(purpose="grant-disbursement"):
        actions.disbursement_confirm(
            reference=Disbursement.objects.get().reference,
            agency=bank,
            outcome="paid",
            bank_reference='=HYPERLINK("http://evil.example","x")',
        )

    with staff(purpose="grant-administration"):
        rows = list(csv.reader(io.StringIO(reconciliation_csv(cycle=cycle))))

    assert rows[1][7] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1][3] == "1000.00"
