"""Record accesses to resident data into the pending table."""

import functools
import hashlib
import hmac
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.context import context_get
from ledger.models import PendingEntry
from ledger.purposes import purpose_check

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
    *, action: str, subject, purpose: str | None = None, object: str = "", outcome: str = "ok"
) -> PendingEntry | None:
    """Record one access to SUBJECT's data under the current access context."""
    context = context_get()
    if not settings.ONECARD_LEDGER_RECORDING:
        # Benchmark baseline only: production settings refuse to turn recording off.
        return None
    purpose = purpose or context.purpose
    if purpose is None:
        raise ValueError(f"{action}: no purpose given and the access context has none")
    purpose_check(purpose)
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if action.count(".") < 1:
        raise ValueError(f"action {action!r} must be a dotted name such as 'health.visits.read'")
    entry = PendingEntry.objects.create(
        time=timezone.now(),
        actor_type=context.actor.type,
        actor_id=context.actor.id,
        role=context.role,
        channel=context.channel,
        action=action,
        purpose=purpose,
        subject=subject_pseudonym(subject),
        object=str(object)[:200],
        outcome=outcome,
        request_id=context.request_id,
        case_id=context.case_id or "",
    )
    _sequence_after_commit()
    return entry


def record_bulk(*, action: str, subjects, purpose: str | None = None, outcome: str = "ok") -> int:
    """Record ACTION once for each of SUBJECTS with one INSERT per batch; return how many."""
    context = context_get()
    if not settings.ONECARD_LEDGER_RECORDING:
        return 0
    purpose = purpose or context.purpose
    if purpose is None:
        raise ValueError(f"{action}: no purpose given and the access context has none")
    purpose_check(purpose)
    now = timezone.now()
    entries = [
        PendingEntry(
            time=now,
            actor_type=context.actor.type,
            actor_id=context.actor.id,
            role=context.role,
            channel=context.channel,
            action=action,
            purpose=purpose,
            subject=subject_pseudonym(subject),
            outcome=outcome,
            request_id=context.request_id,
            case_id=context.case_id or "",
        )
        for subject in subjects
    ]
    PendingEntry.objects.bulk_create(entries, batch_size=2000)
    if entries:
        _sequence_after_commit()
    return len(entries)


def _trigger_sequencer() -> None:
    from ledger.tasks import sequence_pending

    sequence_pending.delay()


def _sequence_after_commit() -> None:
    """Schedule one sequencer run after the current transaction commits.

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
                record(action=action, subject=who, purpose=purpose, object=object(result) if object else "")
            return result

        return wrapper

    return decorate
