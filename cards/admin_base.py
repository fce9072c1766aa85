"""The one ModelAdmin base for every admin that shows resident data.

Subclasses set ``ledger_prefix`` (e.g. ``"cards.residents"``), when a row
is not itself a resident ``resident_of``, and ``read_only`` for records that
are never added, edited or deleted in a form (the change permission then only
opens the list's actions). The base then records, through
cards.selectors, one ledger entry per resident for each look:

| look | action | object |
|---|---|---|
| changelist page | ``<prefix>.admin.list`` | |
| changelist with a search | ``<prefix>.admin.search`` | ``national-id`` or ``text`` |
| change, history or delete page | ``<prefix>.admin.read`` | the row |
| CSV export | ``<prefix>.admin.export`` | ``csv rows=N`` |
| admin action | ``<prefix>.admin.action`` | ``action <name>`` |

Every one of these pages first needs a purpose stated for the working session
(the admin site's purpose form); until then it redirects there. That stated
purpose, carried by the request's access context, is the one recorded: no
admin names a purpose of its own. The search term itself is never written to
the ledger. The owning app declares these five actions with
``admin_actions(prefix, what)`` in its declaration.py.
"""

import functools

from django.contrib import admin
from django.contrib.admin.utils import lookup_field
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cards.models import Resident
from cards.selectors import residents_shown_record, search_term_is_national_id
from cards.spreadsheet import csv_writer

SESSION_PURPOSE_KEY = "onecard_purpose"
PURPOSE_URL_NAME = "onecard_purpose"


def stated_purpose(request, admin_site) -> str | None:
    """Return the purpose the caseworker stated for this session, or None."""
    check = getattr(admin_site, "stated_purpose", None)
    if check is not None:
        return check(request)
    return request.session.get(SESSION_PURPOSE_KEY) or None


def purpose_redirect(request, admin_site) -> HttpResponseRedirect | None:
    """Return a redirect to the purpose form while no purpose is stated for this session, else None."""
    if stated_purpose(request, admin_site):
        return None
    url = reverse(f"{admin_site.name}:{PURPOSE_URL_NAME}")
    return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


class ResidentDataAdmin(admin.ModelAdmin):
    """Record every look at resident data in the ledger, and ask for a purpose first."""

    ledger_prefix: str = ""
    read_only: bool = False
    change_list_template = "admin/onecard/resident_data_change_list.html"
    # An export is a bulk look at residents: capped, and recorded row by row.
    export_max_rows = 5000

    def resident_of(self, obj) -> Resident:
        """Return the resident OBJ belongs to."""
        return obj if isinstance(obj, Resident) else obj.resident

    def _prefix(self) -> str:
        opts = self.model._meta
        return self.ledger_prefix or f"{opts.app_label}.{opts.model_name}"

    def _purpose_redirect(self, request):
        return purpose_redirect(request, self.admin_site)

    def has_add_permission(self, request) -> bool:
        return not self.read_only and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        if self.read_only and obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self.read_only and super().has_delete_permission(request, obj)

    def changelist_view(self, request, extra_context=None):
        redirect = self._purpose_redirect(request)
        if redirect is not None:
            return redirect
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            rows = list(changelist.result_list)
            residents = [self.resident_of(row) for row in rows]
            if changelist.query:
                kind = "national-id" if search_term_is_national_id(changelist.query) else "text"
                residents_shown_record(residents=residents, action=f"{self._prefix()}.admin.search", object=kind)
            else:
                residents_shown_record(residents=residents, action=f"{self._prefix()}.admin.list")
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        redirect = self._purpose_redirect(request)
        if redirect is not None:
            return redirect
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        redirect = self._purpose_redirect(request)
        if redirect is not None:
            return redirect
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        redirect = self._purpose_redirect(request)
        if redirect is not None:
            return redirect
        return super().delete_view(request, object_id, extra_context)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            residents_shown_record(
                residents=[self.resident_of(obj)],
                action=f"{self._prefix()}.admin.read",
                object=f"{self.model._meta.model_name}:{obj.pk}",
            )
        return obj

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {
            name: (self._recorded_action(function, name), name, text) for name, (function, _, text) in actions.items()
        }

    def _recorded_action(self, function, name):
        @functools.wraps(function)
        def wrapper(modeladmin, request, queryset):
            residents = [self.resident_of(row) for row in queryset]
            residents_shown_record(
                residents=residents, action=f"{self._prefix()}.admin.action", object=f"action {name}"
            )
            return function(modeladmin, request, queryset)

        return wrapper

    def get_urls(self):
        opts = self.model._meta
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
        return [export, *super().get_urls()]

    def export_columns(self, request) -> list[str]:
        """Return the list_display names that go into a CSV export."""
        return [name for name in self.get_list_display(request) if name != "action_checkbox"]

    def export_view(self, request):
        """Return the current changelist (its filters and search) as CSV, recorded with its row count."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        redirect = self._purpose_redirect(request)
        if redirect is not None:
            return redirect
        changelist = self.get_changelist_instance(request)
        rows = list(changelist.get_queryset(request)[: self.export_max_rows])
        columns = self.export_columns(request)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="{self.model._meta.model_name}-{stamp}.csv"'
        writer = csv_writer(response)
        writer.writerow(columns)
        # The file is written before the looks are recorded: an export that fails shows nothing and records nothing.
        writer.writerows([self._column_value(row, name) for name in columns] for row in rows)
        residents_shown_record(
            residents=[self.resident_of(row) for row in rows],
            action=f"{self._prefix()}.admin.export",
            object=f"csv rows={len(rows)}",
        )
        return response

    def _column_value(self, row, name):
        # Django's own lookup: a model field comes first, so a column named like a ModelAdmin
        # attribute (a prescription's "form") is the field, not the admin's form class.
        field, _attribute, value = lookup_field(name, row, self)
        choices = dict(field.flatchoices) if field is not None and getattr(field, "flatchoices", None) else {}
        return choices.get(value, value)


_LOOKS = {
    "list": _("shown in a caseworker's list"),
    "search": _("found by a caseworker's search"),
    "read": _("opened by a caseworker"),
    "export": _("exported by a caseworker"),
    "action": _("selected for a caseworker's bulk action"),
}


def admin_actions(prefix: str, what) -> list[tuple]:
    """Return the ledger actions a ResidentDataAdmin with ledger_prefix PREFIX records, for actions_register.

    WHAT names the records in the resident's words (a lazy translation), e.g. ``_("Your visits")``.
    """
    return [(f"{prefix}.admin.{look}", format_lazy("{}: {}", what, text), True) for look, text in _LOOKS.items()]
