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

import base64
import functools
import secrets

from django.contrib import admin
from django.contrib.admin.utils import lookup_field
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList, ChangeListSearchForm
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cards.actions import residents_shown_record
from cards.crypto import DecryptionError, national_id_decrypt, national_id_encrypt
from cards.models import Resident
from cards.selectors import search_term_is_national_id
from cards.spreadsheet import csv_writer

SESSION_PURPOSE_KEY = "onecard_purpose"
PURPOSE_URL_NAME = "onecard_purpose"
# A search term travels by POST and is kept in the session, encrypted, under a random token: the
# list's URL (and so every access log and Referer) carries the token, never the term.
SEARCH_TOKEN_VAR = "_search"
SESSION_SEARCHES_KEY = "onecard_admin_searches"
SESSION_SEARCHES_KEPT = 20


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


def search_term_keep(request, term: str) -> str:
    """Keep TERM in the session, encrypted, and return the random token that names it."""
    token = secrets.token_urlsafe(12)
    kept = dict(request.session.get(SESSION_SEARCHES_KEY) or {})
    kept[token] = base64.b64encode(national_id_encrypt(term)).decode()
    request.session[SESSION_SEARCHES_KEY] = dict(list(kept.items())[-SESSION_SEARCHES_KEPT:])
    return token


def search_term_of(request) -> str | None:
    """Return the search term the request's token names in this session ("" without a token, None if unknown)."""
    token = request.GET.get(SEARCH_TOKEN_VAR)
    if not token:
        return ""
    sealed = (request.session.get(SESSION_SEARCHES_KEY) or {}).get(token)
    if sealed is None:
        return None
    try:
        return national_id_decrypt(base64.b64decode(sealed))
    except (DecryptionError, ValueError):
        return None


class TokenSearchChangeList(ChangeList):
    """A changelist whose search term comes from the session token in the URL, never from ``q``."""

    def __init__(self, request, *args, **kwargs):
        term = search_term_of(request) or ""
        self.search_form_class = lambda _data: ChangeListSearchForm({SEARCH_VAR: term})
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params=None):
        params = super().get_filters_params(params)
        params.pop(SEARCH_TOKEN_VAR, None)
        return params


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

    def get_changelist(self, request, **kwargs):
        return TokenSearchChangeList

    def _changelist_url(self, params) -> str:
        opts = self.model._meta
        url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
        return f"{url}?{urlencode(params)}" if params else url

    def changelist_view(self, request, extra_context=None):
        redirect = self._purpose_redirect(request)
        if redirect is not None:
            return redirect
        if SEARCH_VAR in request.GET or search_term_of(request) is None:
            # A term typed into the address, or a token from another session: list without it.
            # The search box posts; a term is never read from (nor written into) a URL.
            params = {k: v for k, v in request.GET.items() if k not in (SEARCH_VAR, SEARCH_TOKEN_VAR)}
            self.message_user(request, _("Search with the search box."), level="warning")
            return HttpResponseRedirect(self._changelist_url(params))
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
        search = path(
            "search/",
            self.admin_site.admin_view(self.search_view),
            name=f"{opts.app_label}_{opts.model_name}_search",
        )
        return [export, search, *super().get_urls()]

    def search_view(self, request):
        """Take the list's search term by POST and redirect to the list, naming the term by a session token."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        params = {
            name: value
            for name, value in request.POST.items()
            if name not in (SEARCH_VAR, SEARCH_TOKEN_VAR, "csrfmiddlewaretoken")
        }
        term = request.POST.get(SEARCH_VAR, "").strip()
        if term:
            params[SEARCH_TOKEN_VAR] = search_term_keep(request, term)
        return HttpResponseRedirect(self._changelist_url(params))

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


class ResidentSafeAutocompleteJsonView(AutocompleteJsonView):
    """The admin's autocomplete, closed to every admin that shows resident data.

    No form of OneCard's offers a resident (or a card, claim, ...) by
    autocomplete: residents are found through the recorded list search, and
    raw-id fields open that list. So the endpoint answers 403 for those
    models instead of listing names and masked IDs for any term (an empty
    term listed everyone) with no purpose and no ledger entry, and with the
    typed term, perhaps a national ID, in the URL.
    """

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if isinstance(model_admin, ResidentDataAdmin):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name
