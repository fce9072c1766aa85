"""Read matching sessions: what an agency has matched today."""

import datetime

from django.db.models import Sum
from django.utils import timezone

from services.core.models import Agency
from services.matching.models import MatchingSession


def matching_ids_used_today(*, agency: Agency) -> int:
    """Return how many IDs AGENCY has put into matching sessions started today (local time)."""
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
    used = MatchingSession.objects.filter(agency=agency, created_at__gte=midnight).aggregate(ids=Sum("list_size"))
    return used["ids"] or 0
