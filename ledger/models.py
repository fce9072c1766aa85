from django.db import models

from ledger.errors import AppendOnlyViolation


class AppendOnlyModel(models.Model):
    """A model whose rows can be inserted and never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyViolation(f"{type(self).__name__} rows are append-only; updates are refused")
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyViolation(f"{type(self).__name__} rows are append-only; deletes are refused")


class PendingEntry(models.Model):
    """An access recorded by a request, waiting for the sequencer to give it an index.

    Inserted in the same transaction as the access it records; the sequencer
    moves it into the entries table and deletes it here in one transaction.
    """

    time = models.DateTimeField()
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=80)
    role = models.CharField(max_length=64)
    channel = models.CharField(max_length=16)
    action = models.CharField(max_length=120)
    purpose = models.CharField(max_length=64)
    subject = models.CharField(max_length=80)
    object = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=32)
    request_id = models.CharField(max_length=64)
    case_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "pending entries"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"pending #{self.pk} {self.action}"
