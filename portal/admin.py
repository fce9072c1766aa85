from django.contrib import admin

from portal.models import AccessReport


@admin.register(AccessReport)
class AccessReportAdmin(admin.ModelAdmin):
    """Caseworkers answer residents' reports of accesses they do not recognise."""

    list_display = ["id", "created_at", "entry_index", "status"]
    list_filter = ["status"]
    # The resident is shown by id: opening their record goes through the resident admin, which records it.
    readonly_fields = ["resident_id", "entry_index", "entry_summary", "text", "created_at"]
    fields = ["resident_id", "entry_index", "entry_summary", "text", "status", "caseworker_note", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
