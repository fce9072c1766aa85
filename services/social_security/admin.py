"""Admin for social security officers: read through selectors, write through actions.

Every page showing resident data records it through the shared
cards.admin_base.ResidentDataAdmin, under the purpose the officer stated.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cards.admin_base import ResidentDataAdmin
from services.social_security.actions import unemployment_claim_decide
from services.social_security.errors import ClaimNotDecidable
from services.social_security.models import Contribution, Employment, UnemploymentClaim
from services.social_security.selectors import claim_queryset


@admin.register(Employment)
class EmploymentAdmin(ResidentDataAdmin):
    ledger_prefix = "social_security.employments"
    read_only = True
    list_display = ["resident", "employer", "started_on", "ended_on", "reported_at"]
    list_filter = ["employer"]
    raw_id_fields = ["resident"]
    list_select_related = ["resident", "employer"]


@admin.register(Contribution)
class ContributionAdmin(ResidentDataAdmin):
    ledger_prefix = "social_security.contributions"
    read_only = True
    list_display = ["resident", "employer", "month", "insurance", "base", "employer_amount", "employee_amount"]
    list_filter = ["insurance", "employer"]
    date_hierarchy = "month"
    raw_id_fields = ["resident"]
    list_select_related = ["resident", "employer"]


@admin.register(UnemploymentClaim)
class UnemploymentClaimAdmin(ResidentDataAdmin):
    ledger_prefix = "social_security.claims"
    # The list needs the change permission for the decide actions; a claim itself is never edited in a form.
    read_only = True
    list_display = ["id", "resident", "status", "unemployed_since", "entitled_months", "monthly_amount", "submitted_at"]
    list_filter = ["status"]
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        return claim_queryset()

    def _decide(self, request, queryset, approve: bool) -> None:
        decided = 0
        for claim in queryset:
            try:
                unemployment_claim_decide(claim=claim, approve=approve, decided_by=request.user)
                decided += 1
            except ClaimNotDecidable as error:
                messages.error(request, f"{claim}: {error}")
        messages.success(request, _("%(count)d claim(s) decided.") % {"count": decided})

    @admin.action(description=_("Approve the selected assessed claims"), permissions=["change"])
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject the selected assessed claims"), permissions=["change"])
    def reject(self, request, queryset) -> None:
        self._decide(request, queryset, approve=False)
