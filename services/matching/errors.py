"""Domain errors of private matching; the API maps each to a problem type."""

from services.matching.protocol import MessageInvalid


class MatchingError(Exception):
    """Base class for errors a partner can be shown."""


class SetUnknown(MatchingError):
    """The set named is not one OneCard offers, or its argument is malformed."""


class SetNotAllowed(MatchingError):
    """The agency does not hold the set's scope, or its purpose does not allow that scope."""


class ListTooLarge(MatchingError):
    """The list has more IDs than one call accepts."""


class QuotaExceeded(MatchingError):
    """The agency has matched as many IDs today as it may."""


class SessionUnknown(MatchingError):
    """No open session of this agency and purpose has this id."""


class SessionOutOfStep(MatchingError):
    """The session expects another step (another chunk, or the chunks before the answer)."""


__all__ = [
    "ListTooLarge",
    "MatchingError",
    "MessageInvalid",
    "QuotaExceeded",
    "SessionOutOfStep",
    "SessionUnknown",
    "SetNotAllowed",
    "SetUnknown",
]
