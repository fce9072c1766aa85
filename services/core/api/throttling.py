"""Per-agency request limits on the Django cache (Redis in production, local memory in the embedded default)."""

from rest_framework.throttling import SimpleRateThrottle

from services.core.api.authentication import AgencyPrincipal


class AgencyRateThrottle(SimpleRateThrottle):
    """Limit each agency to its own rate, or the default ``agency`` rate from settings."""

    scope = "agency"

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if isinstance(principal, AgencyPrincipal) and principal.agency.throttle_rate:
            self.rate = principal.agency.throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        principal = request.user
        if isinstance(principal, AgencyPrincipal):
            ident = f"agency:{principal.agency.code}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
