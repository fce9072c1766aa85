"""The portal's own admin (access reports) and the library admins, limited to staff accounts.

django-otp's and django-axes's admins showed any account's TOTP key, QR code,
backup codes and login history, residents' included, with no purpose and no
ledger entry. (The portal's own devices, portal.models.TOTPDevice and
BackupCodeDevice, replace django-otp's plugins and keep no secret in clear.)
They are replaced here: devices and login attempts are listed
for staff accounts only, a device shows no secret (no key, no QR code, no
backup code: a lost device is deleted and its owner enrols again), and nothing
of a resident's account opens in the admin at all.
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cards.admin_base import ResidentDataAdmin
from portal.actions import access_report_answer
from portal.models import AccessReport, BackupCodeDevice, TOTPDevice


@admin.register(AccessReport)
class AccessReportAdmin(ResidentDataAdmin):
    """Caseworkers answer residents' reports of accesses they do not recognise."""

    ledger_prefix = "portal.access_reports"
    list_display = ["id", "created_at", "entry_index", "status"]
    list_filter = ["status"]
    # The resident is shown by id: opening their record goes through the resident admin, which records it.
    readonly_fields = [
        "resident_id",
        "ledger_entry",
        "entry_summary",
        "text",
        "created_at",
        "answered_at",
        "resident_reply",
        "replied_at",
    ]
    # The resident sees the answer on their access history and may reply once; a reply sets the status
    # to "replied", which puts the report on the replies worklist.
    fields = [
        "resident_id",
        "ledger_entry",
        "entry_summary",
        "text",
        "status",
        "caseworker_note",
        "created_at",
        "answered_at",
        "resident_reply",
        "replied_at",
    ]

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


class StaffDeviceAdmin(admin.ModelAdmin):
    """A staff member's one-time-password device: who, which, confirmed; never its secret."""

    list_display = ["user", "name", "confirmed"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "name"]
    fields = ["user", "name", "confirmed"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user__is_staff=True).select_related("user")

    def has_add_permission(self, request):
        # Devices are enrolled by their owner (the admin login's enrolment, the portal's account page).
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StaffBackupCodesAdmin(StaffDeviceAdmin):
    list_display = ["user", "name", "confirmed", "codes_left"]
    fields = ["user", "name", "confirmed", "codes_left"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(code_count=Count("codes"))

    @admin.display(description=_("backup codes left"))
    def codes_left(self, obj) -> int:
        return obj.code_count


def staff_login_keys() -> list[str]:
    """Return the names django-axes may count a staff account's attempts under: its username, or account:<id>."""
    staff = get_user_model().objects.filter(is_staff=True).values_list("pk", "username")
    return [key for pk, username in staff for key in (username, f"account:{pk}")]


class _StaffOnly:
    def get_queryset(self, request):
        return super().get_queryset(request).filter(username__in=staff_login_keys())


class StaffAccessAttemptAdmin(_StaffOnly, AccessAttemptAdmin):
    pass


class StaffAccessLogAdmin(_StaffOnly, AccessLogAdmin):
    pass


class StaffAccessFailureLogAdmin(_StaffOnly, AccessFailureLogAdmin):
    pass


for model, model_admin in [
    (TOTPDevice, StaffDeviceAdmin),
    (BackupCodeDevice, StaffBackupCodesAdmin),
    (AccessAttempt, StaffAccessAttemptAdmin),
    (AccessLog, StaffAccessLogAdmin),
    (AccessFailureLog, StaffAccessFailureLogAdmin),
]:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
