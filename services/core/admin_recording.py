"""Admin building blocks for pages that show resident data: each page records the residents it shows."""

import contextlib

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList

from ledger.api import Actor, access_context, context_get_or_none, purpose_override, record_bulk


@contextlib.contextmanager
def staff_context(request, purpose: str):
    """Run the block under the request's access context narrowed to PURPOSE, opening one for the officer if none."""
    if context_get_or_none() is not None:
        with purpose_override(purpose):
            yield
        return
    with access_context(
        actor=Actor(type="staff", id=f"user:{request.user.pk}"), role="caseworker", channel="admin", purpose=purpose
    ):
        yield


class RecordedChangeList(ChangeList):
    """A change list that records each resident whose rows it shows."""

    record_action = ""
    record_purpose = ""

    def get_results(self, request):
        super().get_results(request)
        with staff_context(request, self.record_purpose):
            record_bulk(action=self.record_action, subjects=[row.resident for row in self.result_list])


class RecordedAdmin(admin.ModelAdmin):
    """Read-only admin whose list and detail pages record the residents shown."""

    record_action = ""
    record_purpose = ""
    list_select_related = ["resident"]

    def get_changelist(self, request, **kwargs):
        return type(
            "Recorded" + ChangeList.__name__,
            (RecordedChangeList,),
            {"record_action": self.record_action, "record_purpose": self.record_purpose},
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            with staff_context(request, self.record_purpose):
                record_bulk(action=self.record_action, subjects=[obj.resident])
        return obj

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
