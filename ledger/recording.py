"""Record accesses to resident data into the pending table."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from ledger.context import collected_add, context_get
from ledger.models import PendingEntry
from ledger.pseudonyms import subject_pseudonym
from ledger.vocabulary import action_check, purpose_check

OUTCOMES = ("ok", "denied", "not_found", "invalid", "error")


def record(
    *,
    action: str,
    subject,
    purpose: str | None = None,
    object: str = "",
    outcome: str = "ok",
) -> int | None:
    """Record one access to SUBJECT's data under the current access context; return its pending row's id."""
    return _record(action=action, subject=subject, purpose=purpose, object=object, outcome=outcome)


def _record(
    *,
    action: str,
    subject,
    purpose: str | None = None,
    object: str = "",
    outcome: str = "ok",
    using: str = DEFAULT_DB_ALIAS,
) -> int | None:
    """Record as ``record`` does, through the database connection USING (the sequencer's, for the release)."""
    context = context_get()
    if not settings.ONECARD_LEDGER_RECORDING:
        # Benchmark baseline only: production settings refuse to turn recording off.
        return None
    values = _access_values(context, action=action, purpose=purpose, object=object, outcome=outcome)
    collected_add(
        action=action,
        subject=getattr(subject, "ledger_subject", subject),
        purpose=values["purpose"],
        object=values["object"],
        outcome=outcome,
    )
    pending = PendingEntry.objects.using(using).create(**values, subject=subject_pseudonym(subject))
    _sequence_after_commit()
    return pending.pk


def _access_values(context, *, action: str, purpose: str | None, object: str, outcome: str) -> dict:
    """Check one access under CONTEXT and return its pending row's values, all but the subject."""
    purpose = purpose or context.purpose
    if purpose is None:
        raise ValueError(f"{action}: no purpose given and the access context has none")
    purpose_check(purpose)
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    action_check(action)
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


def record_bulk(*, action: str, subjects, purpose: str | None = None, object: str = "", outcome: str = "ok") -> int:
    """Record ACTION (on OBJECT) once for each of SUBJECTS with one INSERT per batch; return how many."""
    context = context_get()
    if not settings.ONECARD_LEDGER_RECORDING:
        return 0
    shared = _access_values(context, action=action, purpose=purpose, object=object, outcome=outcome)
    subjects = list(subjects)
    for subject in subjects:
        collected_add(
            action=action,
            subject=getattr(subject, "ledger_subject", subject),
            purpose=shared["purpose"],
            object=shared["object"],
            outcome=outcome,
        )
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


def _sequence_after_commit() -> None:
    """In the embedded default (Celery eager), sequence inline once the current transaction commits.

    With a broker, nothing is published from here: beat sweeps the pending
    table every ONECARD_LEDGER_SWEEP_SECONDS, so a request pays no broker round
    trip, no timer thread and no publish for its record. Measured side by side
    under load, a per-process trigger cost about 5 % of cards/verify
    throughput (docs/performance.md). A stopped beat loses nothing: the rows
    wait in the pending table and /healthz reports the growing lag.
    """
    from celery import current_app

    if not current_app.conf.task_always_eager:
        return
    connection = transaction.get_connection()
    if any(callback is _sequence_now for _, callback, _ in connection.run_on_commit):
        return
    # robust=True: the commit stands even if sequencing fails; the rows stay pending.
    transaction.on_commit(_sequence_now, robust=True)


def _sequence_now() -> None:
    from ledger.tasks import sequence_pending

    sequence_pending.delay()


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
                record(action=action, subject=who, purpose=purpose, object=object(result) if object else "")
            return result

        return wrapper

    return decorate
