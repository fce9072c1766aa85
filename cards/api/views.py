from dataclasses import asdict

from rest_framework.response import Response
from rest_framework.views import APIView

from cards.actions import card_token_verify
from cards.api.serializers import CardVerifyRequestSerializer, CardVerifyResponseSerializer


class CardVerifyView(APIView):
    """POST /api/v1/cards/verify: check a QR credential and the card's status; one use for dynamic ones."""

    required_scope = "cards:verify"

    def post(self, request):
        serializer = CardVerifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = card_token_verify(token=serializer.validated_data["token"])
        return Response(CardVerifyResponseSerializer(asdict(result)).data)
