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


class Entry(AppendOnlyModel):
    """One sequenced access: its canonical bytes, the salt of its public leaf, the leaf hash and its place in the log.

    ``subject`` repeats the pseudonym inside ``entry_bytes`` so a resident's
    entries can be found by index; verification checks the two agree. The
    public leaf commits to ``entry_bytes`` under ``salt`` (``ledger.leaves``);
    the salt is served only with the entry, to whoever may read the entry.
    """

    index = models.BigIntegerField(primary_key=True)
    subject = models.CharField(max_length=80)
    entry_bytes = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)
    # 32 random bytes; empty only for the log-start leaf, which names the previous log's final checkpoint.
    salt = models.BinaryField(max_length=32)

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["index"]
        # A plain index: subjects are only ever looked up by equality. db_index on a
        # CharField would add a second, pattern-matching index on PostgreSQL that the
        # sequencer paid for on every entry and no query used.
        indexes = [models.Index(fields=["subject"], name="ledger_entry_subject")]

    def __str__(self) -> str:
        return f"entry {self.index}"


class Node(AppendOnlyModel):
    """The hash of one complete subtree above the leaves, keyed by ``merkle.node_key``."""

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"node {self.key >> 6}/{self.key & 63}"


class Checkpoint(AppendOnlyModel):
    """A signed tree head: a C2SP tlog-checkpoint note over the first TREE_SIZE entries."""

    tree_size = models.BigIntegerField(primary_key=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint at size {self.tree_size}"


class PreviousEntry(AppendOnlyModel):
    """An entry of the previous log (format v1, whose leaves were the entries themselves), sealed when this log began.

    Migration 0008 moved the format v1 log here whole; the current log's
    first leaf commits to its final checkpoint. Read-only, verified by
    ``ledger verify`` with the current log.
    """

    index = models.BigIntegerField(primary_key=True)
    subject = models.CharField(max_length=80)
    entry_bytes = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name_plural = "previous log entries"
        ordering = ["index"]
        indexes = [models.Index(fields=["subject"], name="ledger_previousentry_subject")]

    def __str__(self) -> str:
        return f"previous log entry {self.index}"


class PreviousNode(AppendOnlyModel):
    """A stored subtree hash of the previous log."""

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"previous log node {self.key >> 6}/{self.key & 63}"


class PreviousCheckpoint(AppendOnlyModel):
    """A signed checkpoint of the previous log, under its own origin."""

    tree_size = models.BigIntegerField(primary_key=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"previous log checkpoint at size {self.tree_size}"


class PreviousCosignature(AppendOnlyModel):
    """A witness's cosignature on a checkpoint of the previous log."""

    tree_size = models.BigIntegerField()
    witness_name = models.CharField(max_length=200)
    timestamp = models.BigIntegerField()
    line = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size", "witness_name"]
        constraints = [
            models.UniqueConstraint(fields=["tree_size", "witness_name"], name="ledger_previous_one_cosignature")
        ]

    def __str__(self) -> str:
        return f"{self.witness_name} on previous log size {self.tree_size}"


class Witness(models.Model):
    """A partner that cosigns checkpoints once it has checked their consistency."""

    name = models.CharField(max_length=200, unique=True)
    public_key = models.BinaryField(max_length=32)
    verifier_key = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "witnesses"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cosignature(AppendOnlyModel):
    """A witness's tlog-cosignature/v1 line on one checkpoint."""

    tree_size = models.BigIntegerField()
    witness_name = models.CharField(max_length=200)
    timestamp = models.BigIntegerField()
    line = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size", "witness_name"]
        constraints = [models.UniqueConstraint(fields=["tree_size", "witness_name"], name="ledger_one_cosignature")]

    def __str__(self) -> str:
        return f"{self.witness_name} on size {self.tree_size}"


class VerificationRun(models.Model):
    """One full recomputation of the log: queued, running with its progress, then its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        FINISHED = "finished", "finished"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FINISHED)
    # Entries recomputed so far out of those the newest checkpoint covers.
    processed = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    ok = models.BooleanField(null=True, blank=True)
    tree_size = models.BigIntegerField(default=0)
    checkpoints_checked = models.IntegerField(default=0)
    first_bad_index = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # The checkpoint held outside the database that the run anchored on: its size and who holds it.
    anchor_size = models.BigIntegerField(null=True, blank=True)
    anchor_source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        permissions = [("run_verification", "Can queue a verification of the whole log")]

    def __str__(self) -> str:
        if self.status != self.Status.FINISHED:
            return f"verification {self.started_at:%Y-%m-%d %H:%M} {self.status}"
        return f"verification {self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"


class Alert(models.Model):
    """A ledger problem raised to the auditors."""

    created_at = models.DateTimeField()
    message = models.TextField()
    verification = models.ForeignKey(VerificationRun, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message[:80]
