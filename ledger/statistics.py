"""Aggregate counts of accesses, and the sequencer's health, for dashboards; never a row about one resident."""

import datetime

from django.db import connection
from django.db.models import Count

from ledger.models import Checkpoint, Entry, PendingEntry, VerificationRun
from ledger.selectors import sequencer_lag

# (entry JSON path, pending-table column) of each grouping.
GROUPINGS = {
    "purpose": ("$.purpose", "purpose"),
    "agency": ("$.actor.id", "actor_id"),
    "channel": ("$.channel", "channel"),
    "role": ("$.actor.role", "role"),
}


def _entry_counts(by: str, since: datetime.datetime | None) -> dict[str, int]:
    path = GROUPINGS[by][0]
    table = Entry._meta.db_table
    if connection.vendor == "postgresql":
        document = "convert_from(entry_bytes, 'UTF8')::jsonb"
        parts = path[2:].split(".")
        key = f"{document} #>> '{{{','.join(parts)}}}'"
        actor_type = f"{document} #>> '{{actor,type}}'"
        time = f"{document} ->> 'time'"
    else:
        document = "CAST(entry_bytes AS TEXT)"
        key = f"json_extract({document}, '{path}')"
        actor_type = f"json_extract({document}, '$.actor.type')"
        time = f"json_extract({document}, '$.time')"
    # Only accesses: the log-start entry (leaf 0 after a sealed previous log) is about no one.
    where, params = ["subject <> ''"], []
    if by == "agency":
        where.append(f"{actor_type} = 'agency'")
    if since is not None:
        # Entry times are RFC 3339 UTC with microseconds, so they compare as strings.
        where.append(f"{time} >= %s")
        params.append(since.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    sql = f"SELECT {key}, COUNT(*) FROM {table} WHERE {' AND '.join(where)} GROUP BY {key}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {str(value): count for value, count in cursor.fetchall()}


def access_counts(*, by: str, since: datetime.datetime | None = None) -> dict[str, int]:
    """Return how many accesses were recorded per BY ("purpose", "agency", "channel" or "role") since SINCE.

    Counts both the sequenced log and the entries still pending. Agency counts
    are those made by partner agencies, keyed by agency code.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    counts = _entry_counts(by, since)
    rows = PendingEntry.objects.all()
    if by == "agency":
        rows = rows.filter(actor_type="agency")
    if since is not None:
        rows = rows.filter(time__gte=since)
    column = GROUPINGS[by][1]
    for row in rows.values(column).annotate(count=Count("id")).order_by(column):
        counts[row[column]] = counts.get(row[column], 0) + row["count"]
    return dict(sorted(counts.items()))


def log_health() -> dict:
    """Return the sequencer's lag and the newest checkpoint and verification run."""

    lag = sequencer_lag()
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    run = VerificationRun.objects.filter(status=VerificationRun.Status.FINISHED).order_by("-started_at").first()
    return {
        "pending": lag["pending"],
        "lag_seconds": lag["oldest_pending_age_s"],
        "tree_size": checkpoint.tree_size if checkpoint else 0,
        "checkpoint_at": checkpoint.created_at if checkpoint else None,
        "verification": (
            {"finished_at": run.finished_at, "ok": run.ok, "first_bad_index": run.first_bad_index} if run else None
        ),
    }


def agency_accesses_by_subject(
    *, since: datetime.datetime, until: datetime.datetime, exclude_actions: tuple[str, ...] = ()
) -> dict[tuple[str, str], int]:
    """Return how many accesses each agency made to each subject pseudonym in [SINCE, UNTIL).

    Keyed by (subject pseudonym, agency code); sequenced and pending entries
    both count. For statistics that bound each resident's contribution; the
    caller never learns more than the pseudonyms it can compute itself.
    """
    counts: dict[tuple[str, str], int] = {}
    table = Entry._meta.db_table
    if connection.vendor == "postgresql":
        document = "convert_from(entry_bytes, 'UTF8')::jsonb"
        actor_id, actor_type = f"{document} #>> '{{actor,id}}'", f"{document} #>> '{{actor,type}}'"
        time, action = f"{document} ->> 'time'", f"{document} ->> 'action'"
    else:
        document = "CAST(entry_bytes AS TEXT)"
        actor_id = f"json_extract({document}, '$.actor.id')"
        actor_type = f"json_extract({document}, '$.actor.type')"
        time, action = f"json_extract({document}, '$.time')", f"json_extract({document}, '$.action')"
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    params = [since.astimezone(datetime.UTC).strftime(stamp), until.astimezone(datetime.UTC).strftime(stamp)]
    where = [f"{actor_type} = 'agency'", f"{time} >= %s", f"{time} < %s"]
    if exclude_actions:
        where.append(f"{action} NOT IN ({', '.join(['%s'] * len(exclude_actions))})")
        params.extend(exclude_actions)
    sql = f"SELECT subject, {actor_id}, COUNT(*) FROM {table} WHERE {' AND '.join(where)} GROUP BY subject, {actor_id}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for subject, agency, count in cursor.fetchall():
            counts[(subject, agency)] = count
    pending = PendingEntry.objects.filter(actor_type="agency", time__gte=since, time__lt=until).exclude(
        action__in=exclude_actions
    )
    for row in pending.values("subject", "actor_id").annotate(count=Count("id")).order_by():
        key = (row["subject"], row["actor_id"])
        counts[key] = counts.get(key, 0) + row["count"]
    return counts
