"""Record accesses to resident data into the pending table."""

import atexit
import functools
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.context import context_get
from ledger.models import PendingEntry
from ledger.purposes import purpose_check

logger = logging.getLogger(__name__)

OUTCOMES = ("ok", "denied", "not_found", "invalid", "error")


def subject_pseudonym(subject, *, version: int | None = None) -> str:
    """Return the keyed-HMAC pseudonym of SUBJECT under the current (or given) key version."""
    reference = getattr(subject, "ledger_subject", subject)
    if not isinstance(reference, str) or not reference:
        raise TypeError("subject must be a resident or a non-empty reference string")
    keys = settings.ONECARD_LEDGER_SUBJECT_KEYS
    version = version or max(keys)
    digest = hmac.new(keys[version], reference.encode(), hashlib.sha256).hexdigest()
    return f"p{version}-{digest[:40]}"


def actor_pseudonym(*, kind: str, reference: str) -> str:
    """Return the keyed-HMAC pseudonym of a staff member or user, so entries never hold a username."""
    keys = settings.ONECARD_LEDGER_SUBJECT_KEYS
    version = max(keys)
    digest = hmac.new(keys[version], f"{kind}:{reference}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[0]}{version}-{digest[:40]}"


def subject_pseudonyms(subject) -> list[str]:
    """Return SUBJECT's pseudonym under every key version, newest first, to find older entries."""
    return [
        subject_pseudonym(subject, version=version)
        for version in sorted(settings.ONECARD_LEDGER_SUBJECT_KEYS, reverse=True)
    ]


def record(
    *,
    action: str,
    subject,
    purpose: str | None = None,
    object: str = "",
    outcome: str = "ok",
    final: bool = False,
) -> PendingEntry | None:
    """Record one access to SUBJECT's data under the current access context.

    FINAL says the caller's outermost transaction ends right after this call,
    with no other query in between. When that transaction is the outermost
    block, the INSERT and the COMMIT then go to PostgreSQL in one round trip;
    anywhere else FINAL changes nothing. A failed COMMIT is raised from here,
    so never catch database errors around a final record.
    """
    context = context_get()
    if not settings.ONECARD_LEDGER_RECORDING:
        # Benchmark baseline only: production settings refuse to turn recording off.
        return None
    values = _access_values(context, action=action, purpose=purpose, object=object, outcome=outcome)
    values["subject"] = subject_pseudonym(subject)
    entry = PendingEntry(id=_pending_insert(values, commit=final), **values)
    _sequence_after_commit()
    return entry


def _access_values(context, *, action: str, purpose: str | None, object: str, outcome: str) -> dict:
    """Check one access under CONTEXT and return its pending row's values, all but the subject."""
    purpose = purpose or context.purpose
    if purpose is None:
        raise ValueError(f"{action}: no purpose given and the access context has none")
    purpose_check(purpose)
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if action.count(".") < 1:
        raise ValueError(f"action {action!r} must be a dotted name such as 'health.visits.read'")
    return {
        "time": timezone.now(),
        "actor_type": context.actor.type,
        "actor_id": context.actor.id,
        "role": context.role,
        "channel": context.channel,
        "action": action,
        "purpose": purpose,
        "object": str(object)[:200],
        "outcome": outcome,
        "request_id": context.request_id,
        "case_id": context.case_id or "",
    }


_PENDING_FIELDS = [field for field in PendingEntry._meta.concrete_fields if not field.primary_key]
_pending_insert_sql: dict[str, str] = {}


def _pending_insert(values: dict, *, commit: bool = False) -> int:
    """Insert one pending row in the current transaction and return its id.

    A statement built once per database backend instead of ``objects.create``:
    recording is on every request's path, and the ORM spends longer compiling
    this INSERT than the database spends running it. On PostgreSQL the values
    go to the server as bound parameters, which psycopg encodes in C instead
    of quoting thirteen literals in Python.
    """
    connection = transaction.get_connection()
    sql = _pending_insert_sql.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        sql = _pending_insert_sql[connection.vendor] = (
            f"INSERT INTO {quote(PendingEntry._meta.db_table)}"
            f" ({', '.join(quote(field.column) for field in _PENDING_FIELDS)})"
            f" VALUES ({', '.join(['%s'] * len(_PENDING_FIELDS))})"
            f" RETURNING {quote(PendingEntry._meta.pk.column)}"
        )
    if connection.vendor == "postgresql":
        # Every value is already what the column stores: strings and an aware datetime.
        params = [values[field.attname] for field in _PENDING_FIELDS]
        if commit and _outermost_block(connection):
            return _pending_insert_and_commit(connection, sql, params)
        with _psycopg_cursor(connection, "Cursor") as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    params = [field.get_db_prep_save(values[field.attname], connection) for field in _PENDING_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _outermost_block(connection) -> bool:
    """Whether the current block is the outermost atomic one, which commits when it exits.

    A test case's own transaction is never it: committing that would leak the
    test's data into the next test.
    """
    blocks = connection.atomic_blocks
    return (
        len(blocks) == 1
        and connection.commit_on_exit
        and not connection.needs_rollback
        and not getattr(blocks[0], "_from_testcase", False)
    )


def _pending_insert_and_commit(connection, sql: str, params: list) -> int:
    """Insert one pending row and commit the outermost transaction in one round trip.

    The INSERT and the COMMIT go as one query string, on a client-side-binding
    cursor whatever the site's ``server_side_binding`` (only the simple query
    protocol allows two statements). The atomic block's own commit then finds
    the transaction closed and has nothing to send; its on-commit callbacks run
    as usual. If the INSERT or the COMMIT fails, the error is raised here and
    the block rolls back as for any other error, so a caller must not catch
    database errors around a final record.
    """
    with _psycopg_cursor(connection, "ClientCursor") as cursor:
        cursor.execute(f"{sql}; COMMIT", params)
        return cursor.fetchone()[0]


def _psycopg_cursor(connection, kind: str):
    """Return a psycopg cursor of class KIND on CONNECTION, wrapped as Django wraps its own.

    The statements here need a given binding whatever the site's cursor
    factory; the wrapper keeps query logging and execute wrappers
    (assertNumQueries, the debug toolbar) seeing them.
    """
    import psycopg

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = getattr(psycopg, kind)(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def record_bulk(*, action: str, subjects, purpose: str | None = None, outcome: str = "ok") -> int:
    """Record ACTION once for each of SUBJECTS with one INSERT per batch; return how many."""
    context = context_get()
    if not settings.ONECARD_LEDGER_RECORDING:
        return 0
    shared = _access_values(context, action=action, purpose=purpose, object="", outcome=outcome)
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        count = _pending_copy(connection, shared, (subject_pseudonym(subject) for subject in subjects))
    else:
        entries = [PendingEntry(**shared, subject=subject_pseudonym(subject)) for subject in subjects]
        PendingEntry.objects.bulk_create(entries, batch_size=2000)
        count = len(entries)
    if count:
        _sequence_after_commit()
    return count


def _pending_copy(connection, shared: dict, pseudonyms) -> int:
    """COPY one pending row per pseudonym: an order of magnitude faster than INSERTs for an import."""
    columns = [*shared, "subject"]
    values = tuple(shared.values())
    count = 0
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY ledger_pendingentry ({quoted}) FROM STDIN") as copy:
        for pseudonym in pseudonyms:
            copy.write_row((*values, pseudonym))
            count += 1
    return count


class TriggerCoalescer:
    """Publish at most one sequencer trigger per DELAY seconds from this process.

    Every commit asks for a trigger; the first request starts a timer and the
    ones that arrive before it fires ride on it. The flag is cleared before the
    publish, so any commit that found it set is followed by a publish that
    starts after that commit, and the task it runs sees the commit's rows. A
    lost publish (crash, broker down) loses nothing: the rows are in the
    pending table and the beat sweep sequences them within a second.

    GATE, when given, is asked before each publish and returns how many seconds
    to wait before asking again (0: publish now). It lets every web process
    share one publish per interval: a process that is told to wait re-arms its
    timer, so its commits are still followed by a publish that starts after
    them, whoever makes it.
    """

    def __init__(
        self, publish: Callable[[], None], *, timer=threading.Timer, gate: Callable[[], float] | None = None
    ) -> None:
        self._publish = publish
        self._timer = timer
        self._gate = gate
        self._lock = threading.Lock()
        self._scheduled = False

    def request(self, delay: float) -> None:
        """Ask for a publish within DELAY seconds."""
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        timer = self._timer(delay, self.fire)
        timer.daemon = True
        timer.start()

    def fire(self) -> None:
        """Clear the flag, then publish once (or re-arm while the gate is closed)."""
        with self._lock:
            self._scheduled = False
        if self._gate is not None:
            try:
                wait = self._gate()
            except Exception:
                # The gate only saves work; without it, publish as a lone process would.
                logger.warning("the sequencer trigger gate is unavailable; publishing", exc_info=True)
                wait = 0.0
            if wait > 0:
                self.request(wait)
                return
        try:
            self._publish()
        except Exception:
            logger.warning("could not publish the sequencer trigger; the beat sweep will sequence", exc_info=True)

    def flush(self) -> None:
        """Publish now if a timer is still waiting (at exit: a daemon timer dies with the process)."""
        if self._scheduled:
            with self._lock:
                self._scheduled = False
            try:
                self._publish()
            except Exception:
                logger.warning("could not publish the sequencer trigger at exit", exc_info=True)

    def reset(self) -> None:
        """Forget a timer inherited from a parent process (it does not survive fork)."""
        self._lock = threading.Lock()
        self._scheduled = False


GATE_KEY = "onecard:ledger:sequencer-trigger"
_gate_clients: dict[str, object] = {}


def broker_gate() -> float:
    """Claim the next trigger publish for every process sharing the Redis broker; return 0 or the seconds to wait.

    ``SET NX PX`` admits one publisher per ONECARD_LEDGER_TRIGGER_SECONDS across
    all web processes and hosts; the others learn from ``PTTL`` when to ask
    again. With any other broker every process publishes on its own timer.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return 0.0
    client = _gate_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        _gate_clients[url] = client
    window_ms = max(1, int(settings.ONECARD_LEDGER_TRIGGER_SECONDS * 1000))
    key = f"{GATE_KEY}:{settings.ONECARD_LEDGER_ORIGIN}"
    pipe = client.pipeline(transaction=False)
    pipe.set(key, b"1", nx=True, px=window_ms)
    pipe.pttl(key)
    claimed, remaining_ms = pipe.execute()
    if claimed or remaining_ms <= 0:
        # Claimed, or the holder's window ended between the two commands.
        return 0.0
    return remaining_ms / 1000


def _publish_trigger() -> None:
    from ledger.tasks import sequence_pending

    sequence_pending.delay()


_coalescer = TriggerCoalescer(_publish_trigger, gate=broker_gate)
os.register_at_fork(after_in_child=_coalescer.reset)
os.register_at_fork(after_in_child=_gate_clients.clear)
atexit.register(_coalescer.flush)


def _trigger_sequencer() -> None:
    from celery import current_app

    delay = settings.ONECARD_LEDGER_TRIGGER_SECONDS
    if delay <= 0 or current_app.conf.task_always_eager:
        _publish_trigger()
        return
    # A publish per commit costs a broker round trip on every request. Each
    # process asks within DELAY / 2 and the gate lets one publish through per
    # DELAY for all of them: a commit waits at most 1.5 DELAY for its run.
    _coalescer.request(delay / 2)


def _sequence_after_commit() -> None:
    """Schedule one sequencer trigger after the current transaction commits.

    robust=True: if the broker is down the commit still stands and the beat
    sweep sequences the entry later; the access itself is already recorded.
    """
    connection = transaction.get_connection()
    if any(callback is _trigger_sequencer for _, callback, _ in connection.run_on_commit):
        return
    transaction.on_commit(_trigger_sequencer, robust=True)


def recorded(
    *, action: str, subject: str | Callable = "resident", purpose: str | None = None, object: Callable | None = None
):
    """Record ACTION each time the decorated selector or action runs.

    SUBJECT names the keyword argument holding the resident, or is a callable
    taking the result. The call and its record share one transaction.
    """

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with transaction.atomic():
                result = function(*args, **kwargs)
                who = subject(result) if callable(subject) else kwargs[subject]
                record(action=action, subject=who, purpose=purpose, object=object(result) if object else "", final=True)
            return result

        return wrapper

    return decorate
