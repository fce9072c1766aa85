"""Partner endpoints of the cards app, behind the gateway (cards itself cannot import the gateway)."""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from cards.actions import card_mdoc_presentation_verify, card_presentation_verify, card_token_verify
from cards.api.serializers import (
    CardVerifyRequestSerializer,
    CardVerifyResponseSerializer,
    MdocVerifyRequestSerializer,
    PresentationVerifyRequestSerializer,
    PresentationVerifyResponseSerializer,
)
from services.core.api.base import GatewayAPIView
from services.core.declaration import CoreScope
from services.core.selectors import photo_allowed


class CardVerifyView(GatewayAPIView):
    """Check a QR credential and the card's status; a dynamic QR code is good for one use."""

    required_scope = CoreScope.CARDS_VERIFY

    @extend_schema(
        operation_id="cards_verify",
        request=CardVerifyRequestSerializer,
        responses={200: CardVerifyResponseSerializer},
        examples=[
            OpenApiExample("Request", value={"token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9..."}, request_only=True),
            OpenApiExample(
                "A card in force",
                value={"valid": True, "card_number": "9123456789012345678", "status": "active", "reason": None},
                response_only=True,
            ),
            OpenApiExample(
                "A second scan of a dynamic QR code",
                value={
                    "valid": False,
                    "card_number": "9123456789012345678",
                    "status": "active",
                    "reason": "already_used",
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        serializer = CardVerifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = card_token_verify(token=serializer.validated_data["token"])
        return Response(CardVerifyResponseSerializer(asdict(result)).data)


class CardPresentationVerifyView(GatewayAPIView):
    """Check an SD-JWT VC presentation of a card; report exactly the disclosed claims and the card's status now."""

    required_scope = "cards:verify"

    @extend_schema(
        operation_id="cards_presentations_verify",
        request=PresentationVerifyRequestSerializer,
        responses={200: PresentationVerifyResponseSerializer},
    )
    def post(self, request):
        serializer = PresentationVerifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = card_presentation_verify(
            presentation=data["presentation"],
            aud=data.get("aud"),
            nonce=data.get("nonce"),
            portrait_allowed=photo_allowed(call=self.call),
        )
        return Response(PresentationVerifyResponseSerializer(asdict(result)).data)


class CardMdocVerifyView(GatewayAPIView):
    """Check an ISO/IEC 18013-5 DeviceResponse read in a session: chain, MSO, digests, device signature, status now."""

    required_scope = "cards:verify"

    @extend_schema(
        operation_id="cards_mdoc_verify",
        request=MdocVerifyRequestSerializer,
        responses={200: PresentationVerifyResponseSerializer},
    )
    def post(self, request):
        serializer = MdocVerifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = card_mdoc_presentation_verify(
            device_response=data["device_response"],
            session_transcript=data["session_transcript"],
            portrait_allowed=photo_allowed(call=self.call),
        )
        return Response(PresentationVerifyResponseSerializer(asdict(result)).data)
