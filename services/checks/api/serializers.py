from rest_framework import serializers

from cards.api.serializers import NationalIdField
from services.checks.selectors import MAX_PREDICATES


class ChecksRequestSerializer(serializers.Serializer):
    national_id = NationalIdField()
    predicates = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=MAX_PREDICATES,
        help_text="Predicates from the registry, e.g. insured_medical, contribution_months_gte:12, age_gte:18",
    )


class ChecksResponseSerializer(serializers.Serializer):
    results = serializers.DictField(child=serializers.BooleanField(), help_text="One boolean per predicate asked")
