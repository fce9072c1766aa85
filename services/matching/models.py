import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class MatchingSession(models.Model):
    """One private match between a partner's list and a OneCard set, while it runs and after, for the quota.

    It never holds the partner's list: only the partner's *blinded* list (a
    protocol message under the partner's key, which OneCard cannot test
    guesses against), and only until the session ends, when that and every
    other protocol field is emptied. What stays is who matched how many IDs
    against which set, and when: the daily quota counts it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey("services_core.Agency", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=64)
    case_id = models.CharField(_("case id"), max_length=64, blank=True)
    set_name = models.CharField(_("set"), max_length=80)
    list_size = models.PositiveIntegerField(_("IDs in the partner's list"))
    set_size = models.PositiveIntegerField(_("items sent, with padding"))
    chunks = models.PositiveIntegerField(_("chunks"))
    chunks_done = models.PositiveIntegerField(_("chunks answered"), default=0)
    # The first chunk that sends again every resident found, to check the answers agree; None before.
    recheck_from = models.PositiveIntegerField(_("first re-check chunk"), null=True, blank=True)
    matched_count = models.PositiveIntegerField(_("residents matched"), null=True, blank=True)
    # The partner's answers to the re-check did not agree with run 1. The partner is not told (its answer is
    # then empty, as when nobody is found), since only a found resident can fail the re-check.
    recheck_failed = models.BooleanField(_("answers failed the re-check"), default=False)
    # Run-1 protocol state, emptied when the session ends (answered or expired):
    client_key = models.BinaryField(default=b"", editable=False)  # sealed at rest
    # Resident ids in the order sent (0: padding); from recheck_from on, the residents found, reshuffled.
    order = models.BinaryField(default=b"", editable=False)
    partner_setup = models.BinaryField(default=b"", editable=False)  # the partner's blinded list
    matched = models.BinaryField(default=b"", editable=False)  # resident ids found so far
    created_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("matching session")
        verbose_name_plural = _("matching sessions")
        indexes = [models.Index(fields=["agency", "created_at"])]

    def __str__(self) -> str:
        return f"matching session {self.pk} ({self.set_name})"
