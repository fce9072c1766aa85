from rest_framework import serializers

from cards.api.serializers import NationalIdField
from services.core.models import Consent


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="Stable URI of the problem type, e.g. /api/problems/scope-missing")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text="For invalid-request: one entry per invalid field, with a JSON pointer.",
    )
    retry_after = serializers.IntegerField(required=False, help_text="For rate-limited: seconds to wait.")


class AgencySerializer(serializers.Serializer):
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_zh_hans = serializers.CharField()
    kind = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    purposes = serializers.ListField(child=serializers.CharField())


class ResidentVerifyRequestSerializer(serializers.Serializer):
    national_id = NationalIdField()
    full_name = serializers.CharField(max_length=100)


class ResidentVerifyResponseSerializer(serializers.Serializer):
    match = serializers.BooleanField(help_text="Whether the name belongs to the resident with this national ID")


class ConsentFilterSerializer(serializers.Serializer):
    scope = serializers.CharField(required=False, max_length=64)
    purpose = serializers.CharField(required=False, max_length=64)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class ConsentSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = ["receipt_id", "scope", "purpose", "granted_at", "expires_at", "revoked_at", "active"]

    def get_active(self, consent: Consent) -> bool:
        return consent.is_active()
