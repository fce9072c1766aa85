from django.db import models
from django.utils.translation import gettext_lazy as _

# rho is kept exactly: shares are decimals, so the budget never drifts by float rounding.
RHO = {"max_digits": 12, "decimal_places": 9}


class PeriodBudget(models.Model):
    """The privacy budget of one period: its limit (fixed when first used) and what releases spent of it.

    Publishing locks this row (select_for_update) before it checks and spends,
    so concurrent publishes of one period queue here and never overspend.
    """

    period = models.CharField(_("period"), max_length=7, unique=True)
    limit_rho = models.DecimalField(_("limit (rho)"), **RHO)
    spent_rho = models.DecimalField(_("spent (rho)"), **RHO, default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("privacy budget")
        verbose_name_plural = _("privacy budgets")
        ordering = ["-period"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(spent_rho__gte=0) & models.Q(spent_rho__lte=models.F("limit_rho")),
                name="statistics_budget_never_overspent",
            )
        ]

    def __str__(self) -> str:
        return _("%(period)s: %(spent)s of %(limit)s") % {
            "period": self.period,
            "spent": self.spent_rho,
            "limit": self.limit_rho,
        }


class Release(models.Model):
    """One table of one period as published: noisy values only, final once written."""

    table = models.CharField(_("table"), max_length=32)
    period = models.CharField(_("period"), max_length=7)
    mechanism = models.CharField(_("mechanism"), max_length=32)
    rho = models.DecimalField(_("privacy loss (rho)"), **RHO)
    # measure -> {"sensitivity", "scale", "rho"}
    parameters = models.JSONField(_("mechanism parameters"))
    # [{"key", "label_en", "label_zh_hans", "count"[, "total"]}], noisy
    rows = models.JSONField(_("released rows"), blank=True)
    published_at = models.DateTimeField(_("published"), auto_now_add=True)

    class Meta:
        verbose_name = _("statistics release")
        verbose_name_plural = _("statistics releases")
        ordering = ["-period", "table"]
        constraints = [models.UniqueConstraint(fields=["table", "period"], name="statistics_release_once")]

    def __str__(self) -> str:
        return f"{self.table} {self.period}"
