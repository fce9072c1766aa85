"""Domain errors of data checks; the API maps each to a problem type."""


class ChecksError(Exception):
    """Base class for errors a partner can be shown."""


class PredicateUnknown(ChecksError):
    """A predicate is not in the registry, or its argument is malformed."""


class PredicateNotAllowed(ChecksError):
    """The agency does not hold the scope a predicate needs, or its purpose does not allow that scope."""
