"""Aggregate counts of accesses for dashboards; never a row about one resident."""

import datetime

from django.db.models import Count

from ledger.models import PendingEntry

GROUPINGS = {"purpose": "purpose", "agency": "actor_id", "channel": "channel", "role": "role"}


def access_counts(*, by: str, since: datetime.datetime | None = None) -> dict[str, int]:
    """Return how many accesses were recorded per BY ("purpose", "agency", "channel" or "role") since SINCE.

    Agency counts are those made by partner agencies, keyed by agency code.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    rows = PendingEntry.objects.all()
    if by == "agency":
        rows = rows.filter(actor_type="agency")
    if since is not None:
        rows = rows.filter(time__gte=since)
    column = GROUPINGS[by]
    grouped = rows.values(column).annotate(count=Count("id")).order_by(column)
    return {row[column]: row["count"] for row in grouped}
