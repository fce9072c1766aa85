"""The partner endpoints of services.core."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from services.core.api.base import GatewayAPIView
from services.core.api.serializers import (
    AgencySerializer,
    ConsentFilterSerializer,
    ConsentSerializer,
    ResidentVerifyRequestSerializer,
    ResidentVerifyResponseSerializer,
)
from services.core.declaration import CoreScope
from services.core.models import Consent
from services.core.selectors import (
    agency_purposes,
    agency_scopes,
    consent_list_for_agency,
    consent_list_record,
    resident_identity_verify,
)


class AgencyView(GatewayAPIView):
    """The calling agency, with the scopes and purposes it holds."""

    required_scope = None

    @extend_schema(
        operation_id="agency_get",
        responses={200: AgencySerializer},
        examples=[
            OpenApiExample(
                "A bank",
                value={
                    "code": "demo-bank",
                    "name_en": "Demo Bank",
                    "name_zh_hans": "演示银行",
                    "kind": "bank",
                    "scopes": ["cards:verify", "residents:verify"],
                    "purposes": ["identity-verification"],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        agency = self.call.agency
        data = {
            "code": agency.code,
            "name_en": agency.name_en,
            "name_zh_hans": agency.name_zh_hans,
            "kind": agency.kind,
            "scopes": agency_scopes(agency=agency),
            "purposes": agency_purposes(agency=agency),
        }
        return Response(AgencySerializer(data).data)


class ResidentVerifyView(GatewayAPIView):
    """Check that a national ID and a name belong to the same resident (KYC)."""

    required_scope = CoreScope.RESIDENTS_VERIFY

    @extend_schema(
        operation_id="residents_verify",
        request=ResidentVerifyRequestSerializer,
        responses={200: ResidentVerifyResponseSerializer},
        examples=[
            OpenApiExample(
                "Request", value={"national_id": "11010519900307123X", "full_name": "李伟"}, request_only=True
            ),
            OpenApiExample("Match", value={"match": True}, response_only=True),
        ],
    )
    def post(self, request):
        serializer = ResidentVerifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        match = resident_identity_verify(**serializer.validated_data, call=self.call)
        return Response(ResidentVerifyResponseSerializer({"match": match}).data)


class ConsentListView(GatewayAPIView, ListAPIView):
    """The consents residents have given the calling agency, newest first, a page at a time."""

    required_scope = None
    serializer_class = ConsentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Consent.objects.none()
        filters = ConsentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return consent_list_for_agency(agency=self.call.agency, **filters.validated_data)

    def paginate_queryset(self, queryset):
        return consent_list_record(consents=super().paginate_queryset(queryset))

    @extend_schema(
        operation_id="consents_list",
        parameters=[
            OpenApiParameter("scope", str, description="Only consents for this scope"),
            OpenApiParameter("purpose", str, description="Only consents for this purpose"),
            OpenApiParameter("active", bool, description="true: only consents in force; false: only ended ones"),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
