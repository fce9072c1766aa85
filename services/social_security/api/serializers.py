"""Shapes of the social security endpoints.

Batch items are validated by services.social_security.batches (fast enough for
20,000 items and reporting every problem as items[N].field); the item
serializers here describe the shape for the OpenAPI schema.
"""

from rest_framework import serializers

from cards.api.serializers import NationalIdField
from services.social_security.selectors import STATEMENT_FORMATS


class ShareSerializer(serializers.Serializer):
    employer = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Employer's share")
    employee = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Employee's share")


class ContributionsSerializer(serializers.Serializer):
    pension = ShareSerializer(required=False)
    medical = ShareSerializer(required=False)
    unemployment = ShareSerializer(required=False)
    work_injury = ShareSerializer(required=False)
    maternity = ShareSerializer(required=False)


class ContributionItemSerializer(serializers.Serializer):
    national_id = NationalIdField(max_length=None)
    month = serializers.RegexField(r"^\d{4}-\d{2}$", help_text="The month contributed for, YYYY-MM")
    base = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Monthly contribution base")
    contributions = ContributionsSerializer(help_text="One or more of the five insurances")


class EmploymentItemSerializer(serializers.Serializer):
    national_id = NationalIdField(max_length=None)
    started_on = serializers.DateField()
    ended_on = serializers.DateField(required=False, allow_null=True)


class BatchResultSerializer(serializers.Serializer):
    items = serializers.IntegerField(help_text="Items saved")
    rows = serializers.IntegerField(help_text="Rows written (one per insurance for contributions)")


class ClaimQuerySerializer(serializers.Serializer):
    national_id = NationalIdField()


class StatementRequestSerializer(serializers.Serializer):
    national_id = NationalIdField()
    format = serializers.ChoiceField(choices=STATEMENT_FORMATS, default="json")


class StatementLineSerializer(serializers.Serializer):
    month = serializers.SerializerMethodField()
    employer_code = serializers.CharField()
    employer_name = serializers.CharField()
    insurance = serializers.CharField()
    base = serializers.DecimalField(max_digits=12, decimal_places=2)
    employer_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    employee_amount = serializers.DecimalField(max_digits=12, decimal_places=2)

    def get_month(self, line) -> str:
        return f"{line.month:%Y-%m}"


class StatementSerializer(serializers.Serializer):
    resident_name = serializers.CharField()
    national_id_masked = serializers.CharField()
    generated_at = serializers.DateTimeField()
    lines = StatementLineSerializer(many=True)


class ClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    unemployed_since = serializers.DateField()
    submitted_at = serializers.DateTimeField()
    entitled_months = serializers.IntegerField(allow_null=True)
    monthly_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    benefit_starts_on = serializers.DateField(allow_null=True)
    benefit_ends_on = serializers.DateField(allow_null=True, help_text="Exclusive")


class ClaimListSerializer(serializers.Serializer):
    claims = ClaimSerializer(many=True)
