"""Employment periods, monthly contributions to the five social insurances, and unemployment benefit claims."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Insurance(models.TextChoices):
    PENSION = "pension", _("pension")
    MEDICAL = "medical", _("medical")
    UNEMPLOYMENT = "unemployment", _("unemployment")
    WORK_INJURY = "work_injury", _("work injury")
    MATERNITY = "maternity", _("maternity")


class Employment(models.Model):
    """A period during which an employer employed a resident, as the employer reported it."""

    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="employments", verbose_name=_("resident")
    )
    employer = models.ForeignKey(
        "services_core.Agency",
        on_delete=models.PROTECT,
        related_name="employments",
        limit_choices_to={"kind": "employer"},
        verbose_name=_("employer"),
    )
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        verbose_name = _("employment period")
        verbose_name_plural = _("employment periods")
        ordering = ["-started_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["resident", "employer", "started_on"], name="ss_employment_unique_start"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="ss_employment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer.code} {self.started_on} – {self.ended_on or '…'}"

    def clean(self) -> None:
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": _("An employment cannot end before it starts.")})


class Contribution(models.Model):
    """One month's contribution to one insurance for one resident, as one employer reported it."""

    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="contributions", verbose_name=_("resident")
    )
    employer = models.ForeignKey(
        "services_core.Agency", on_delete=models.PROTECT, related_name="contributions", verbose_name=_("employer")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month contributed for."))
    insurance = models.CharField(_("insurance"), max_length=16, choices=Insurance.choices)
    base = models.DecimalField(_("contribution base"), max_digits=12, decimal_places=2)
    employer_amount = models.DecimalField(_("employer share"), max_digits=12, decimal_places=2)
    employee_amount = models.DecimalField(_("employee share"), max_digits=12, decimal_places=2)
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["-month", "insurance", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "employer", "month", "insurance"], name="ss_contribution_unique_month"
            ),
        ]
        indexes = [models.Index(fields=["resident", "insurance", "month"], name="ss_contribution_history")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_insurance_display()} {self.employer_amount + self.employee_amount}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("A contribution month is stored as the first day of the month.")})


class UnemploymentClaim(models.Model):
    """A resident's claim for unemployment benefit: submitted, assessed by a task, decided by a caseworker."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted, awaiting assessment")
        ASSESSED = "assessed", _("assessed, awaiting a decision")
        INELIGIBLE = "ineligible", _("not eligible")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    OPEN_STATUSES = (Status.SUBMITTED, Status.ASSESSED)

    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="unemployment_claims", verbose_name=_("resident")
    )
    unemployed_since = models.DateField(_("unemployed since"))
    reason = models.TextField(_("reason"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    contribution_months = models.PositiveSmallIntegerField(_("unemployment-insurance months"), null=True, blank=True)
    average_base = models.DecimalField(_("average base"), max_digits=12, decimal_places=2, null=True, blank=True)
    entitled_months = models.PositiveSmallIntegerField(_("months payable"), null=True, blank=True)
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    assessed_at = models.DateTimeField(_("assessed"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("decision note"), blank=True, max_length=2000)
    benefit_starts_on = models.DateField(_("benefit starts"), null=True, blank=True)
    benefit_ends_on = models.DateField(_("benefit ends (exclusive)"), null=True, blank=True)

    class Meta:
        verbose_name = _("unemployment benefit claim")
        verbose_name_plural = _("unemployment benefit claims")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(status__in=["submitted", "assessed"]),
                name="ss_claim_one_open_per_resident",
            ),
        ]

    def __str__(self) -> str:
        return _("claim #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}
