"""POST /api/v1/statistics/releases: publish one table of a closed month, or get it back if already released."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from services.core.api import problems
from services.core.api.base import GatewayAPIView
from services.statistics.actions import period_publish
from services.statistics.api.serializers import ReleaseRequestSerializer, ReleaseSerializer
from services.statistics.declaration import StatisticsScope
from services.statistics.errors import BudgetExhausted, PeriodInvalid, PeriodNotClosed
from services.statistics.periods import period_parse
from services.statistics.selectors import release_public

problems.problem_define(
    "privacy-budget-exhausted",
    409,
    _("Publishing this table would spend more of the month's privacy budget than its limit"),
    domain_errors=(BudgetExhausted,),
)
problems.problem_define(
    "period-invalid", 400, _("The period is not a month written YYYY-MM"), domain_errors=(PeriodInvalid,)
)
problems.problem_define(
    "period-not-closed", 409, _("The month (or its last ISO week) has not ended yet"), domain_errors=(PeriodNotClosed,)
)


class ReleasePublishView(GatewayAPIView):
    """Publish a table of a closed month under differential privacy; a release is final.

    Asking again for a table already released answers 200 with the stored
    release: never fresh noise, which could be averaged away.
    """

    required_scope = StatisticsScope.PUBLISH

    @extend_schema(
        operation_id="statistics_release_publish",
        request=ReleaseRequestSerializer,
        responses={201: ReleaseSerializer, 200: ReleaseSerializer},
        examples=[OpenApiExample("Publish", value={"table": "residents", "period": "2026-10"}, request_only=True)],
    )
    def post(self, request):
        serializer = ReleaseRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        period = period_parse(serializer.validated_data["period"])
        published = period_publish(period=period, tables=[serializer.validated_data["table"]])
        release = published.releases[0]
        return Response(release_public(release), status=201 if published.new else 200)
