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
    # A sealed access (ledger.sealing): the entry holds only this commitment and date, not the fields above.
    seal_commitment = models.BinaryField(max_length=32, null=True, blank=True)
    unseal_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "pending entries"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"pending #{self.pk} {self.action}"


class Entry(AppendOnlyModel):
    """One sequenced access: its canonical bytes, leaf hash and place in the log.

    ``subject`` repeats the pseudonym inside ``entry_bytes`` so a resident's
    entries can be found by index; verification checks the two agree.
    """

    index = models.BigIntegerField(primary_key=True)
    subject = models.CharField(max_length=80)
    entry_bytes = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)

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
    """A signed tree head: a C2SP tlog-checkpoint note over the first TREE_SIZE entries.

    ``index_root`` is the root of the subjects' index (``ledger.index``) over the same entries, which the
    note's ``index`` extension line signs; None for a checkpoint signed before the index existed.
    """

    tree_size = models.BigIntegerField(primary_key=True)
    root_hash = models.BinaryField(max_length=32)
    index_root = models.BinaryField(max_length=32, null=True, blank=True)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint at size {self.tree_size}"


class IndexNode(AppendOnlyModel):
    """One node of the subjects' index (a sparse Merkle tree, ``ledger.index``) as of tree size VERSION.

    ``node`` names the position: 2 bytes of depth, then the path's bits, left-aligned. A node is
    written again, under a new version, each time a batch changes it; the newest version at or
    below a tree size is the node in that checkpoint's index. A leaf also holds its key and value.
    """

    pk = models.CompositePrimaryKey("node", "version")
    node = models.BinaryField(max_length=34)
    version = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)
    leaf_key = models.BinaryField(max_length=32, null=True)
    leaf_count = models.BigIntegerField(null=True)
    leaf_last = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"index node {bytes(self.node).hex()} at {self.version}"


class SealedAccess(models.Model):
    """A sealed access's withheld contents (ledger.sealing), encrypted, with the legal reference auditors list.

    ``sealed`` is AES-256-GCM of the contents, the salt and the resident's reference; only the release
    task decrypts it. The log holds the commitment; ``released_at`` is set when the opening is published.
    """

    commitment = models.BinaryField(max_length=32, unique=True)
    subject = models.CharField(max_length=80)
    unseal_on = models.DateField()
    legal_reference = models.CharField(max_length=200)
    sealed_by = models.CharField(max_length=120)
    sealed_at = models.DateTimeField()
    sealed = models.BinaryField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "sealed accesses"
        ordering = ["-sealed_at"]

    def __str__(self) -> str:
        return f"sealed access until {self.unseal_on}"


class SealedOpening(AppendOnlyModel):
    """The published opening of a released sealed access: contents and salt, which hash to its commitment."""

    commitment = models.BinaryField(max_length=32, unique=True)
    contents = models.TextField()
    salt = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"opening of {bytes(self.commitment).hex()[:12]}"


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
