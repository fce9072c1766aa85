"""Domain errors raised by services.core; the API maps each to a problem type."""


class ServicesError(Exception):
    """Base class for errors a caller can show to a partner or a caseworker."""


class NationalIdInvalid(ServicesError):
    """A national ID sent by a partner is malformed."""


class ConsentMissing(ServicesError):
    """The resident has not given this agency consent for this scope and purpose."""


class ConsentInvalid(ServicesError):
    """A consent names a scope or purpose that does not fit together."""


class IdempotencyKeyReused(ServicesError):
    """An Idempotency-Key was sent again with a different request."""


class IdempotencyKeyInFlight(ServicesError):
    """The first request with this Idempotency-Key has not finished yet."""


class CredentialsInvalid(ServicesError):
    """No API key matches the one presented."""


class CredentialsRevoked(ServicesError):
    """The API key presented was revoked."""


class CredentialsExpired(ServicesError):
    """The API key presented has expired."""


class AgencyInactive(ServicesError):
    """The agency behind the API key is suspended."""


class ScopeWithdrawn(ServicesError):
    """A stored answer relied on a scope the agency no longer holds (for the purpose named)."""
