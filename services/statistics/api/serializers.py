from rest_framework import serializers

from services.statistics.tables import TABLES


class ReleaseRequestSerializer(serializers.Serializer):
    table = serializers.ChoiceField(choices=list(TABLES), help_text="The table to publish")
    period = serializers.RegexField(r"^[0-9]{4}-(0[1-9]|1[0-2])$", help_text="A closed month, YYYY-MM")


class ReleaseRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.IntegerField(help_text="The noisy count")
    total = serializers.CharField(required=False, help_text="The noisy total in yuan, where the table has one")


class ReleaseSerializer(serializers.Serializer):
    table = serializers.CharField()
    title = serializers.CharField()
    period = serializers.CharField()
    published_at = serializers.DateTimeField()
    privacy = serializers.DictField(help_text="mechanism, measure (zCDP), rho, epsilon at delta, per-measure scale")
    rows = ReleaseRowSerializer(many=True)
