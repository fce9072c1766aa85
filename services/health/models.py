"""Hospital visits and the prescriptions hospitals issue; coverage is derived from contributions, not stored."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# ICD-10: a letter, two digits, then optionally a dot and up to four characters (e.g. J45, E11.9, S52.501).
ICD10_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


class Visit(models.Model):
    """A visit to a hospital, with the diagnosis, what it cost and what medical insurance pays."""

    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="visits", verbose_name=_("resident")
    )
    hospital = models.ForeignKey(
        "services_core.Agency",
        on_delete=models.PROTECT,
        related_name="visits",
        limit_choices_to={"kind": "hospital"},
        verbose_name=_("hospital"),
    )
    visited_on = models.DateField(_("visited on"))
    icd10_code = models.CharField(
        _("ICD-10 code"), max_length=8, validators=[RegexValidator(ICD10_CODE, _("Not an ICD-10 code such as E11.9."))]
    )
    diagnosis = models.CharField(_("diagnosis"), max_length=200)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    reimbursement_rate = models.DecimalField(_("reimbursement rate"), max_digits=4, decimal_places=3)
    insured_share = models.DecimalField(_("insured share"), max_digits=12, decimal_places=2)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["resident", "visited_on"], name="health_visit_history")]
        constraints = [
            models.CheckConstraint(condition=Q(insured_share__lte=models.F("cost")), name="health_visit_share_le_cost")
        ]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.icd10_code} {self.diagnosis}"


class Prescription(models.Model):
    """A prescription issued by a hospital, to be dispensed by pharmacies in one or more fills."""

    class Form(models.TextChoices):
        TABLET = "tablet", _("tablet")
        CAPSULE = "capsule", _("capsule")
        ORAL_LIQUID = "oral_liquid", _("oral liquid")
        INJECTION = "injection", _("injection")
        INHALER = "inhaler", _("inhaler")
        CREAM = "cream", _("cream or ointment")
        DROPS = "drops", _("drops")
        PATCH = "patch", _("patch")
        OTHER = "other", _("other")

    class Controlled(models.TextChoices):
        # The classes of the Regulations on Narcotic Drugs and Psychotropic Substances.
        NONE = "none", _("not controlled")
        PSYCHOTROPIC_2 = "psychotropic_2", _("psychotropic, class II")
        PSYCHOTROPIC_1 = "psychotropic_1", _("psychotropic, class I")
        NARCOTIC = "narcotic", _("narcotic")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CANCELLED = "cancelled", _("cancelled")

    # A controlled drug is prescribed for at most this many days and never with repeats.
    CONTROLLED_MAX_DAYS_SUPPLY = 7

    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="prescriptions", verbose_name=_("resident")
    )
    hospital = models.ForeignKey(
        "services_core.Agency",
        on_delete=models.PROTECT,
        related_name="prescriptions",
        limit_choices_to={"kind": "hospital"},
        verbose_name=_("hospital"),
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="prescriptions", verbose_name=_("visit")
    )
    prescriber = models.CharField(_("prescriber"), max_length=100)
    drug_code = models.CharField(_("drug code"), max_length=32)
    drug_name = models.CharField(_("drug name"), max_length=200)
    strength = models.CharField(_("strength"), max_length=50, help_text=_("e.g. '500 mg' or '5 mg/ml'"))
    form = models.CharField(_("form"), max_length=16, choices=Form.choices)
    quantity = models.PositiveIntegerField(_("quantity per fill"), validators=[MinValueValidator(1)])
    repeats_allowed = models.PositiveSmallIntegerField(_("repeats allowed"), default=0)
    min_fill_interval_days = models.PositiveSmallIntegerField(_("minimum days between fills"), default=0)
    max_days_supply = models.PositiveSmallIntegerField(
        _("maximum days' supply per fill"), validators=[MinValueValidator(1)]
    )
    controlled_class = models.CharField(
        _("controlled class"), max_length=16, choices=Controlled.choices, default=Controlled.NONE
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = _("prescription")
        verbose_name_plural = _("prescriptions")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["resident", "status", "valid_until"], name="health_rx_open")]

    def __str__(self) -> str:
        return f"{self.drug_name} {self.strength} × {self.quantity}"

    @property
    def fills_allowed(self) -> int:
        """Return how many times the prescription may be dispensed in all: the first fill and the repeats."""
        return 1 + self.repeats_allowed

    @property
    def is_controlled(self) -> bool:
        return self.controlled_class != self.Controlled.NONE

    def is_open(self, *, on=None) -> bool:
        """Return whether the prescription can still be dispensed on ON (today by default)."""
        on = on or timezone.localdate()
        return self.status == self.Status.ACTIVE and self.valid_until >= on

    def clean(self) -> None:
        errors = {}
        if self.valid_until and self.issued_at and self.valid_until < timezone.localdate(self.issued_at):
            errors["valid_until"] = _("A prescription cannot expire before it is issued.")
        if self.is_controlled:
            if self.repeats_allowed:
                errors["repeats_allowed"] = _("A controlled drug cannot be prescribed with repeats.")
            if self.max_days_supply and self.max_days_supply > self.CONTROLLED_MAX_DAYS_SUPPLY:
                errors["max_days_supply"] = _("A controlled drug is prescribed for at most %(days)d days.") % {
                    "days": self.CONTROLLED_MAX_DAYS_SUPPLY
                }
        if self.repeats_allowed and not self.min_fill_interval_days:
            errors["min_fill_interval_days"] = _(
                "Set the minimum number of days between fills when repeats are allowed."
            )
        if errors:
            raise ValidationError(errors)
