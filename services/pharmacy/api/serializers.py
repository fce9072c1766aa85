from rest_framework import serializers

from cards.api.serializers import TOKEN_FIELD_MAX_LENGTH

TRACEABILITY_CODES_MAX = 500


class SessionOpenSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=TOKEN_FIELD_MAX_LENGTH,
        trim_whitespace=True,
        help_text="The text of the resident's 60-second QR code",
    )


class DispensablePrescriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="prescription.pk")
    drug_code = serializers.CharField(source="prescription.drug_code")
    drug_name = serializers.CharField(source="prescription.drug_name")
    strength = serializers.CharField(source="prescription.strength")
    form = serializers.CharField(source="prescription.form")
    quantity_per_fill = serializers.IntegerField(source="prescription.quantity")
    remaining_quantity = serializers.IntegerField()
    max_days_supply = serializers.IntegerField(source="prescription.max_days_supply")
    min_fill_interval_days = serializers.IntegerField(source="prescription.min_fill_interval_days")
    next_fill_from = serializers.DateTimeField(allow_null=True)
    controlled_class = serializers.CharField(source="prescription.controlled_class")
    valid_until = serializers.DateField(source="prescription.valid_until")


class SessionSerializer(serializers.Serializer):
    session = serializers.UUIDField(source="session.public_id")
    expires_at = serializers.DateTimeField(source="session.expires_at")
    covered = serializers.BooleanField(help_text="Whether the resident is covered by medical insurance today")
    reimbursement_rate = serializers.DecimalField(
        source="session.reimbursement_rate", max_digits=4, decimal_places=3, help_text="Share insurance pays"
    )
    co_pay_rate = serializers.SerializerMethodField(help_text="Share the resident pays")
    prescriptions = DispensablePrescriptionSerializer(many=True)

    def get_co_pay_rate(self, opened) -> str:
        return str(1 - opened.session.reimbursement_rate)


class SessionHolderSerializer(serializers.Serializer):
    session = serializers.UUIDField(source="session.public_id")
    expires_at = serializers.DateTimeField(source="session.expires_at")
    full_name = serializers.CharField(help_text="The cardholder's name, as printed on the card")
    photo = serializers.BooleanField(
        source="has_photo", help_text="Whether an approved card photo can be fetched from the photo endpoint"
    )


class _DispenseSerializer(serializers.Serializer):
    session = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, help_text="Price of the whole fill")
    traceability_codes = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=TRACEABILITY_CODES_MAX,
        default=list,
        help_text="20-digit traceability code of each box handed over",
    )


class DispensationCreateSerializer(_DispenseSerializer):
    prescription = serializers.IntegerField(min_value=1)


class OtcDispensationCreateSerializer(_DispenseSerializer):
    product = serializers.CharField(max_length=32, help_text="Code of the restricted product")


class DispensationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="dispensation.pk")
    session = serializers.UUIDField(source="dispensation.session.public_id")
    prescription = serializers.IntegerField(source="dispensation.prescription_id", allow_null=True)
    product = serializers.CharField(source="dispensation.product.code", allow_null=True, default=None)
    drug_code = serializers.CharField(source="dispensation.drug_code")
    drug_name = serializers.CharField(source="dispensation.drug_name")
    quantity = serializers.IntegerField(source="dispensation.quantity")
    days_supply = serializers.IntegerField(source="dispensation.days_supply")
    price = serializers.DecimalField(source="dispensation.price", max_digits=12, decimal_places=2)
    reimbursement_rate = serializers.DecimalField(
        source="dispensation.reimbursement_rate", max_digits=4, decimal_places=3
    )
    insured_share = serializers.DecimalField(source="dispensation.insured_share", max_digits=12, decimal_places=2)
    resident_share = serializers.DecimalField(source="dispensation.resident_share", max_digits=12, decimal_places=2)
    traceability_codes = serializers.ListField(child=serializers.CharField())
    remaining_quantity = serializers.IntegerField(allow_null=True)
    dispensed_at = serializers.DateTimeField(source="dispensation.dispensed_at")
