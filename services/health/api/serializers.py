from rest_framework import serializers

from cards.api.serializers import NationalIdField
from services.health.models import Prescription, Visit


class HealthResidentSerializer(serializers.Serializer):
    national_id = NationalIdField()


class CoverageSerializer(serializers.Serializer):
    covered = serializers.BooleanField()
    reimbursement_rate = serializers.DecimalField(max_digits=4, decimal_places=3)
    covered_until = serializers.DateField(allow_null=True, help_text="Last day covered by contributions made so far")


class VisitRecordSerializer(HealthResidentSerializer):
    visited_on = serializers.DateField()
    icd10_code = serializers.CharField(max_length=8, help_text="ICD-10 code, e.g. E11.9")
    diagnosis = serializers.CharField(max_length=200, help_text="Diagnosis text")
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class VisitSerializer(serializers.ModelSerializer):
    hospital = serializers.CharField(source="hospital.code")

    class Meta:
        model = Visit
        fields = [
            "id",
            "hospital",
            "visited_on",
            "icd10_code",
            "diagnosis",
            "cost",
            "reimbursement_rate",
            "insured_share",
        ]


class VisitListSerializer(serializers.Serializer):
    visits = VisitSerializer(many=True)


class PrescriptionIssueSerializer(HealthResidentSerializer):
    visit_id = serializers.IntegerField(required=False, allow_null=True)
    prescriber = serializers.CharField(max_length=100)
    drug_code = serializers.CharField(max_length=32)
    drug_name = serializers.CharField(max_length=200)
    strength = serializers.CharField(max_length=50)
    form = serializers.ChoiceField(choices=Prescription.Form.choices)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    repeats_allowed = serializers.IntegerField(min_value=0, max_value=12, default=0)
    min_fill_interval_days = serializers.IntegerField(min_value=0, max_value=365, default=0)
    max_days_supply = serializers.IntegerField(min_value=1, max_value=365)
    controlled_class = serializers.ChoiceField(choices=Prescription.Controlled.choices, default="none")
    valid_until = serializers.DateField()


class PrescriptionSerializer(serializers.ModelSerializer):
    hospital = serializers.CharField(source="hospital.code")

    class Meta:
        model = Prescription
        fields = [
            "id",
            "hospital",
            "visit",
            "prescriber",
            "drug_code",
            "drug_name",
            "strength",
            "form",
            "quantity",
            "repeats_allowed",
            "min_fill_interval_days",
            "max_days_supply",
            "controlled_class",
            "issued_at",
            "valid_until",
            "status",
        ]
