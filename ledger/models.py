from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

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

    time = models.DateTimeField(_("time"))
    actor_type = models.CharField(_("actor type"), max_length=16)
    actor_id = models.CharField(_("actor id"), max_length=80)
    role = models.CharField(_("role"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16)
    action = models.CharField(_("action"), max_length=120)
    purpose = models.CharField(_("purpose"), max_length=64)
    subject = models.CharField(_("subject"), max_length=80)
    object = models.CharField(_("object"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32)
    request_id = models.CharField(_("request id"), max_length=64)
    case_id = models.CharField(_("case id"), max_length=64, blank=True)
    # A sealed access (ledger.sealing): the entry holds only this commitment and date, not the fields above.
    seal_commitment = models.BinaryField(max_length=32, null=True, blank=True)
    unseal_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("pending entry")
        verbose_name_plural = _("pending entries")
        ordering = ["id"]

    def __str__(self) -> str:
        return _("pending #%(id)s %(action)s") % {"id": self.pk, "action": self.action}


class Entry(AppendOnlyModel):
    """One sequenced access: its canonical bytes, the salt of its public leaf, the leaf hash and its place in the log.

    ``subject`` repeats the pseudonym inside ``entry_bytes`` so a resident's
    entries can be found by index; verification checks the two agree. The
    public leaf commits to ``entry_bytes`` under ``salt`` (``ledger.leaves``);
    the salt is served only with the entry, to whoever may read the entry.
    """

    index = models.BigIntegerField(_("index"), primary_key=True)
    subject = models.CharField(_("subject"), max_length=80)
    entry_bytes = models.BinaryField(_("entry bytes"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    # 32 random bytes; empty only for the log-start leaf, which names the previous log's final checkpoint.
    salt = models.BinaryField(_("salt"), max_length=32)

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["index"]
        # A plain index: subjects are only ever looked up by equality. db_index on a
        # CharField would add a second, pattern-matching index on PostgreSQL that the
        # sequencer paid for on every entry and no query used.
        indexes = [models.Index(fields=["subject"], name="ledger_entry_subject")]

    def __str__(self) -> str:
        return _("entry %(index)s") % {"index": self.index}


class Node(AppendOnlyModel):
    """The hash of one complete subtree above the leaves, keyed by ``merkle.node_key``."""

    key = models.BigIntegerField(_("key"), primary_key=True)
    hash = models.BinaryField(_("hash"), max_length=32)

    class Meta:
        verbose_name = _("node")
        verbose_name_plural = _("nodes")
        ordering = ["key"]

    def __str__(self) -> str:
        return _("node %(level)s/%(position)s") % {"level": self.key >> 6, "position": self.key & 63}


class Checkpoint(AppendOnlyModel):
    """A signed tree head: a C2SP tlog-checkpoint note over the first TREE_SIZE entries.

    ``index_root`` is the root of the subjects' index (``ledger.index``) over the same entries, which the
    note's ``index`` extension line signs; None for a checkpoint that is not an index checkpoint.
    """

    tree_size = models.BigIntegerField(_("tree size"), primary_key=True)
    root_hash = models.BinaryField(_("root hash"), max_length=32)
    index_root = models.BinaryField(max_length=32, null=True, blank=True)
    note = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return _("checkpoint at size %(size)s") % {"size": self.tree_size}


class IndexNode(AppendOnlyModel):
    """One node of the subjects' index (a sparse Merkle tree, ``ledger.index``) as of tree size VERSION.

    ``node`` names the position: 2 bytes of depth, then the path's bits, left-aligned. A node is
    written again, under a new version, each time a fold changes it; the newest version at or
    below a tree size is the node in that index checkpoint's map. A leaf also holds its key and value.
    """

    pk = models.CompositePrimaryKey("node", "version")
    node = models.BinaryField(max_length=34)
    version = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)
    leaf_key = models.BinaryField(max_length=32, null=True)
    leaf_count = models.BigIntegerField(null=True)
    leaf_last = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = _("index node")
        verbose_name_plural = _("index nodes")
        # The sequencer checks, before each batch, that no node lies beyond the last signed checkpoint
        # (max(version)): without this index that was a scan of every node ever stored, per batch.
        indexes = [models.Index(fields=["version"], name="ledger_indexnode_version")]

    def __str__(self) -> str:
        return f"index node {bytes(self.node).hex()} at {self.version}"


class SealedAccess(models.Model):
    """A sealed access's withheld contents (ledger.sealing), encrypted, with the legal reference auditors list.

    ``sealed`` is AES-256-GCM of the contents, the salt and the resident's reference; only the release
    task decrypts it. The log holds the commitment; ``released_at`` is set when the opening is published.
    """

    commitment = models.BinaryField(max_length=32, unique=True)
    subject = models.CharField(max_length=80)
    unseal_on = models.DateField(_("unseal on"))
    legal_reference = models.CharField(_("legal reference"), max_length=200)
    sealed_by = models.CharField(_("sealed by"), max_length=120)
    sealed_at = models.DateTimeField(_("sealed at"))
    sealed = models.BinaryField()
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sealed access")
        verbose_name_plural = _("sealed accesses")
        ordering = ["-sealed_at"]

    def __str__(self) -> str:
        return _("sealed access until %(date)s") % {"date": self.unseal_on}


class SealedOpening(AppendOnlyModel):
    """The published opening of a released sealed access: contents and salt, which hash to its commitment."""

    commitment = models.BinaryField(max_length=32, unique=True)
    contents = models.TextField()
    salt = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("sealed access opening")
        verbose_name_plural = _("sealed access openings")

    def __str__(self) -> str:
        return f"opening of {bytes(self.commitment).hex()[:12]}"


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
        verbose_name = _("previous log entry")
        verbose_name_plural = _("previous log entries")
        ordering = ["index"]
        indexes = [models.Index(fields=["subject"], name="ledger_previousentry_subject")]

    def __str__(self) -> str:
        return f"previous log entry {self.index}"


class PreviousNode(AppendOnlyModel):
    """A stored subtree hash of the previous log."""

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("previous log node")
        verbose_name_plural = _("previous log nodes")
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
        verbose_name = _("previous log checkpoint")
        verbose_name_plural = _("previous log checkpoints")
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
        verbose_name = _("previous log cosignature")
        verbose_name_plural = _("previous log cosignatures")
        ordering = ["-tree_size", "witness_name"]
        constraints = [
            models.UniqueConstraint(fields=["tree_size", "witness_name"], name="ledger_previous_one_cosignature")
        ]

    def __str__(self) -> str:
        return f"{self.witness_name} on previous log size {self.tree_size}"


class Witness(models.Model):
    """A partner that cosigns checkpoints once it has checked their consistency."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    public_key = models.BinaryField(_("public key"), max_length=32)
    verifier_key = models.CharField(_("verifier key"), max_length=300)
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cosignature(AppendOnlyModel):
    """A witness's tlog-cosignature/v1 line on one checkpoint."""

    tree_size = models.BigIntegerField(_("tree size"))
    witness_name = models.CharField(_("witness name"), max_length=200)
    timestamp = models.BigIntegerField(_("timestamp"))
    line = models.TextField(_("line"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        ordering = ["-tree_size", "witness_name"]
        constraints = [models.UniqueConstraint(fields=["tree_size", "witness_name"], name="ledger_one_cosignature")]

    def __str__(self) -> str:
        return _("%(witness)s on size %(size)s") % {"witness": self.witness_name, "size": self.tree_size}


class VerificationRun(models.Model):
    """One full recomputation of the log: queued, running with its progress, then its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.FINISHED)
    # Entries recomputed so far out of those the newest checkpoint covers.
    processed = models.BigIntegerField(_("processed"), default=0)
    total = models.BigIntegerField(_("total"), null=True, blank=True)
    ok = models.BooleanField(_("ok"), null=True, blank=True)
    tree_size = models.BigIntegerField(_("tree size"), default=0)
    checkpoints_checked = models.IntegerField(_("checkpoints checked"), default=0)
    first_bad_index = models.BigIntegerField(_("first bad index"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # The checkpoint held outside the database that the run anchored on: its size and who holds it.
    anchor_size = models.BigIntegerField(_("anchor size"), null=True, blank=True)
    anchor_source = models.CharField(_("anchor source"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        # Stored in English by Django; marked so the group admin can show it translated.
        permissions = [("run_verification", gettext_noop("Can queue a verification of the whole log"))]

    def __str__(self) -> str:
        if self.status != self.Status.FINISHED:
            return _("verification %(started)s %(status)s") % {
                "started": f"{self.started_at:%Y-%m-%d %H:%M}",
                "status": self.get_status_display(),
            }
        outcome = _("ok") if self.ok else _("FAILED")
        return _("verification %(started)s %(status)s") % {
            "started": f"{self.started_at:%Y-%m-%d %H:%M}",
            "status": outcome,
        }


class Alert(models.Model):
    """A ledger problem raised to the auditors."""

    created_at = models.DateTimeField(_("created at"))
    message = models.TextField(_("message"))
    verification = models.ForeignKey(
        VerificationRun, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("verification")
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message[:80]
