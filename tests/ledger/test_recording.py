import re

import pytest
from django.db import transaction

from ledger.api import (
    Actor,
    NoAccessContext,
    UnknownPurpose,
    access_context,
    purpose_override,
    record,
    recorded,
    subject_pseudonym,
    subject_pseudonyms,
)
from ledger.models import Entry, PendingEntry
from tests.factories import ResidentFactory


@pytest.mark.django_db
def test_record_outside_a_context_raises():
    resident = ResidentFactory()

    with pytest.raises(NoAccessContext):
        record(action="cards.residents.read", subject=resident)

    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_record_writes_one_pending_row_with_the_context(ledger_context):
    resident = ResidentFactory()

    entry = record(action="cards.residents.read", subject=resident, object="resident")

    row = PendingEntry.objects.get()
    assert row.pk == entry.pk
    assert (row.actor_type, row.actor_id, row.role, row.channel) == ("staff", "test-registrar", "registrar", "command")
    assert (row.action, row.purpose, row.outcome) == ("cards.residents.read", "registration", "ok")
    assert row.request_id == ledger_context.request_id


@pytest.mark.django_db
def test_record_stores_only_a_pseudonym_of_the_subject(ledger_context):
    resident = ResidentFactory()

    record(action="cards.residents.read", subject=resident)

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
        record(action="cards.residents.read", subject="resident:1", purpose="curiosity")


def test_a_context_with_an_unknown_purpose_is_refused():
    with (
        pytest.raises(UnknownPurpose),
        access_context(actor=Actor(type="agency", id="X"), role="r", channel="api", purpose="nosy"),
    ):
        pass


@pytest.mark.django_db
def test_purpose_override_narrows_the_purpose(ledger_context):
    with purpose_override("identity-verification"):
        record(action="cards.residents.read", subject="resident:1")

    assert PendingEntry.objects.get().purpose == "identity-verification"


@pytest.mark.django_db
def test_a_rolled_back_access_leaves_no_record(ledger_context):
    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="cards.residents.read", subject="resident:1")
        raise RuntimeError("the access failed")

    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_recorded_decorator_records_each_call(ledger_context):
    resident = ResidentFactory()

    @recorded(action="cards.residents.read")
    def read(*, resident):
        return resident.full_name

    assert read(resident=resident) == resident.full_name
    assert PendingEntry.objects.get().action == "cards.residents.read"


class _ManualTimer:
    """A timer that fires only when the test says so."""

    started: list["_ManualTimer"] = []

    def __init__(self, delay, function):
        self.delay, self.function, self.daemon = delay, function, False

    def start(self):
        _ManualTimer.started.append(self)


def test_many_commits_inside_one_interval_publish_one_trigger():
    from ledger.recording import TriggerCoalescer

    published = []
    _ManualTimer.started = []
    coalescer = TriggerCoalescer(lambda: published.append(1), timer=_ManualTimer)

    for _ in range(50):
        coalescer.request(0.1)
    _ManualTimer.started[0].function()

    assert len(_ManualTimer.started) == 1
    assert _ManualTimer.started[0].daemon
    assert published == [1]


def test_a_commit_after_the_flag_clears_gets_its_own_trigger():
    from ledger.recording import TriggerCoalescer

    published = []
    _ManualTimer.started = []
    coalescer = TriggerCoalescer(lambda: published.append(1), timer=_ManualTimer)

    coalescer.request(0.1)
    _ManualTimer.started[0].function()
    coalescer.request(0.1)
    _ManualTimer.started[1].function()

    assert len(_ManualTimer.started) == 2
    assert published == [1, 1]


def test_a_failed_publish_does_not_stop_later_triggers():
    from ledger.recording import TriggerCoalescer

    calls = []

    def publish():
        calls.append(1)
        raise ConnectionError("broker down")

    _ManualTimer.started = []
    coalescer = TriggerCoalescer(publish, timer=_ManualTimer)

    coalescer.request(0.1)
    _ManualTimer.started[0].function()
    coalescer.request(0.1)
    _ManualTimer.started[1].function()

    assert calls == [1, 1]


def test_a_forked_child_does_not_inherit_a_pending_timer():
    from ledger.recording import TriggerCoalescer

    _ManualTimer.started = []
    coalescer = TriggerCoalescer(lambda: None, timer=_ManualTimer)
    coalescer.request(0.1)

    coalescer.reset()
    coalescer.request(0.1)

    assert len(_ManualTimer.started) == 2


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_commits_are_coalesced_into_one_publish(monkeypatch, settings):
    from celery import current_app

    from ledger import recording

    published = []
    _ManualTimer.started = []
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(
        recording, "_coalescer", recording.TriggerCoalescer(lambda: published.append(1), timer=_ManualTimer)
    )
    settings.ONECARD_LEDGER_TRIGGER_SECONDS = 0.1
    resident = ResidentFactory()

    with access_context(actor=Actor(type="system", id="t"), role="system", channel="task", purpose="registration"):
        for _ in range(5):
            record(action="cards.residents.read", subject=resident)
    _ManualTimer.started[0].function()

    assert PendingEntry.objects.count() == 5
    assert len(_ManualTimer.started) == 1
    assert published == [1]


def test_a_trigger_still_waiting_at_exit_is_published_by_flush():
    from ledger.recording import TriggerCoalescer

    published = []
    _ManualTimer.started = []
    coalescer = TriggerCoalescer(lambda: published.append(1), timer=_ManualTimer)

    coalescer.flush()
    coalescer.request(0.1)
    coalescer.flush()

    assert published == [1]


def test_a_closed_gate_re_arms_the_timer_instead_of_publishing():
    from ledger.recording import TriggerCoalescer

    published, answers = [], [0.05, 0.0]
    _ManualTimer.started = []
    coalescer = TriggerCoalescer(lambda: published.append(1), timer=_ManualTimer, gate=lambda: answers.pop(0))

    coalescer.request(0.1)
    _ManualTimer.started[0].function()
    assert published == []
    assert [timer.delay for timer in _ManualTimer.started] == [0.1, 0.05]

    _ManualTimer.started[1].function()
    assert published == [1]


def test_an_unavailable_gate_does_not_stop_the_publish():
    from ledger.recording import TriggerCoalescer

    def gate():
        raise ConnectionError("redis down")

    published = []
    _ManualTimer.started = []
    coalescer = TriggerCoalescer(lambda: published.append(1), timer=_ManualTimer, gate=gate)

    coalescer.request(0.1)
    _ManualTimer.started[0].function()

    assert published == [1]


def test_the_broker_gate_admits_one_publisher_per_interval_across_processes(settings):
    import redis

    from ledger import recording

    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the gate is shared through a real Redis")
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    settings.ONECARD_LEDGER_TRIGGER_SECONDS = 0.5
    settings.ONECARD_LEDGER_ORIGIN = "gate-test.onecard.example/ledger"
    recording._gate_clients.clear()
    key = f"{recording.GATE_KEY}:{settings.ONECARD_LEDGER_ORIGIN}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(key)
    try:
        # Two web processes, each with its own coalescer, share the gate.
        first, second = [], []
        _ManualTimer.started = []
        a = recording.TriggerCoalescer(lambda: first.append(1), timer=_ManualTimer, gate=recording.broker_gate)
        b = recording.TriggerCoalescer(lambda: second.append(1), timer=_ManualTimer, gate=recording.broker_gate)

        a.request(0.01)
        b.request(0.01)
        _ManualTimer.started[0].function()
        _ManualTimer.started[1].function()

        assert (first, second) == ([1], [])
        retry = _ManualTimer.started[2]
        assert 0 < retry.delay <= 0.5
        client.delete(key)  # the holder's interval is over
        retry.function()
        assert second == [1]
    finally:
        client.delete(key)
        recording._gate_clients.clear()


def _committed_objects() -> list[str]:
    """Return the object of every committed record, pending or sequenced, as another connection sees them."""
    from django.db import DEFAULT_DB_ALIAS, connections

    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT object FROM ledger_pendingentry UNION ALL"
                " SELECT convert_from(entry_bytes, 'UTF8')::jsonb ->> 'object' FROM ledger_entry"
            )
            return sorted(row[0] for row in cursor.fetchall())
    finally:
        other.close()


@pytest.fixture
def final_commit_backend():
    """Skip unless the database is PostgreSQL, the one backend where a final record commits with its INSERT."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the INSERT and COMMIT share a round trip on PostgreSQL only")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_final_record_commits_with_the_outermost_block_in_one_statement(ledger_context, final_commit_backend):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    resident = ResidentFactory()
    callbacks = []

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        transaction.on_commit(lambda: callbacks.append("after commit"))
        record(action="cards.residents.read", subject=resident, object="resident", final=True)

    assert _committed_objects() == ["resident"]
    assert callbacks == ["after commit"]
    inserts = [query["sql"] for query in queries if query["sql"].startswith('INSERT INTO "ledger_pendingentry"')]
    assert len(inserts) == 1 and inserts[0].endswith("; COMMIT")
    # The connection is back in autocommit and takes the next transaction as usual.
    assert connection.get_autocommit() and not connection.in_atomic_block
    with transaction.atomic():
        record(action="cards.residents.read", subject=resident, object="again", final=True)
    assert _committed_objects() == ["again", "resident"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_final_record_that_fails_commits_nothing_of_its_block(ledger_context, final_commit_backend):
    from django.db import DataError

    resident = ResidentFactory()

    with pytest.raises(DataError), transaction.atomic():
        record(action="cards.residents.read", subject=resident, object="written first")
        # Longer than the column: PostgreSQL refuses the INSERT and never runs the COMMIT sent with it.
        record(action="cards.residents." + "x" * 200, subject=resident, final=True)

    assert _committed_objects() == []
    with transaction.atomic():
        record(action="cards.residents.read", subject=resident, object="after the failure", final=True)
    assert _committed_objects() == ["after the failure"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_final_record_commits_in_one_statement_when_the_site_binds_on_the_server(
    ledger_context, final_commit_backend, monkeypatch
):
    import psycopg
    from django.db import connection

    resident = ResidentFactory()
    connection.ensure_connection()
    # As with OPTIONS={"server_side_binding": True}: Django's cursors then use the extended protocol.
    monkeypatch.setattr(connection.connection, "cursor_factory", psycopg.Cursor)

    with transaction.atomic():
        record(action="cards.residents.read", subject=resident, object="resident", final=True)

    assert _committed_objects() == ["resident"]


@pytest.mark.django_db(transaction=True)
def test_a_final_record_never_commits_a_test_cases_own_transaction(ledger_context):
    resident = ResidentFactory()
    block = transaction.atomic()
    block._from_testcase = True  # as Django's TestCase marks the transaction of setUpTestData

    with pytest.raises(RuntimeError), block:
        record(action="cards.residents.read", subject=resident, object="resident", final=True)
        raise RuntimeError("the test case rolls its transaction back")

    assert PendingEntry.objects.count() == 0
    assert not Entry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_final_record_inside_an_enclosing_block_waits_for_that_block(ledger_context):
    resident = ResidentFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        with transaction.atomic():
            record(action="cards.residents.read", subject=resident, object="resident", final=True)
        raise RuntimeError("the enclosing block fails after the record")

    assert PendingEntry.objects.count() == 0
    assert not Entry.objects.exists()
