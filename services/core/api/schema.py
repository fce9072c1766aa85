"""OpenAPI generation for the gateway: headers, security and problem responses on every endpoint."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from services.core.api import problems
from services.core.api.base import GatewayAPIView
from services.core.api.serializers import ProblemSerializer


class AgencyKeyScheme(OpenApiAuthenticationExtension):
    target_class = "services.core.api.authentication.AgencyKeyAuthentication"
    name = "agencyKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The agency's API key: `Authorization: Bearer <prefix>.<secret>`.",
        }


_HEADERS = [
    OpenApiParameter(
        "X-Purpose",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="Why this call is made: a purpose code granted to the agency and allowed for the endpoint's scope.",
    ),
    OpenApiParameter(
        "X-Case-Id",
        str,
        OpenApiParameter.HEADER,
        description="The agency's own case or file number, written into the ledger entry.",
    ),
]
_IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string; a repeat with the same key replays the first response.",
)

_IDEMPOTENCY_REQUIRED = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Required here (428 without): any unique string; a repeat with the same key replays the first"
    " response, so a retry never acts twice.",
)


class GatewayAutoSchema(AutoSchema):
    def _is_gateway(self) -> bool:
        return isinstance(self.view, GatewayAPIView)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_gateway():
            parameters += _HEADERS
            if self.method == "POST":
                required = getattr(self.view, "idempotency_required", False)
                parameters.append(_IDEMPOTENCY_REQUIRED if required else _IDEMPOTENCY)
        return parameters

    def _problem_statuses(self) -> list[int]:
        statuses = [401, 403, 406, 429, 500]
        if self.method == "POST":
            statuses += [400, 409, 413, 415, 422]
            if getattr(self.view, "idempotency_required", False):
                statuses.append(428)
        else:
            statuses += [400, 404]
        return sorted(set(statuses))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self._is_gateway():
            return responses
        component = self.resolve_serializer(ProblemSerializer, direction)
        titles: dict[int, list[str]] = {}
        for problem in problems.PROBLEMS.values():
            titles.setdefault(problem.status_code, []).append(f"`{problems.PROBLEM_BASE}{problem.slug}`")
        for status in self._problem_statuses():
            response = {
                "description": "Problem details (RFC 9457): " + ", ".join(titles.get(status, [])),
                "content": {problems.PROBLEM_CONTENT_TYPE: {"schema": component.ref}},
            }
            if status == 429:
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}
                }
            responses[str(status)] = response
        return responses
