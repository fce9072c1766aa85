"""A read-only admin for auditors: entries, checkpoints, witnesses, verification and sequencer lag."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ledger.actions import verification_request
from ledger.models import (
    Alert,
    Checkpoint,
    Cosignature,
    Entry,
    PendingEntry,
    SealedAccess,
    VerificationRun,
    Witness,
)


def sequencer_status() -> str:
    """Describe the sequencer's lag and the newest checkpoint and verification, for auditors."""
    oldest = PendingEntry.objects.order_by("id").values_list("time", flat=True).first()
    pending = PendingEntry.objects.count()
    lag = f"{(timezone.now() - oldest).total_seconds():.1f} s" if oldest else gettext("none")
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    run = VerificationRun.objects.filter(status=VerificationRun.Status.FINISHED).order_by("-started_at").first()
    parts = [gettext("Sequencer: %(pending)s pending, oldest waiting %(lag)s.") % {"pending": pending, "lag": lag}]
    if checkpoint:
        parts.append(
            gettext("Latest checkpoint: size %(size)s at %(time)s.")
            % {"size": checkpoint.tree_size, "time": f"{checkpoint.created_at:%Y-%m-%d %H:%M:%S}"}
        )
    if run:
        if run.ok:
            outcome = gettext("ok")
        else:
            outcome = gettext("FAILED at entry %(index)s: %(reason)s") % {
                "index": run.first_bad_index,
                "reason": run.reason,
            }
        parts.append(
            gettext("Last verification %(time)s: %(outcome)s.")
            % {"time": f"{run.finished_at:%Y-%m-%d %H:%M}", "outcome": outcome}
        )
    else:
        parts.append(gettext("No verification has run yet."))
    return " ".join(parts)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show rows, never change them: the ledger is append-only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        self.message_user(request, sequencer_status(), messages.INFO)
        return super().changelist_view(request, extra_context)


def _field(name, label):
    def show(obj):
        return json.loads(bytes(obj.entry_bytes)).get(name)

    show.short_description = label
    return show


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = [
        "index",
        _field("time", _("time")),
        _field("action", _("action")),
        _field("purpose", _("purpose")),
        _field("channel", _("channel")),
        "subject",
    ]
    search_fields = ["=subject", "=index"]
    readonly_fields = ["index", "subject", "entry_text", "leaf_hash_hex"]
    fields = readonly_fields
    show_full_result_count = False

    @admin.display(description=_("entry bytes"))
    def entry_text(self, obj):
        return bytes(obj.entry_bytes).decode()

    @admin.display(description=_("leaf hash"))
    def leaf_hash_hex(self, obj):
        return bytes(obj.leaf_hash).hex()


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "created_at", "cosignatures"]
    fields = ["tree_size", "created_at", "note"]

    @admin.display(description=_("cosignatures"))
    def cosignatures(self, obj):
        return Cosignature.objects.filter(tree_size=obj.tree_size).count()


@admin.register(Witness)
class WitnessAdmin(ReadOnlyAdmin):
    list_display = ["name", "is_active", "created_at"]
    fields = ["name", "verifier_key", "is_active", "created_at"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "witness_name", "timestamp", "received_at"]
    fields = ["tree_size", "witness_name", "timestamp", "line", "received_at"]


RUN_VERIFICATION_PERMISSION = "ledger.run_verification"


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAdmin):
    """Verification runs, with "Verify now": queue a full recomputation in Celery and follow its progress."""

    list_display = ["started_at", "status", "progress", "ok", "tree_size", "checkpoints_checked", "first_bad_index"]
    list_filter = ["status", "ok"]
    fields = [
        "status",
        "progress",
        "started_at",
        "finished_at",
        "ok",
        "tree_size",
        "checkpoints_checked",
        "first_bad_index",
        "reason",
    ]
    readonly_fields = fields

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if obj.total is None:
            return format_html("<progress></progress> {}", obj.get_status_display())
        percent = 100 if not obj.total else min(100, 100 * obj.processed // obj.total)
        return format_html(
            '<progress max="100" value="{}"></progress> {}',
            percent,
            gettext("%(processed)s / %(total)s entries") % {"processed": obj.processed, "total": obj.total},
        )

    def get_urls(self):
        verify = path("verify/", self.admin_site.admin_view(self.verify_now_view), name="ledger_verificationrun_verify")
        return [verify, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_run_verification": request.user.has_perm(RUN_VERIFICATION_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def verify_now_view(self, request):
        """Queue a verification of the whole log and show its page, which follows the progress."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(RUN_VERIFICATION_PERMISSION):
            raise PermissionDenied
        run = verification_request()
        self.message_user(request, _("Verification queued; this page follows its progress."), messages.INFO)
        return HttpResponseRedirect(reverse("admin:ledger_verificationrun_change", args=[run.pk]))


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "message"]


@admin.register(PendingEntry)
class PendingEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "time", "action", "purpose", "channel"]
    exclude = ["subject"]


@admin.register(SealedAccess)
class SealedAccessAdmin(ReadOnlyAdmin):
    """Sealed accesses for auditors: the legal reference, who sealed it, until when; never the withheld contents."""

    list_display = ["sealed_at", "unseal_on", "legal_reference", "sealed_by", "released_at", "commitment_hex"]
    fields = ["commitment_hex", "subject", "unseal_on", "legal_reference", "sealed_by", "sealed_at", "released_at"]
    readonly_fields = fields

    @admin.display(description="commitment")
    def commitment_hex(self, obj) -> str:
        return bytes(obj.commitment).hex()
