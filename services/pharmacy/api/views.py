"""The partner endpoints of drug purchase: open a session with the QR code, then dispense."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from services.core.api.base import GatewayAPIView
from services.pharmacy.actions import dispensation_create, otc_dispensation_create, session_open
from services.pharmacy.api import problems  # noqa: F401 (publishes the pharmacy problem types)
from services.pharmacy.api.serializers import (
    DispensationCreateSerializer,
    DispensationSerializer,
    OtcDispensationCreateSerializer,
    SessionHolderSerializer,
    SessionOpenSerializer,
    SessionSerializer,
)
from services.pharmacy.declaration import PharmacyScope
from services.pharmacy.selectors import session_holder, session_photo


class SessionOpenView(GatewayAPIView):
    """Redeem the resident's 60-second QR code once; list what may be dispensed to them and the co-pay rate."""

    required_scope = PharmacyScope.PRESCRIPTIONS_READ

    @extend_schema(
        operation_id="pharmacy_sessions_open", request=SessionOpenSerializer, responses={201: SessionSerializer}
    )
    def post(self, request):
        serializer = SessionOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        opened = session_open(pharmacy=self.call.agency, token=serializer.validated_data["token"])
        return Response(SessionSerializer(opened).data, status=status.HTTP_201_CREATED)


class SessionHolderView(GatewayAPIView):
    """Return the name of an open session's cardholder and whether a card photo is approved, for the counter.

    Needs the scope ``cards:photo`` with the purpose ``face-to-face-identification``,
    like the photo itself: the name and the photo are what the counter compares
    with the person. Every call is its own ledger entry.
    """

    required_scope = "cards:photo"

    @extend_schema(operation_id="pharmacy_sessions_holder", responses={200: SessionHolderSerializer})
    def get(self, request, session_id):
        holder = session_holder(pharmacy=self.call.agency, session_id=session_id)
        response = Response(SessionHolderSerializer(holder).data)
        response["Cache-Control"] = "no-store, private"
        return response


class SessionPhotoView(GatewayAPIView):
    """Return the cardholder's card photo for an open session, to compare with the face at the counter.

    Needs the scope ``cards:photo`` and a purpose that allows it
    (``face-to-face-identification``). Every call is its own ledger entry.
    """

    required_scope = "cards:photo"

    @extend_schema(
        operation_id="pharmacy_sessions_photo",
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def get(self, request, session_id):
        # A plain response: the JPEG bytes go out as they are; errors still go through the problem handler.
        jpeg = session_photo(pharmacy=self.call.agency, session_id=session_id)
        response = HttpResponse(jpeg, content_type="image/jpeg")
        response["Cache-Control"] = "no-store, private"
        return response


class _DispenseView(GatewayAPIView):
    required_scope = PharmacyScope.DISPENSE
    idempotency_required = True  # a retry must never dispense twice
    request_serializer: type[serializers.Serializer]

    def post(self, request):
        serializer = self.request_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            dispensed = self.dispense(serializer.validated_data)
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return Response(DispensationSerializer(dispensed).data, status=status.HTTP_201_CREATED)


class DispensationCreateView(_DispenseView):
    """Dispense a full or partial fill of a prescription of the session's cardholder."""

    request_serializer = DispensationCreateSerializer

    @extend_schema(
        operation_id="pharmacy_dispensations_create",
        request=DispensationCreateSerializer,
        responses={201: DispensationSerializer},
    )
    def post(self, request):
        return super().post(request)

    def dispense(self, data):
        return dispensation_create(
            pharmacy=self.call.agency,
            session_id=data["session"],
            prescription_id=data["prescription"],
            quantity=data["quantity"],
            price=data["price"],
            traceability_codes=data["traceability_codes"],
        )


class OtcDispensationCreateView(_DispenseView):
    """Sell a restricted over-the-counter product (pseudoephedrine-type) to the session's cardholder."""

    request_serializer = OtcDispensationCreateSerializer

    @extend_schema(
        operation_id="pharmacy_otc_dispensations_create",
        request=OtcDispensationCreateSerializer,
        responses={201: DispensationSerializer},
    )
    def post(self, request):
        return super().post(request)

    def dispense(self, data):
        return otc_dispensation_create(
            pharmacy=self.call.agency,
            session_id=data["session"],
            product_code=data["product"],
            quantity=data["quantity"],
            price=data["price"],
            traceability_codes=data["traceability_codes"],
        )
