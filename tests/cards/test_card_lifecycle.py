import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction

from cards.actions import (
    card_activate,
    card_activation_code_create,
    card_issue,
    card_reissue,
    card_report_lost,
    card_resume,
    card_revoke,
    card_suspend,
    cards_expire,
)
from cards.errors import ActivationCodeInvalid, CardAlreadyIssued, CardReasonInvalid, CardTransitionRefused
from cards.models import Card
from cards.numbers import card_number_is_valid
from cards.tasks import card_activation_code_send
from ledger.models import PendingEntry
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db
ALL = [status.value for status in Card.Status]


def _activate(card):
    return card_activate(card=card, code=card_activation_code_create(card=card))


VERBS = {
    "activate": _activate,
    "suspend": lambda card: card_suspend(card=card, reason="suspected-fraud"),
    "resume": lambda card: card_resume(card=card, reason="investigation-closed"),
    "report_lost": lambda card: card_report_lost(card=card),
    "reissue": lambda card: card_reissue(card=card, reason="damaged", notify=False),
    "revoke": lambda card: card_revoke(card=card, reason="administrative"),
}
# verb -> {status before: status after}; every status not listed is refused.
ALLOWED = {
    "activate": {"pending": "active"},
    "suspend": {"active": "suspended"},
    "resume": {"suspended": "active"},
    "report_lost": {"active": "lost", "suspended": "lost"},
    "reissue": {"active": "replaced", "suspended": "replaced", "lost": "replaced", "expired": "replaced"},
    "revoke": {"pending": "revoked", "active": "revoked", "suspended": "revoked", "lost": "revoked"},
}
TABLE = [(verb, status) for verb in VERBS for status in ALL]


@pytest.mark.parametrize(("verb", "status"), TABLE, ids=[f"{v}-from-{s}" for v, s in TABLE])
def test_transition_table(caseworker_context, verb, status):
    card = CardFactory(status=status)
    expected = ALLOWED[verb].get(status)

    if expected is None:
        with pytest.raises(CardTransitionRefused):
            VERBS[verb](card)
        card.refresh_from_db()
        assert card.status == status
    else:
        VERBS[verb](card)
        card.refresh_from_db()
        assert card.status == expected


@pytest.mark.parametrize("status", ALL)
def test_expiry_sweep_expires_only_pending_active_and_suspended_cards(caseworker_context, status):
    card = CardFactory(status=status, expires_on=datetime.date(2030, 1, 1))

    cards_expire(today=datetime.date(2030, 1, 2))

    card.refresh_from_db()
    assert card.status == ("expired" if status in ("pending", "active", "suspended") else status)


def test_expiry_sweep_leaves_cards_not_yet_expired(caseworker_context):
    card = CardFactory(expires_on=datetime.date(2030, 1, 1))

    assert cards_expire(today=datetime.date(2030, 1, 1)) == 0

    card.refresh_from_db()
    assert card.status == "active"


def test_issue_gives_a_pending_card_with_a_luhn_checked_19_digit_number(caseworker_context):
    resident = ResidentFactory()

    card = card_issue(resident=resident, notify=False)

    assert card.status == "pending"
    assert len(card.number) == 19 and card.number.isdigit()
    assert card_number_is_valid(card.number)
    assert card.expires_on.year == card.issued_on.year + 10


def test_issued_numbers_are_random_and_all_pass_luhn(caseworker_context):
    numbers = [card_issue(resident=ResidentFactory(), notify=False).number for _ in range(30)]

    assert all(card_number_is_valid(number) for number in numbers)
    assert len(set(numbers)) == 30
    assert sorted(numbers) not in (numbers, numbers[::-1])


def test_issue_refuses_a_second_card_while_one_is_held(caseworker_context):
    resident = ResidentFactory()
    card_issue(resident=resident, notify=False)

    with pytest.raises(CardAlreadyIssued):
        card_issue(resident=resident, notify=False)


def test_issue_is_allowed_again_after_revocation(caseworker_context):
    resident = ResidentFactory()
    card_revoke(card=card_issue(resident=resident, notify=False), reason="issued-in-error")

    card = card_issue(resident=resident, notify=False)

    assert card.status == "pending"


def test_issue_refuses_an_unknown_reason(caseworker_context):
    with pytest.raises(CardReasonInvalid):
        card_issue(resident=ResidentFactory(), reason="because", notify=False)


def test_issue_emails_a_one_time_code_that_activates_the_card(caseworker_context, django_capture_on_commit_callbacks):
    resident = ResidentFactory(email="li@example.org")
    with django_capture_on_commit_callbacks() as callbacks:
        card = card_issue(resident=resident)
    assert any(getattr(c, "__name__", "") == "<lambda>" for c in callbacks)

    # What the queued task does, run here so the test holds with or without a broker.
    card_activation_code_send(card.pk)

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li@example.org"]
    code = mail.outbox[0].body.split("Activation code: ")[1].split()[0]
    card.refresh_from_db()
    assert code not in card.activation_code_hash
    card_activate(card=card, code=code)
    card.refresh_from_db()
    assert card.status == "active" and card.activated_at is not None and card.activation_code_hash == ""


def test_activation_code_works_only_once(caseworker_context):
    card = card_issue(resident=ResidentFactory(), notify=False)
    code = card_activation_code_create(card=card)
    card_activate(card=card, code=code)

    with pytest.raises(CardTransitionRefused):
        card_activate(card=card, code=code)


def test_wrong_activation_codes_are_counted_and_lock_the_code(caseworker_context):
    card = card_issue(resident=ResidentFactory(), notify=False)
    code = card_activation_code_create(card=card)

    for _ in range(5):
        with pytest.raises(ActivationCodeInvalid):
            card_activate(card=card, code="WRONGWRONG")

    with pytest.raises(ActivationCodeInvalid):
        card_activate(card=card, code=code)
    card.refresh_from_db()
    assert card.status == "pending" and card.activation_attempts == 6


def test_reissue_of_a_damaged_card_bumps_the_version_of_the_same_number(caseworker_context):
    card = CardFactory(status="active")

    successor = card_reissue(card=card, reason="damaged", notify=False)

    card.refresh_from_db()
    assert (successor.number, successor.version, successor.status) == (card.number, 2, "pending")
    assert card.status == "replaced" and card.replaced_by == successor


def test_reissue_of_a_lost_card_gives_a_new_number(caseworker_context):
    card = CardFactory(status="lost")

    successor = card_reissue(card=card, reason="reported-lost", notify=False)

    assert successor.number != card.number and successor.version == 1
    assert card_number_is_valid(successor.number)


def test_report_lost_suspends_at_once_and_frees_the_resident_for_a_new_card(caseworker_context):
    card = CardFactory(status="active")

    card_report_lost(card=card)

    card.refresh_from_db()
    assert card.status == "lost" and card.status_reason == "reported-lost"


def test_each_transition_is_recorded_with_reason_and_actor(caseworker_context, commit_path, ledger_sequenced):
    with commit_path():
        card = card_issue(resident=ResidentFactory(), notify=False)
        _activate(card)
        card_suspend(card=card, reason="suspected-fraud")
        card_resume(card=card, reason="investigation-closed")
        card_revoke(card=card, reason="deceased")

    entries = [entry for entry in ledger_sequenced() if entry["object"].startswith(f"card:{card.pk} ")]

    assert [entry["action"] for entry in entries] == [
        "cards.cards.issue",
        "cards.cards.activation_code.create",
        "cards.cards.activate",
        "cards.cards.suspend",
        "cards.cards.resume",
        "cards.cards.revoke",
    ]
    assert entries[3]["object"] == f"card:{card.pk} v1 active->suspended suspected-fraud"
    assert {entry["actor"]["id"] for entry in ledger_sequenced()} == {"test-caseworker"}
    assert {entry["purpose"] for entry in ledger_sequenced()} == {"card-administration"}
    assert not PendingEntry.objects.exists()


def test_refused_transition_writes_nothing(caseworker_context):
    card = CardFactory(status="revoked")

    with pytest.raises(CardTransitionRefused):
        card_suspend(card=card, reason="suspected-fraud")

    assert PendingEntry.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_refuses_two_in_force_cards_for_one_resident():
    if connection.vendor != "postgresql":
        pytest.skip("the partial unique constraint is checked on PostgreSQL (set DATABASE_URL)")
    resident = ResidentFactory()
    CardFactory(resident=resident, status="active")
    CardFactory(resident=resident, status="revoked")
    CardFactory(resident=resident, status="pending")

    with pytest.raises(IntegrityError), transaction.atomic():
        Card.objects.create(
            resident=resident,
            number="9" * 18 + "0",
            status="suspended",
            issued_on=datetime.date(2026, 1, 1),
            expires_on=datetime.date(2036, 1, 1),
        )


@pytest.mark.parametrize(
    ("status", "act", "expected"),
    [
        ("active", lambda card: card_report_lost(card=card), ["cards.cards.lose"]),
        (
            "active",
            lambda card: card_reissue(card=card, reason="damaged", notify=False),
            ["cards.cards.replace", "cards.cards.issue"],
        ),
        (
            "active",
            lambda card: cards_expire(today=card.expires_on + datetime.timedelta(days=1)),
            ["cards.cards.expire"],
        ),
    ],
    ids=["report_lost", "reissue", "expire"],
)
def test_other_actions_write_their_ledger_rows(caseworker_context, status, act, expected):
    card = CardFactory(status=status)

    act(card)

    assert list(PendingEntry.objects.values_list("action", flat=True)) == expected
    assert all(row.subject for row in PendingEntry.objects.all())


def test_expiry_sweep_task_opens_its_own_context_and_records_as_the_system():
    from cards.tasks import cards_expire_sweep

    card = CardFactory(expires_on=datetime.date(2020, 1, 1))

    cards_expire_sweep()

    card.refresh_from_db()
    row = PendingEntry.objects.get()
    assert card.status == "expired"
    assert (row.actor_type, row.actor_id, row.channel) == ("system", "cards.tasks.cards_expire_sweep", "task")
