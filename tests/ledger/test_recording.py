import re

import pytest
from django.db import transaction

from ledger.api import (
    Actor,
    NoAccessContext,
    UnknownPurpose,
    access_context,
    record,
    recorded,
    subject_pseudonym,
    subject_pseudonyms,
)
from ledger.context import purpose_override
from ledger.models import Entry, PendingEntry
from tests.factories import ResidentFactory


@pytest.mark.django_db
def test_record_outside_a_context_raises():
    resident = ResidentFactory()

    with pytest.raises(NoAccessContext):
        record(action="cards.residents.lookup", subject=resident)

    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_record_writes_one_pending_row_with_the_context(ledger_context):
    resident = ResidentFactory()

    pending_id = record(action="cards.residents.lookup", subject=resident, object="resident")

    row = PendingEntry.objects.get()
    assert row.pk == pending_id
    assert (row.actor_type, row.actor_id, row.role, row.channel) == ("staff", "test-registrar", "registrar", "command")
    assert (row.action, row.purpose, row.outcome) == ("cards.residents.lookup", "registration", "ok")
    assert row.request_id == ledger_context.request_id


@pytest.mark.django_db
def test_record_stores_only_a_pseudonym_of_the_subject(ledger_context):
    resident = ResidentFactory()

    record(action="cards.residents.lookup", subject=resident)

    row = PendingEntry.objects.get()
    assert row.subject == subject_pseudonym(resident)
    assert re.fullmatch(r"p1-[0-9a-f]{40}", row.subject)
    assert resident.national_id not in repr(PendingEntry.objects.values().get())


def test_pseudonyms_change_with_the_key_version(settings):
    settings.ONECARD_LEDGER_SUBJECT_KEYS = {1: b"a" * 32, 2: b"b" * 32}

    assert subject_pseudonym("resident:1").startswith("p2-")
    assert subject_pseudonyms("resident:1") == [
        subject_pseudonym("resident:1", version=2),
        subject_pseudonym("resident:1", version=1),
    ]


@pytest.mark.django_db
def test_unknown_purpose_raises(ledger_context):
    with pytest.raises(UnknownPurpose):
        record(action="cards.residents.lookup", subject="resident:1", purpose="curiosity")


def test_a_context_with_an_unknown_purpose_is_refused():
    with (
        pytest.raises(UnknownPurpose),
        access_context(actor=Actor(type="agency", id="X"), role="r", channel="api", purpose="nosy"),
    ):
        pass


@pytest.mark.django_db
def test_purpose_override_narrows_the_purpose(ledger_context):
    with purpose_override("identity-verification"):
        record(action="cards.residents.lookup", subject="resident:1")

    assert PendingEntry.objects.get().purpose == "identity-verification"


@pytest.mark.django_db
def test_a_rolled_back_access_leaves_no_record(ledger_context):
    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="cards.residents.lookup", subject="resident:1")
        raise RuntimeError("the access failed")

    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_recorded_decorator_records_each_call(ledger_context):
    resident = ResidentFactory()

    @recorded(action="cards.residents.lookup")
    def read(*, resident):
        return resident.full_name

    assert read(resident=resident) == resident.full_name
    assert PendingEntry.objects.get().action == "cards.residents.lookup"


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_commit_publishes_nothing_and_leaves_its_rows_for_the_sweep(monkeypatch):
    from celery import current_app

    from ledger.tasks import sequence_pending

    sent = []
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(sequence_pending, "apply_async", lambda *args, **kwargs: sent.append(args))
    resident = ResidentFactory()

    with access_context(actor=Actor(type="system", id="t"), role="system", channel="task", purpose="registration"):
        for _ in range(3):
            with transaction.atomic():
                record(action="cards.residents.lookup", subject=resident)

    assert sent == []
    assert PendingEntry.objects.count() == 3
    assert not Entry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_when_celery_is_eager_one_commit_sequences_its_records_once(monkeypatch):
    from ledger import recording

    runs = []
    monkeypatch.setattr(recording, "_sequence_now", lambda: runs.append(1))
    resident = ResidentFactory()

    context = access_context(actor=Actor(type="system", id="t"), role="system", channel="task", purpose="registration")
    with context, transaction.atomic():
        for _ in range(3):
            record(action="cards.residents.lookup", subject=resident)
        assert runs == []

    assert runs == [1]


def test_beat_sweeps_the_pending_table_at_the_configured_interval_and_drops_stale_sweeps(settings):
    sweep = settings.CELERY_BEAT_SCHEDULE["ledger-sequence-sweep"]

    assert sweep["task"] == "ledger.tasks.sequence_pending"
    assert sweep["schedule"] == settings.ONECARD_LEDGER_SWEEP_SECONDS
    assert sweep["options"]["expires"] == max(20 * settings.ONECARD_LEDGER_SWEEP_SECONDS, 10.0)


@pytest.mark.django_db(transaction=True)
def test_a_record_inside_an_enclosing_block_waits_for_that_block(ledger_context):
    resident = ResidentFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        with transaction.atomic():
            record(action="cards.residents.lookup", subject=resident, object="resident")
        raise RuntimeError("the enclosing block fails after the record")

    assert PendingEntry.objects.count() == 0
    assert not Entry.objects.exists()
