"""Row locks for matching actions.

Lock order, always: the agency row first (it serialises the agency's daily
quota, so two sessions started at once cannot both pass it), then the session row.
"""

import uuid

from django.utils import timezone

from services.core.calls import AgencyCall
from services.core.models import Agency
from services.matching.errors import SessionUnknown
from services.matching.models import MatchingSession


def agency_lock(*, agency_id: int) -> Agency:
    """Lock and return the agency row; take this before any of its sessions."""
    return Agency.objects.select_for_update().get(pk=agency_id)


def session_lock_for_call(*, session_id, call: AgencyCall) -> MatchingSession:
    """Lock and return the open session SESSION_ID of the calling agency and purpose, or raise SessionUnknown.

    Another agency's session, one opened for another purpose, and an ended or
    expired one are all refused alike.
    """
    try:
        key = uuid.UUID(str(session_id))
    except ValueError:
        raise SessionUnknown("no open matching session has this id") from None
    session = (
        MatchingSession.objects.select_for_update()
        .filter(
            pk=key,
            agency=call.agency,
            purpose=call.purpose,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if session is None:
        raise SessionUnknown("no open matching session has this id for this agency and purpose")
    return session
