"""The partner endpoints of social security."""

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from services.core.api import problems
from services.core.api.base import GatewayAPIView
from services.social_security.actions import contributions_report, employments_report
from services.social_security.api.serializers import (
    BatchResultSerializer,
    ClaimListSerializer,
    ClaimQuerySerializer,
    ContributionItemSerializer,
    EmploymentItemSerializer,
    StatementRequestSerializer,
    StatementSerializer,
)
from services.social_security.declaration import SocialSecurityScope
from services.social_security.errors import BatchRejected
from services.social_security.selectors import claim_list_for_partner, contribution_statement_for_partner

BatchInvalid = problems.problem_define("batch-invalid", 400, _("The batch has invalid items; nothing was saved"))


def batch_problem(error: BatchRejected) -> problems.Problem:
    """Return the problem listing every item problem as 'items[N].field: message'."""
    return BatchInvalid(str(error), extensions={"problems": error.messages})


_CONTRIBUTION_EXAMPLE = [
    {
        "national_id": "11010519900307123X",
        "month": "2026-03",
        "base": "8000.00",
        "contributions": {
            "pension": {"employer": "1280.00", "employee": "640.00"},
            "medical": {"employer": "720.00", "employee": "160.00"},
            "unemployment": {"employer": "40.00", "employee": "40.00"},
            "work_injury": {"employer": "16.00", "employee": "0.00"},
            "maternity": {"employer": "64.00", "employee": "0.00"},
        },
    }
]


class EmploymentReportView(GatewayAPIView):
    """Report employment periods: one JSON list per call, saved all or nothing."""

    required_scope = SocialSecurityScope.EMPLOYMENTS_WRITE

    @extend_schema(
        operation_id="social_security_employments_report",
        request=EmploymentItemSerializer(many=True),
        responses={201: BatchResultSerializer},
    )
    def post(self, request):
        try:
            result = employments_report(employer=self.call.agency, items=request.data)
        except BatchRejected as error:
            raise batch_problem(error) from None
        return Response({"items": result.items, "rows": result.rows}, status=status.HTTP_201_CREATED)


class ContributionReportView(GatewayAPIView):
    """Report monthly contributions to the five insurances: one JSON list per call, saved all or nothing."""

    required_scope = SocialSecurityScope.CONTRIBUTIONS_WRITE

    @extend_schema(
        operation_id="social_security_contributions_report",
        request=ContributionItemSerializer(many=True),
        responses={201: BatchResultSerializer},
        examples=[
            OpenApiExample("One employee's month", value=_CONTRIBUTION_EXAMPLE, request_only=True),
            OpenApiExample("Saved", value={"items": 1, "rows": 5}, response_only=True),
        ],
    )
    def post(self, request):
        try:
            result = contributions_report(employer=self.call.agency, items=request.data)
        except BatchRejected as error:
            raise batch_problem(error) from None
        return Response({"items": result.items, "rows": result.rows}, status=status.HTTP_201_CREATED)


class StatementView(GatewayAPIView):
    """A resident's contribution statement as JSON, CSV or PDF (needs the resident's consent)."""

    required_scope = SocialSecurityScope.STATEMENT_READ

    @extend_schema(
        operation_id="social_security_statement",
        request=StatementRequestSerializer,
        responses={
            200: OpenApiResponse(StatementSerializer, description="JSON; text/csv or application/pdf when asked"),
        },
    )
    def post(self, request):
        serializer = StatementRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        format = serializer.validated_data["format"]
        result = contribution_statement_for_partner(
            national_id=serializer.validated_data["national_id"], format=format, call=self.call
        )
        if format == "json":
            return Response(StatementSerializer(result).data)
        content_type = "text/csv; charset=utf-8" if format == "csv" else "application/pdf"
        response = HttpResponse(result, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="contribution-statement.{format}"'
        return response


class ClaimQueryView(GatewayAPIView):
    """A resident's unemployment benefit claims and their entitlement."""

    required_scope = SocialSecurityScope.ELIGIBILITY_READ

    @extend_schema(
        operation_id="social_security_claims_query",
        request=ClaimQuerySerializer,
        responses={200: ClaimListSerializer},
    )
    def post(self, request):
        serializer = ClaimQuerySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claims = claim_list_for_partner(national_id=serializer.validated_data["national_id"], call=self.call)
        return Response(ClaimListSerializer({"claims": claims}).data)
