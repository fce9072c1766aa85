"""Admin for health officers: read through selectors, write through actions.

Every page showing resident data records it through the shared
cards.admin_base.ResidentDataAdmin, under the purpose the officer stated.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cards.admin_base import ResidentDataAdmin
from services.health.actions import prescription_cancel
from services.health.models import Prescription, Visit
from services.health.selectors import prescription_queryset, visit_queryset


@admin.register(Visit)
class VisitAdmin(ResidentDataAdmin):
    ledger_prefix = "health.visits"
    read_only = True
    list_display = ["resident", "hospital", "visited_on", "icd10_code", "diagnosis", "cost", "insured_share"]
    list_filter = ["hospital"]
    date_hierarchy = "visited_on"

    def get_queryset(self, request):
        return visit_queryset()


@admin.register(Prescription)
class PrescriptionAdmin(ResidentDataAdmin):
    ledger_prefix = "health.prescriptions"
    # The list needs the change permission for the cancel action; a prescription is never edited in a form.
    read_only = True
    list_display = [
        "resident",
        "drug_name",
        "strength",
        "form",
        "quantity",
        "controlled_class",
        "valid_until",
        "status",
    ]
    list_filter = ["status", "controlled_class", "hospital"]
    actions = ["cancel"]

    def get_queryset(self, request):
        return prescription_queryset()

    @admin.action(description=_("Cancel the selected prescriptions"), permissions=["change"])
    def cancel(self, request, queryset) -> None:
        for prescription in queryset:
            prescription_cancel(prescription=prescription)
        messages.success(request, _("%(count)d prescription(s) cancelled.") % {"count": queryset.count()})
