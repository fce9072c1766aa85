"""How much a partner may match: per call, per day, and for how long a session stays open.

Each can be lowered (or raised) in settings, e.g. ``ONECARD_MATCHING_MAX_IDS_PER_DAY``.
"""

from django.conf import settings

DEFAULTS = {
    "ONECARD_MATCHING_MAX_IDS_PER_CALL": 100_000,
    "ONECARD_MATCHING_MAX_IDS_PER_DAY": 200_000,
    "ONECARD_MATCHING_SESSION_SECONDS": 1800,
}


def limit(name: str) -> int:
    """Return the limit NAME from settings, or its default."""
    return int(getattr(settings, name, DEFAULTS[name]))


def max_ids_per_call() -> int:
    return limit("ONECARD_MATCHING_MAX_IDS_PER_CALL")


def max_ids_per_day() -> int:
    return limit("ONECARD_MATCHING_MAX_IDS_PER_DAY")


def session_seconds() -> int:
    return limit("ONECARD_MATCHING_SESSION_SECONDS")
