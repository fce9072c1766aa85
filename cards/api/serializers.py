import base64
import re

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


# An SD-JWT VC with a portrait is about 40 KB; this bounds the request only.
PRESENTATION_FIELD_MAX_LENGTH = 200_000


class PresentationVerifyRequestSerializer(serializers.Serializer):
    presentation = serializers.CharField(
        max_length=PRESENTATION_FIELD_MAX_LENGTH,
        trim_whitespace=True,
        help_text="An SD-JWT VC presentation: issuer JWT~disclosures~[KB-JWT]",
    )
    aud = serializers.CharField(
        max_length=200,
        required=False,
        help_text="The audience the KB-JWT must name; required for a holder-bound credential",
    )
    nonce = serializers.CharField(
        max_length=200,
        required=False,
        help_text="The nonce the verifier gave the holder, which the KB-JWT must carry; required for a "
        "holder-bound credential, whose presentation is accepted once",
    )


class PresentationVerifyResponseSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    format = serializers.CharField()
    status = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    claims = serializers.DictField(allow_null=True, help_text="Exactly the claims the holder disclosed")
    holder_bound = serializers.BooleanField(allow_null=True)
    withheld = serializers.ListField(
        child=serializers.CharField(),
        help_text="Disclosed claims not returned: `portrait` unless the key holds `cards:photo` under a purpose "
        "that allows it (then each portrait returned is recorded as a view of the resident's photo)",
    )


class Base64UrlField(serializers.CharField):
    """Bytes sent as base64url without padding."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
            raise serializers.ValidationError("must be base64url without padding")
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MdocVerifyRequestSerializer(serializers.Serializer):
    device_response = Base64UrlField(
        max_length=PRESENTATION_FIELD_MAX_LENGTH, help_text="The decrypted ISO/IEC 18013-5 DeviceResponse (CBOR)"
    )
    session_transcript = Base64UrlField(
        max_length=8192, help_text="The SessionTranscript (CBOR) of the session the reader held with the wallet"
    )
