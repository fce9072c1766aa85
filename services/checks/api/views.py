"""POST /api/v1/checks: yes/no answers about a resident, never the data behind them."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from services.checks.api.serializers import ChecksRequestSerializer, ChecksResponseSerializer
from services.checks.errors import PredicateNotAllowed, PredicateUnknown
from services.checks.selectors import checks_evaluate
from services.core.api import problems
from services.core.api.base import GatewayAPIView

problems.problem_define(
    "predicate-unknown",
    400,
    _("A predicate is not in the registry or its argument is malformed"),
    domain_errors=(PredicateUnknown,),
)
problems.problem_define(
    "predicate-not-allowed",
    403,
    _("The agency may not ask this predicate for this purpose"),
    domain_errors=(PredicateNotAllowed,),
)


class ChecksView(GatewayAPIView):
    """Answer predicates about one resident with booleans only.

    The endpoint needs no scope of its own: each predicate names its scope,
    and the agency must hold it (and the resident's consent, where the scope
    needs it) for every predicate asked.
    """

    required_scope = None
    consent_required = False

    @extend_schema(
        operation_id="checks_evaluate",
        request=ChecksRequestSerializer,
        responses={200: ChecksResponseSerializer},
        examples=[
            OpenApiExample(
                "A bank assessing a loan",
                value={
                    "national_id": "11010519900307123X",
                    "predicates": ["insured_medical", "contribution_months_gte:12"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Answer",
                value={"results": {"insured_medical": True, "contribution_months_gte:12": True}},
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        serializer = ChecksRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = checks_evaluate(
            national_id=serializer.validated_data["national_id"],
            texts=serializer.validated_data["predicates"],
            call=self.call,
        )
        return Response({"results": results})
