"""Admin for health officers: read through selectors, write through actions; every page records what it shows."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from services.core.admin_recording import RecordedAdmin, staff_context
from services.health.actions import prescription_cancel
from services.health.models import Prescription, Visit
from services.health.selectors import prescription_get, prescription_queryset, visit_get, visit_queryset

PURPOSE = "health-administration"


@admin.register(Visit)
class VisitAdmin(RecordedAdmin):
    record_action = "health.visits.read"
    record_purpose = PURPOSE
    list_display = ["resident", "hospital", "visited_on", "icd10_code", "diagnosis", "cost", "insured_share"]
    list_filter = ["hospital"]
    date_hierarchy = "visited_on"

    def get_queryset(self, request):
        return visit_queryset()

    def get_object(self, request, object_id, from_field=None):
        with staff_context(request, PURPOSE):
            return visit_get(visit_id=int(object_id)) if str(object_id).isdigit() else None


@admin.register(Prescription)
class PrescriptionAdmin(RecordedAdmin):
    record_action = "health.prescriptions.read"
    record_purpose = PURPOSE
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

    def get_object(self, request, object_id, from_field=None):
        with staff_context(request, PURPOSE):
            return prescription_get(prescription_id=int(object_id)) if str(object_id).isdigit() else None

    def has_change_permission(self, request, obj=None) -> bool:
        # The list needs it for the cancel action; a prescription itself is never edited in a form.
        return obj is None and admin.ModelAdmin.has_change_permission(self, request, obj)

    @admin.action(description=_("Cancel the selected prescriptions"), permissions=["change"])
    def cancel(self, request, queryset) -> None:
        with staff_context(request, PURPOSE):
            for prescription in queryset:
                prescription_cancel(prescription=prescription)
        messages.success(request, _("%(count)d prescription(s) cancelled.") % {"count": queryset.count()})
