"""Grant programmes, their cycles, residents' applications, sign-offs and disbursements onto the card."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cards.national_id import PROVINCE_CODES

MONEY = {"max_digits": 12, "decimal_places": 2}
_NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


class Programme(models.Model):
    """A grant programme a caseworker defines: who qualifies, how much, the budget, the window and the sign-offs."""

    class Formula(models.TextChoices):
        FIXED = "fixed", _("fixed: the base amount")
        PER_DEPENDANT = "per_dependant", _("per dependant: base + per-dependant amount × dependants (at most 10)")
        INCOME_TOP_UP = "income_top_up", _("income top-up: the gap to the income ceiling, at most the base amount")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120)
    age_min = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    province_code = models.CharField(
        _("province code"), max_length=2, blank=True, choices=[(code, code) for code in sorted(PROVINCE_CODES)]
    )
    require_insured_medical = models.BooleanField(_("must hold medical insurance"), default=False)
    contribution_months_min = models.PositiveSmallIntegerField(_("minimum contribution months"), null=True, blank=True)
    income_ceiling = models.DecimalField(
        _("declared monthly income ceiling"), **MONEY, null=True, blank=True, validators=_NOT_NEGATIVE
    )
    formula = models.CharField(_("amount formula"), max_length=16, choices=Formula.choices, default=Formula.FIXED)
    amount_base = models.DecimalField(_("base amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    amount_per_dependant = models.DecimalField(
        _("amount per dependant"), **MONEY, default=Decimal("0"), validators=_NOT_NEGATIVE
    )
    budget_cap = models.DecimalField(_("budget cap"), **MONEY, validators=_NOT_NEGATIVE)
    budget_committed = models.DecimalField(_("budget committed"), **MONEY, default=Decimal("0"), editable=False)
    two_approvers_above = models.DecimalField(_("two approvers above this amount"), **MONEY, validators=_NOT_NEGATIVE)
    opens_on = models.DateField(_("applications open"))
    closes_on = models.DateField(_("applications close"))
    paying_agency = models.ForeignKey(
        "services_core.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paying bank"),
        help_text=_("Only this agency fetches the disbursements and confirms them."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grant programme")
        verbose_name_plural = _("grant programmes")
        ordering = ["-opens_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_committed__lte=F("budget_cap")), name="grants_programme_within_budget"
            ),
            models.CheckConstraint(condition=Q(budget_committed__gte=0), name="grants_programme_committed_positive"),
            models.CheckConstraint(condition=Q(closes_on__gte=F("opens_on")), name="grants_programme_window_order"),
        ]
        # Stored in English by Django; marked so the group admin can show them translated.
        permissions = [
            ("review_application", gettext_noop("Can review grant applications")),
            ("approve_application", gettext_noop("Can approve or reject reviewed grant applications")),
            ("run_disbursement", gettext_noop("Can run disbursement batches and read reconciliation reports")),
            ("approve_cycle", gettext_noop("Can sign off a payment cycle before its batch runs")),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name_en}"

    def clean(self) -> None:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValidationError({"age_max": _("The maximum age must not be below the minimum age.")})
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            raise ValidationError({"closes_on": _("Applications must close on or after the day they open.")})
        if self.formula == self.Formula.INCOME_TOP_UP and self.income_ceiling is None:
            raise ValidationError({"income_ceiling": _("The income top-up formula needs an income ceiling.")})

    def is_open(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.opens_on <= on <= self.closes_on

    @property
    def budget_left(self) -> Decimal:
        return self.budget_cap - self.budget_committed


class Cycle(models.Model):
    """One payment round of a programme: its batch pays every approved application once."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="cycles", verbose_name=_("programme")
    )
    number = models.PositiveIntegerField(_("number"))
    pays_on = models.DateField(_("pays on"))
    batch_started_at = models.DateTimeField(_("batch started"), null=True, blank=True, editable=False)
    batch_finished_at = models.DateTimeField(_("batch finished"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Four eyes on paying: whoever opens a cycle cannot sign it off, whoever signs it off cannot run it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("signed off"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("payment cycle")
        verbose_name_plural = _("payment cycles")
        ordering = ["programme", "-number"]
        constraints = [models.UniqueConstraint(fields=["programme", "number"], name="grants_cycle_number_unique")]

    def __str__(self) -> str:
        return _("%(programme)s cycle %(number)s") % {"programme": self.programme.code, "number": self.number}


class Application(models.Model):
    """A resident's application to a programme and where it is in its life."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        ELIGIBLE = "eligible", _("eligible")
        INELIGIBLE = "ineligible", _("not eligible")
        UNDER_REVIEW = "under_review", _("under review")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        SCHEDULED = "scheduled", _("payment scheduled")
        PAID = "paid", _("paid")
        FAILED = "failed", _("payment failed")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="applications", verbose_name=_("programme")
    )
    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="grant_applications", verbose_name=_("resident")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    declared_income = models.DecimalField(
        _("declared monthly income"), **MONEY, null=True, blank=True, validators=_NOT_NEGATIVE
    )
    dependants = models.PositiveSmallIntegerField(_("dependants"), default=0)
    payout_account = models.CharField(
        _("payout bank account"),
        max_length=19,
        validators=[RegexValidator(r"^[0-9]{12,19}$", _("Enter the 12 to 19 digits of the bank account."))],
    )
    language = models.CharField(_("language"), max_length=10, default="en")
    amount = models.DecimalField(_("amount"), **MONEY, null=True, blank=True)
    eligibility = models.JSONField(_("eligibility check"), default=list, blank=True)
    flags = models.JSONField(_("flags for the reviewer"), default=list, blank=True)
    round = models.PositiveSmallIntegerField(_("review round"), default=1)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    past_reviewer_ids = models.JSONField(_("past reviewer ids"), default=list, blank=True, editable=False)
    reviewed_at = models.DateTimeField(_("recommended for approval"), null=True, blank=True)
    decision_reason = models.TextField(_("reason of the last decision"), blank=True, max_length=2000)
    appeal_reason = models.TextField(_("appeal"), blank=True, max_length=2000)
    submitted_by_proxy = models.ForeignKey(
        "cards.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by a family proxy"),
        help_text=_("The family member who applied on the resident's behalf, if one did."),
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grant application")
        verbose_name_plural = _("grant applications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "resident"], name="grants_application_one_per_programme"),
        ]
        indexes = [models.Index(fields=["payout_account"]), models.Index(fields=["programme", "status"])]

    def __str__(self) -> str:
        return _("application #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}

    @property
    def ledger_object(self) -> str:
        return f"application:{self.pk}"


class SignOff(models.Model):
    """One caseworker's step on an application: the review or an approval, in one review round."""

    class Step(models.TextChoices):
        REVIEW = "review", _("review")
        APPROVAL = "approval", _("approval")
        REJECTION = "rejection", _("rejection")

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="sign_offs", verbose_name=_("application")
    )
    round = models.PositiveSmallIntegerField(_("round"))
    step = models.CharField(_("step"), max_length=16, choices=Step.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    reason = models.TextField(_("reason"), max_length=2000)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)

    class Meta:
        verbose_name = _("sign-off")
        verbose_name_plural = _("sign-offs")
        ordering = ["id"]
        constraints = [
            # A second click by the same caseworker on the same step fails in the database.
            models.UniqueConstraint(fields=["application", "round", "step", "user"], name="grants_signoff_once"),
        ]

    def __str__(self) -> str:
        return _("%(step)s of %(application)s by user %(user)s") % {
            "step": self.get_step_display(),
            "application": self.application,
            "user": self.user_id,
        }


class Disbursement(models.Model):
    """One payment of an application in one cycle onto the resident's card; unique per (application, cycle)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled, awaiting the bank")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="disbursements", verbose_name=_("application")
    )
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="disbursements", verbose_name=_("cycle"))
    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="+", verbose_name=_("card"))
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    bank_reference = models.CharField(_("bank reference"), max_length=80, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["cycle", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "cycle"], name="grants_disbursement_once_per_cycle"),
            # At most one disbursement of an application is ever paid.
            models.UniqueConstraint(
                fields=["application"], condition=Q(status="paid"), name="grants_disbursement_paid_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="grants_disbursement_amount_positive"),
        ]

    def __str__(self) -> str:
        return _("disbursement %(reference)s (%(status)s)") % {
            "reference": self.reference,
            "status": self.get_status_display(),
        }

    @property
    def resident(self):
        return self.application.resident
