from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cards.admin_base import ResidentDataAdmin
from portal.actions import access_report_answer
from portal.models import AccessReport


@admin.register(AccessReport)
class AccessReportAdmin(ResidentDataAdmin):
    """Caseworkers answer residents' reports of accesses they do not recognise."""

    ledger_prefix = "portal.access_reports"
    list_display = ["id", "created_at", "entry_index", "status"]
    list_filter = ["status"]
    # The resident is shown by id: opening their record goes through the resident admin, which records it.
    readonly_fields = ["resident_id", "ledger_entry", "entry_summary", "text", "created_at"]
    fields = ["resident_id", "ledger_entry", "entry_summary", "text", "status", "caseworker_note", "created_at"]

    @admin.display(description=_("ledger entry"))
    def ledger_entry(self, obj: AccessReport):
        if obj.entry_index is None:
            return _("not yet sequenced")
        try:
            url = reverse("admin:ledger_entry_change", args=[obj.entry_index])
        except NoReverseMatch:
            return obj.entry_index
        return format_html('<a href="{}">#{}</a>', url, obj.entry_index)

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # The answer is a change to the resident's case: recorded by the action, not only the read of the form.
        saved = access_report_answer(report=obj, status=obj.status, caseworker_note=obj.caseworker_note)
        vars(obj).update(vars(saved))

    def has_delete_permission(self, request, obj=None):
        return False
