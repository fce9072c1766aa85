from rest_framework import serializers

from cards.api.serializers import NationalIdField


class EligibilityRequestSerializer(serializers.Serializer):
    national_id = NationalIdField()
    programme = serializers.SlugField(max_length=40)
    declared_income = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)


class RuleAnswerSerializer(serializers.Serializer):
    rule = serializers.CharField()
    passed = serializers.BooleanField()


class EligibilitySerializer(serializers.Serializer):
    programme = serializers.CharField()
    eligible = serializers.BooleanField()
    rules = RuleAnswerSerializer(many=True)


class DisbursementSerializer(serializers.Serializer):
    reference = serializers.UUIDField()
    programme = serializers.CharField(source="cycle.programme.code")
    cycle = serializers.IntegerField(source="cycle.number")
    pays_on = serializers.DateField(source="cycle.pays_on")
    card_number = serializers.CharField(source="card.number")
    payout_account = serializers.CharField(source="application.payout_account")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(default="CNY")
    status = serializers.CharField()


class ConfirmationRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["paid", "failed"])
    bank_reference = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ConfirmationSerializer(serializers.Serializer):
    reference = serializers.UUIDField()
    status = serializers.CharField()
    confirmed_at = serializers.DateTimeField()
