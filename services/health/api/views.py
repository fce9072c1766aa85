"""The partner endpoints of health."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from services.core.api.base import GatewayAPIView
from services.core.selectors import resident_find_for_partner
from services.health.actions import prescription_issue, visit_record
from services.health.api.serializers import (
    CoverageSerializer,
    HealthResidentSerializer,
    PrescriptionIssueSerializer,
    PrescriptionSerializer,
    VisitListSerializer,
    VisitRecordSerializer,
    VisitSerializer,
)
from services.health.declaration import HealthScope
from services.health.errors import HealthRecordInvalid
from services.health.selectors import coverage_get_for_partner, visit_list_for_partner


class CoverageView(GatewayAPIView):
    """Whether a resident is covered by medical insurance today, and at which reimbursement rate."""

    required_scope = HealthScope.COVERAGE_READ

    @extend_schema(
        operation_id="health_coverage",
        request=HealthResidentSerializer,
        responses={200: CoverageSerializer},
        examples=[
            OpenApiExample(
                "Covered",
                value={"covered": True, "reimbursement_rate": "0.700", "covered_until": "2026-06-30"},
                response_only=True,
            )
        ],
    )
    def post(self, request):
        serializer = HealthResidentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coverage = coverage_get_for_partner(**serializer.validated_data, call=self.call)
        return Response(CoverageSerializer(coverage).data)


class VisitRecordView(GatewayAPIView):
    """Record a visit; OneCard works out the insured share from the resident's coverage on that day."""

    required_scope = HealthScope.VISITS_WRITE

    @extend_schema(operation_id="health_visits_record", request=VisitRecordSerializer, responses={201: VisitSerializer})
    def post(self, request):
        serializer = VisitRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        resident = resident_find_for_partner(national_id=data.pop("national_id"))
        try:
            visit = visit_record(hospital=self.call.agency, resident=resident, **data)
        except HealthRecordInvalid as error:
            raise serializers.ValidationError(error.errors) from None
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class VisitQueryView(GatewayAPIView):
    """A resident's visits (needs the resident's consent)."""

    required_scope = HealthScope.VISITS_READ

    @extend_schema(
        operation_id="health_visits_query", request=HealthResidentSerializer, responses={200: VisitListSerializer}
    )
    def post(self, request):
        serializer = HealthResidentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visits = visit_list_for_partner(**serializer.validated_data, call=self.call)
        return Response(VisitListSerializer({"visits": visits}).data)


class PrescriptionIssueView(GatewayAPIView):
    """Issue a prescription for pharmacies to dispense."""

    required_scope = HealthScope.PRESCRIPTIONS_WRITE

    @extend_schema(
        operation_id="health_prescriptions_issue",
        request=PrescriptionIssueSerializer,
        responses={201: PrescriptionSerializer},
    )
    def post(self, request):
        serializer = PrescriptionIssueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        resident = resident_find_for_partner(national_id=data.pop("national_id"))
        try:
            prescription = prescription_issue(hospital=self.call.agency, resident=resident, **data)
        except HealthRecordInvalid as error:
            raise serializers.ValidationError(error.errors) from None
        return Response(PrescriptionSerializer(prescription).data, status=status.HTTP_201_CREATED)
