"""Writes of the ledger's own records: verification runs, alerts, witnesses and cosignatures."""

import base64
import logging

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from ledger import note
from ledger.alerts import alert_raise
from ledger.errors import LedgerError
from ledger.models import Checkpoint, Cosignature, VerificationRun, Witness
from ledger.verification import Anchor, log_verify

logger = logging.getLogger(__name__)


class CosignatureRejected(LedgerError):
    """A posted cosignature does not match a checkpoint or a registered witness."""


def verification_run(
    *,
    alert: bool = False,
    progress=None,
    total=None,
    run: VerificationRun | None = None,
    anchors: list[Anchor] | None = None,
) -> VerificationRun:
    """Verify the whole log, store the outcome, and alert the auditors on failure when ALERT.

    RUN is a queued verification (``verification_request``) to fill in with
    progress and outcome; without it a new finished row is stored. ANCHORS are
    checkpoints held outside the database; by default, those the witnesses of
    the policy hold (``witnessing.witness_anchors``).
    """
    from ledger.verification import VerificationResult
    from ledger.witnessing import AnchorUnavailable, witness_anchors

    unanchored = None
    if anchors is None:
        try:
            anchors = witness_anchors()
        except AnchorUnavailable as error:
            unanchored = VerificationResult(False, 0, 0, reason=f"{error}; pass --checkpoint FILE to anchor")
    if run is None:
        run = VerificationRun(started_at=timezone.now())
    else:
        run.started_at = timezone.now()
    run.status = VerificationRun.Status.RUNNING
    run.full_clean()
    run.save()
    reporter = _ProgressReporter(run, progress=progress, total=total)
    try:
        result = unanchored or log_verify(anchors=anchors, progress=reporter.progress, total=reporter.total)
    finally:
        reporter.close()
    run.finished_at = timezone.now()
    run.status = VerificationRun.Status.FINISHED
    run.ok = result.ok
    run.tree_size = result.tree_size
    run.processed = reporter.processed
    run.total = reporter.count
    run.checkpoints_checked = result.checkpoints_checked
    run.first_bad_index = result.first_bad_index
    run.reason = result.reason
    run.anchor_size = result.anchor_size
    run.anchor_source = result.anchor_source[:300]
    run.full_clean()
    run.save()
    if alert and not result.ok:
        alert_raise(
            message=f"Ledger verification failed: first bad entry: {result.first_bad_index}. {result.reason}",
            verification=run,
        )
    return run


def verification_request() -> VerificationRun:
    """Store a queued verification and queue the Celery task that runs it once this transaction commits."""
    from ledger.tasks import verify_log

    run = VerificationRun(started_at=timezone.now(), status=VerificationRun.Status.QUEUED)
    run.full_clean()
    run.save()
    transaction.on_commit(lambda: verify_log.delay(run_id=run.pk))
    return run


class _ProgressReporter:
    """Write a running verification's processed/total to its row while the scan runs.

    The scan reads in one transaction; on PostgreSQL the progress goes through
    a second, autocommit connection so that the admin page sees it at once.
    Elsewhere (SQLite in development, where tasks run inline) it is written
    with the outcome.
    """

    def __init__(self, run: VerificationRun, *, progress=None, total=None) -> None:
        self.run, self.forward_progress, self.forward_total = run, progress, total
        self.processed, self.count = 0, None
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def _write(self) -> None:
        if self.side is None:
            return
        with self.side.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_verificationrun SET processed = %s, total = %s WHERE id = %s",
                [self.processed, self.count, self.run.pk],
            )

    def total(self, count: int) -> None:
        self.count = count
        self._write()
        if self.forward_total:
            self.forward_total(count)

    def progress(self, done: int) -> None:
        self.processed += done
        self._write()
        if self.forward_progress:
            self.forward_progress(done)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


@transaction.atomic
@transaction.atomic
def witness_register(*, verifier_key: str) -> Witness:
    """Register (or re-key) the witness named in a cosignature verifier key."""
    name, algorithm, public_key = note.verifier_key_parse(verifier_key)
    if algorithm != note.ALGORITHM_COSIGNATURE_V1:
        raise note.NoteError("a witness key must be a cosignature/v1 key (algorithm 0x04)")
    witness = Witness.objects.filter(name=name).first() or Witness(name=name)
    witness.public_key = public_key
    witness.verifier_key = verifier_key.strip()
    witness.is_active = True
    witness.full_clean()
    witness.save()
    return witness


@transaction.atomic
def cosignature_add(*, cosigned_note: str) -> list[Cosignature]:
    """Store every valid cosignature by a registered witness on a checkpoint in COSIGNED_NOTE."""
    try:
        body, signatures = note.note_split(cosigned_note)
        _, tree_size, root = note.checkpoint_parse(body)
    except note.NoteError as error:
        raise CosignatureRejected(str(error)) from error
    checkpoint = Checkpoint.objects.filter(tree_size=tree_size).first()
    if checkpoint is None or bytes(checkpoint.root_hash) != root or not checkpoint.note.startswith(body):
        raise CosignatureRejected(f"no checkpoint of size {tree_size} with that root")
    witnesses = {witness.name: witness for witness in Witness.objects.filter(is_active=True)}
    stored = []
    for name, raw in signatures:
        witness = witnesses.get(name)
        if witness is None:
            continue
        try:
            timestamp = note.cosignature_verify(body, name, raw, bytes(witness.public_key))
        except note.NoteError as error:
            raise CosignatureRejected(str(error)) from error
        if Cosignature.objects.filter(tree_size=tree_size, witness_name=name).exists():
            continue
        cosignature = Cosignature(
            tree_size=tree_size,
            witness_name=name,
            timestamp=timestamp,
            line=f"{note.SIGNATURE_PREFIX}{name} {base64.b64encode(raw).decode()}",
            received_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                cosignature.save()
        except IntegrityError:
            continue
        stored.append(cosignature)
    if not stored and not any(name in witnesses for name, _ in signatures):
        raise CosignatureRejected("the note carries no cosignature from a registered witness")
    return stored
