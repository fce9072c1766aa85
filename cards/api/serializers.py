from rest_framework import serializers

# Far above any genuine credential (about 300 characters); the action refuses
# anything over 2048 with reason "oversized", this only bounds the request.
TOKEN_FIELD_MAX_LENGTH = 8192


class CardVerifyRequestSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=TOKEN_FIELD_MAX_LENGTH, trim_whitespace=True)


class CardVerifyResponseSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    card_number = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
