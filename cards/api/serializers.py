from rest_framework import serializers

from cards.national_id import normalize_national_id

# Far above any genuine credential (about 300 characters); the action refuses
# anything over 2048 with reason "oversized", this only bounds the request.
TOKEN_FIELD_MAX_LENGTH = 8192


class NationalIdField(serializers.CharField):
    """A national ID as a partner sent it, normalised (NFKC, no spaces, upper-case X) before any check."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", "18-character resident identity number")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return normalize_national_id(super().to_internal_value(data))


class CardVerifyRequestSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=TOKEN_FIELD_MAX_LENGTH, trim_whitespace=True)


class CardVerifyResponseSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    card_number = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
