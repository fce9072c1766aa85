from rest_framework import serializers

_B64 = "Standard base64 of a serialised openmined-psi protobuf message"


class SessionStartSerializer(serializers.Serializer):
    set = serializers.CharField(
        max_length=80, help_text="The set to match against: active-card, insured-months:N or grant-recipient:CODE"
    )
    setup = serializers.CharField(
        trim_whitespace=False,
        help_text=f"{_B64}: the partner's list blinded under its own key, as a psi ServerSetup with the RAW "
        "data structure (one element per distinct national ID)",
    )


class ChunkSerializer(serializers.Serializer):
    session = serializers.UUIDField(help_text="The session's id")
    set_size = serializers.IntegerField(help_text="How many items OneCard's set has, padded with random items")
    chunks = serializers.IntegerField(help_text="How many chunks OneCard's blinded set is sent in")
    chunk = serializers.IntegerField(
        allow_null=True, help_text="The number of the chunk in 'request', to answer next; null when all are answered"
    )
    request = serializers.CharField(
        allow_null=True, help_text=f"{_B64}: a psi Request, OneCard's blinded set for this chunk"
    )
    expires_at = serializers.DateTimeField(help_text="The session ends unanswered at this time")


class ChunkAnswerSerializer(serializers.Serializer):
    response = serializers.CharField(
        trim_whitespace=False,
        help_text=f"{_B64}: a psi Response, the partner's server processing the chunk's request",
    )


class AnswerRequestSerializer(serializers.Serializer):
    request = serializers.CharField(
        trim_whitespace=False,
        help_text=f"{_B64}: a psi Request from a client created with reveal_intersection=True, over the same list",
    )


class AnswerSerializer(serializers.Serializer):
    setup = serializers.CharField(help_text=f"{_B64}: a psi ServerSetup over the residents OneCard found")
    response = serializers.CharField(help_text=f"{_B64}: a psi Response to the partner's request")
