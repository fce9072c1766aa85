"""The portal's own admin (access reports) and the library admins, limited to staff accounts.

django-otp's and django-axes's admins showed any account's TOTP key, QR code,
backup codes and login history, residents' included, with no purpose and no
ledger entry. (The portal's own devices, portal.models.TOTPDevice and
BackupCodeDevice, replace django-otp's plugins and keep no secret in clear.)
They are replaced here: devices and login attempts are listed
for staff accounts only, a device shows no secret (no key, no QR code, no
backup code: a lost device is deleted and its owner enrols again), and nothing
of a resident's account opens in the admin at all.

Django stores permission names in English and names the rows that link a group
to its permissions and members after their table; the group admin says both in
the admin's language.
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cards.admin_base import ResidentDataAdmin
from cards.national_id import NationalIdFormField
from cards.selectors import resident_get_by_national_id
from portal.actions import access_report_answer, proxy_grant_end, proxy_minor_link, proxy_minor_link_check
from portal.errors import ProxyRefused
from portal.models import AccessReport, BackupCodeDevice, ProxyGrant, TOTPDevice


@admin.register(AccessReport)
class AccessReportAdmin(ResidentDataAdmin):
    """Caseworkers answer residents' reports of accesses they do not recognise."""

    ledger_prefix = "portal.access_reports"
    list_display = ["id", "created_at", "entry_index", "status"]
    list_filter = ["status"]
    # The resident is shown by id: opening their record goes through the resident admin, which records it.
    # (Not under the column's name resident_id: the admin labels a foreign key's column by its name.)
    readonly_fields = [
        "resident_number",
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
        "resident_number",
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

    @admin.display(description=_("resident"))
    def resident_number(self, obj: AccessReport):
        return obj.resident_id

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # The answer is a change to the resident's case: recorded by the action, not only the read of the form.
        saved = access_report_answer(report=obj, status=obj.status, caseworker_note=obj.caseworker_note)
        vars(obj).update(vars(saved))

    def has_delete_permission(self, request, obj=None):
        return False


class ProxyLinkForm(forms.ModelForm):
    """A caseworker links a minor child to a parent or guardian, from the documents in front of them."""

    parent_national_id = NationalIdFormField(label=_("National ID of the parent or guardian"))
    child_national_id = NationalIdFormField(label=_("National ID of the child (under 18)"))
    relationship = forms.ChoiceField(
        label=_("The adult is the child's"),
        choices=[
            (ProxyGrant.Relationship.PARENT, ProxyGrant.Relationship.PARENT.label),
            (ProxyGrant.Relationship.GUARDIAN, ProxyGrant.Relationship.GUARDIAN.label),
        ],
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the link is made, e.g. the parent asked at the service centre."),
    )
    document_reference = forms.CharField(
        label=_("Document reference"),
        max_length=100,
        help_text=_("The number of the birth certificate, household register (hukou) page or court order you saw."),
    )

    class Meta:
        model = ProxyGrant
        fields = ["relationship", "reason", "document_reference"]

    def clean(self):
        cleaned = super().clean()
        parent_id, child_id = cleaned.get("parent_national_id"), cleaned.get("child_national_id")
        if not parent_id or not child_id or self.errors:
            return cleaned
        parent = resident_get_by_national_id(national_id=parent_id)
        child = resident_get_by_national_id(national_id=child_id)
        errors = {}
        if parent is None:
            errors["parent_national_id"] = _("No resident is registered with this national ID.")
        if child is None:
            errors["child_national_id"] = _("No resident is registered with this national ID.")
        if errors:
            raise ValidationError(errors)
        try:
            proxy_minor_link_check(
                proxy=parent,
                dependant=child,
                relationship=cleaned.get("relationship", ""),
                reason=cleaned.get("reason", ""),
                document_reference=cleaned.get("document_reference", ""),
            )
        except ProxyRefused as error:
            raise ValidationError(str(error)) from None
        cleaned["proxy"], cleaned["dependant"] = parent, child
        return cleaned


@admin.register(ProxyGrant)
class ProxyGrantAdmin(ResidentDataAdmin):
    """Family proxies: caseworkers link a minor to a parent or guardian, see every grant, and end one."""

    ledger_prefix = "portal.proxies"
    list_display = [
        "id",
        "kind",
        "relationship",
        "dependant_number",
        "proxy_number",
        "created_at",
        "ends_on",
        "ended_at",
    ]
    list_filter = ["kind", "ended_by"]
    # Residents are shown by id: opening their record goes through the resident admin, which records it.
    # (Not under the columns' names dependant_id and proxy_id: the admin labels those by the column name.)
    fields = [
        "kind",
        "relationship",
        "dependant_number",
        "proxy_number",
        "reason",
        "document_reference",
        "created_at",
        "accepted_at",
        "ends_on",
        "ended_at",
        "ended_by",
    ]
    readonly_fields = fields
    actions = ["end_grants"]

    def resident_of(self, obj):
        return obj.dependant

    @admin.display(description=_("acted for (resident)"))
    def dependant_number(self, obj: ProxyGrant):
        return obj.dependant_id

    @admin.display(description=_("acting (resident)"))
    def proxy_number(self, obj: ProxyGrant):
        # A readonly display method's None is printed as "None"; no proxy yet is shown as any empty value.
        return obj.proxy_id if obj.proxy_id is not None else self.get_empty_value_display()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("dependant")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ProxyLinkForm
            kwargs["fields"] = ["relationship", "reason", "document_reference"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["parent_national_id", "child_national_id", "relationship", "reason", "document_reference"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # A grant is never edited: it is made (here, or by the residents in the portal) and ended.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        grant = proxy_minor_link(
            proxy=form.cleaned_data["proxy"],
            dependant=form.cleaned_data["dependant"],
            relationship=form.cleaned_data["relationship"],
            reason=form.cleaned_data["reason"],
            document_reference=form.cleaned_data["document_reference"],
        )
        # The admin keeps using OBJ after save_model for its log entry and redirect.
        vars(obj).update(vars(grant))

    @admin.action(description=_("End the selected family proxies"), permissions=["change"])
    def end_grants(self, request, queryset):
        for grant in queryset.filter(ended_at=None):
            proxy_grant_end(grant=grant, by=ProxyGrant.EndedBy.CASEWORKER)
        self.message_user(request, _("The selected family proxies have ended."), messages.SUCCESS)


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


class _RowNamed:
    """Stand in for a row where the admin names it: django-axes names its rows in English."""

    def __init__(self, pk, name: str):
        self.pk, self.name = pk, name

    def __str__(self) -> str:
        return self.name


class _StaffOnly:
    # django-axes's __str__ says "Access Log for <user> @ <time>" in English; each admin words its rows instead.
    row_name = _("%(username)s at %(time)s")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(username__in=staff_login_keys())

    def row_describe(self, obj) -> str:
        time = formats.localize(timezone.localtime(obj.attempt_time)) if obj.attempt_time else ""
        return self.row_name % {"username": obj.username, "time": time}

    def action_checkbox(self, obj):
        return super().action_checkbox(_RowNamed(obj.pk, self.row_describe(obj)))

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["subtitle"] = self.row_describe(obj)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


class StaffAccessAttemptAdmin(_StaffOnly, AccessAttemptAdmin):
    row_name = _("Sign-in attempts by %(username)s since %(time)s")


class StaffAccessLogAdmin(_StaffOnly, AccessLogAdmin):
    row_name = _("Sign-in of %(username)s at %(time)s")


class StaffAccessFailureLogAdmin(_StaffOnly, AccessFailureLogAdmin):
    row_name = _("Failed sign-in of %(username)s at %(time)s")


# Django names its built-in permissions "Can add <model>" in English when it creates them (auth.management);
# shown, they are worded again from the model's verbose name in the admin's language.
BUILTIN_PERMISSION_NAMES = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_name(permission: Permission) -> str:
    """Return what PERMISSION allows, in the active language."""
    model = permission.content_type.model_class()
    if model is not None:
        verb, _sep, model_name = permission.codename.partition("_")
        builtin = verb in BUILTIN_PERMISSION_NAMES and verb in model._meta.default_permissions
        if builtin and model_name == model._meta.model_name:
            # A library's verbose name may be a plain string: its translation, if any, is in OneCard's catalog.
            return BUILTIN_PERMISSION_NAMES[verb] % {"model": gettext(str(model._meta.verbose_name))}
    # A custom permission's name is marked for translation where its model declares it.
    return gettext(permission.name)


def permission_label(permission: Permission) -> str:
    """Return PERMISSION as the group form lists it, "app | model | permission", in the active language."""
    model = permission.content_type.model_class()
    if model is None:
        return f"{permission.content_type} | {permission.name}"
    app = gettext(str(model._meta.app_config.verbose_name))
    return f"{app} | {gettext(str(model._meta.verbose_name))} | {permission_name(permission)}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Permission) -> str:
        return permission_label(obj)


class StaffGroupAdmin(GroupAdmin):
    """Staff roles' groups, their permissions listed in the admin's language."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "permissions":
            kwargs["form_class"] = PermissionChoiceField
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "permissions":
            # Replaces the admin's "Hold down Control, or Command on a Mac" for the two-list chooser.
            field.help_text = _("Move the permissions this group grants from the available list to the chosen list.")
        return field

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Django lists the rows linking a group to its permissions and members as "Group-permission
        # relationship: Group_permissions object (84)"; they are listed as the permission and the member instead.
        links = [Group.permissions.through, get_user_model().groups.through]
        link_names = {str(capfirst(link._meta.verbose_name)) for link in links}
        children = {self._change_url(group): self._links_described(group) for group in objs}
        shown = []
        for item in to_delete:
            if isinstance(item, list):
                rest = [child for child in item if not _link_row(child, link_names)]
                if shown and isinstance(shown[-1], list):
                    shown[-1].extend(rest)
                else:
                    shown.append(rest)
                continue
            shown.append(item)
            described = next((lines for url, lines in children.items() if isinstance(item, str) and url in item), None)
            if described is not None:
                shown.append(list(described))
        shown = [item for item in shown if item != []]
        for link in links:
            model_count.pop(link._meta.verbose_name_plural, None)
        permissions = sum(group.permissions.count() for group in objs)
        members = sum(group.user_set.count() for group in objs)
        if permissions:
            model_count[_("permissions granted")] = permissions
        if members:
            model_count[_("members")] = members
        return shown, model_count, perms_needed, protected

    def _change_url(self, group: Group) -> str:
        return reverse(f"{self.admin_site.name}:auth_group_change", args=[quote(group.pk)])

    def _links_described(self, group: Group) -> list[str]:
        permissions = group.permissions.select_related("content_type").order_by("content_type__app_label", "codename")
        members = group.user_set.order_by("username")
        return [gettext("Permission: %s") % permission_label(permission) for permission in permissions] + [
            gettext("Member: %s") % user.get_username() for user in members
        ]


def _link_row(item, link_names: set[str]) -> bool:
    return isinstance(item, str) and item.partition(": ")[0] in link_names


for model, model_admin in [
    (TOTPDevice, StaffDeviceAdmin),
    (BackupCodeDevice, StaffBackupCodesAdmin),
    (AccessAttempt, StaffAccessAttemptAdmin),
    (AccessLog, StaffAccessLogAdmin),
    (AccessFailureLog, StaffAccessFailureLogAdmin),
    (Group, StaffGroupAdmin),
]:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
