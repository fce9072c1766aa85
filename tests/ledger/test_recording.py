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

    pending_id = record(action="cards.residents.read", subject=resident, object="resident")

    row = PendingEntry.objects.get()
    assert row.pk == pending_id
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
                record(action="cards.residents.read", subject=resident)

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
            record(action="cards.residents.read", subject=resident)
        assert runs == []

    assert runs == [1]


def test_beat_sweeps_the_pending_table_at_the_configured_interval_and_drops_stale_sweeps(settings):
    sweep = settings.CELERY_BEAT_SCHEDULE["ledger-sequence-sweep"]

    assert sweep["task"] == "ledger.tasks.sequence_pending"
    assert sweep["schedule"] == settings.ONECARD_LEDGER_SWEEP_SECONDS
    assert sweep["options"]["expires"] == max(20 * settings.ONECARD_LEDGER_SWEEP_SECONDS, 10.0)


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
