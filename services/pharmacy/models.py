"""Dispensing sessions opened with the dynamic QR code, dispensations, the limits regulators set, and settlement."""

import re
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The national drug traceability code printed on each box: 20 digits.
TRACEABILITY_CODE = re.compile(r"^[0-9]{20}$")


class DispensingSession(models.Model):
    """One resident at one pharmacy counter, opened by redeeming their 60-second QR code."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    pharmacy = models.ForeignKey(
        "services_core.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "pharmacy"},
        verbose_name=_("pharmacy"),
    )
    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="dispensing_sessions", verbose_name=_("resident")
    )
    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="+", verbose_name=_("card"))
    # The redeemed credential's jti: one QR code opens at most one session.
    jti = models.CharField(_("jti"), max_length=64, unique=True)
    reimbursement_rate = models.DecimalField(_("reimbursement rate"), max_digits=4, decimal_places=3)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("dispensing session")
        verbose_name_plural = _("dispensing sessions")
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return _("session %(id)s") % {"id": self.public_id}


class ControlledCap(models.Model):
    """How many days' supply of one controlled class a resident may get across all pharmacies in a period."""

    controlled_class = models.CharField(_("controlled class"), max_length=16, unique=True)
    max_days_supply = models.PositiveSmallIntegerField(_("maximum days' supply per period"))
    period_days = models.PositiveSmallIntegerField(_("period in days"), default=30, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("controlled-drug cap")
        verbose_name_plural = _("controlled-drug caps")
        ordering = ["controlled_class"]

    def __str__(self) -> str:
        return _("%(class)s: %(days)s days per %(period)s days") % {
            "class": self.controlled_class,
            "days": self.max_days_supply,
            "period": self.period_days,
        }

    def clean(self) -> None:
        from services.health.models import Prescription

        allowed = [code for code in Prescription.Controlled.values if code != Prescription.Controlled.NONE]
        if self.controlled_class not in allowed:
            raise ValidationError({"controlled_class": _("Use one of: %(classes)s.") % {"classes": ", ".join(allowed)}})


class OtcRestriction(models.Model):
    """A restricted ingredient sold over the counter (pseudoephedrine-type) and its per-resident period limit."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("ingredient"), max_length=100)
    max_amount_mg = models.PositiveIntegerField(_("maximum amount per period (mg)"))
    period_days = models.PositiveSmallIntegerField(_("period in days"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("over-the-counter restriction")
        verbose_name_plural = _("over-the-counter restrictions")
        ordering = ["code"]

    def __str__(self) -> str:
        return _("%(name)s: %(amount)s mg per %(period)s days") % {
            "name": self.name,
            "amount": self.max_amount_mg,
            "period": self.period_days,
        }


class OtcProduct(models.Model):
    """A restricted over-the-counter product: one pack holds AMOUNT_MG of the restricted ingredient."""

    code = models.CharField(_("product code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    restriction = models.ForeignKey(
        OtcRestriction, on_delete=models.PROTECT, related_name="products", verbose_name=_("restriction")
    )
    amount_mg = models.PositiveIntegerField(_("restricted ingredient per pack (mg)"), validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("restricted over-the-counter product")
        verbose_name_plural = _("restricted over-the-counter products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Dispensation(models.Model):
    """Drugs handed over at a pharmacy: a fill of a prescription or a restricted over-the-counter sale."""

    session = models.ForeignKey(
        DispensingSession, on_delete=models.PROTECT, related_name="dispensations", verbose_name=_("session")
    )
    pharmacy = models.ForeignKey(
        "services_core.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("pharmacy")
    )
    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="dispensations", verbose_name=_("resident")
    )
    prescription = models.ForeignKey(
        "health.Prescription",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispensations",
        verbose_name=_("prescription"),
    )
    product = models.ForeignKey(
        OtcProduct, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    drug_code = models.CharField(_("drug code"), max_length=32)
    drug_name = models.CharField(_("drug name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    days_supply = models.PositiveSmallIntegerField(_("days' supply"), default=0)
    controlled_class = models.CharField(_("controlled class"), max_length=16, default="none")
    restricted_amount_mg = models.PositiveIntegerField(_("restricted ingredient (mg)"), default=0)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    reimbursement_rate = models.DecimalField(_("reimbursement rate"), max_digits=4, decimal_places=3)
    insured_share = models.DecimalField(_("insured share"), max_digits=12, decimal_places=2)
    resident_share = models.DecimalField(_("resident share (co-pay)"), max_digits=12, decimal_places=2)
    dispensed_at = models.DateTimeField(_("dispensed"), default=timezone.now)

    class Meta:
        verbose_name = _("dispensation")
        verbose_name_plural = _("dispensations")
        ordering = ["-dispensed_at", "-id"]
        indexes = [
            models.Index(fields=["resident", "dispensed_at"], name="pharmacy_disp_resident"),
            models.Index(fields=["pharmacy", "dispensed_at"], name="pharmacy_disp_pharmacy"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(prescription__isnull=False, product__isnull=True)
                | Q(prescription__isnull=True, product__isnull=False),
                name="pharmacy_disp_prescription_xor_product",
            ),
            models.CheckConstraint(
                condition=Q(insured_share__gte=0)
                & Q(resident_share__gte=0)
                & Q(price=F("insured_share") + F("resident_share")),
                name="pharmacy_disp_shares_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug_name} × {self.quantity}"


class TraceabilityCode(models.Model):
    """A box's traceability code, sold once in the whole country: the unique constraint enforces it."""

    code = models.CharField(
        _("traceability code"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(TRACEABILITY_CODE, _("A traceability code is 20 digits."))],
    )
    dispensation = models.ForeignKey(
        Dispensation, on_delete=models.PROTECT, related_name="traceability_codes", verbose_name=_("dispensation")
    )

    class Meta:
        verbose_name = _("traceability code")
        verbose_name_plural = _("traceability codes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class SettlementReport(models.Model):
    """One pharmacy's dispensations of one day, with what insurance owes and what residents paid."""

    pharmacy = models.ForeignKey(
        "services_core.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("pharmacy")
    )
    day = models.DateField(_("day"))
    dispensation_count = models.PositiveIntegerField(_("dispensations"))
    total_price = models.DecimalField(_("total price"), max_digits=14, decimal_places=2)
    insured_total = models.DecimalField(_("insured share"), max_digits=14, decimal_places=2)
    resident_total = models.DecimalField(_("resident share"), max_digits=14, decimal_places=2)
    produced_at = models.DateTimeField(_("produced"), default=timezone.now)

    class Meta:
        verbose_name = _("settlement report")
        verbose_name_plural = _("settlement reports")
        ordering = ["-day", "pharmacy"]
        constraints = [models.UniqueConstraint(fields=["pharmacy", "day"], name="pharmacy_settlement_one_per_day")]

    def __str__(self) -> str:
        return f"{self.pharmacy.code} {self.day}"


class SuspiciousPatternFlag(models.Model):
    """A pattern a regulator should look at, e.g. one resident at several pharmacies within a week."""

    class Kind(models.TextChoices):
        PHARMACY_HOPPING = "pharmacy_hopping", _("many pharmacies in a short time")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        REVIEWED = "reviewed", _("reviewed")

    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="+", verbose_name=_("resident")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=300)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.CharField(_("reviewed by"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("suspicious pattern")
        verbose_name_plural = _("suspicious patterns")
        ordering = ["status", "-raised_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.raised_at:%Y-%m-%d})"
