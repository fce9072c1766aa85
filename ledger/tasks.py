from celery import shared_task


@shared_task(ignore_result=True)
def sequence_pending() -> None:
    """Move pending entries into the log and sign a checkpoint, unless another sequencer is at work."""
    from ledger.sequencer import LogTampered, sequence

    try:
        # Another sequencer holding the lock will take these rows, or the next sweep will.
        result = sequence(wait=False)
    except LogTampered:
        # Logged and alerted by the sequencer; the rows stay pending until an operator has looked.
        return
    from ledger.publication import policy_get

    if result.sequenced and policy_get().witnesses:
        checkpoints_push.delay()


@shared_task(bind=True, ignore_result=True, max_retries=8)
def checkpoints_push(self) -> None:
    """Send the newest checkpoint to the policy's witnesses; retry, backing off, while one cannot be reached."""
    from ledger.witnessing import checkpoints_push as push

    outcomes = push()
    if any(outcome.status == "unreachable" for outcome in outcomes) and not self.request.is_eager:
        raise self.retry(countdown=min(2**self.request.retries, 60))


@shared_task(ignore_result=True)
def verify_log(run_id: int | None = None) -> None:
    """Recompute the whole log (filling in queued run RUN_ID, if given) and alert the auditors if anything is wrong."""
    from ledger.actions import verification_run
    from ledger.models import VerificationRun

    run = VerificationRun.objects.filter(pk=run_id).first() if run_id is not None else None
    if run_id is not None and (run is None or run.status == VerificationRun.Status.FINISHED):
        # A redelivered task for a run that already finished: nothing to redo.
        return
    verification_run(alert=True, run=run)
