from celery import shared_task


@shared_task(ignore_result=True)
def sequence_pending() -> None:
    """Move pending entries into the log and sign a checkpoint, unless another sequencer is at work."""
    from ledger.sequencer import sequence

    # Another sequencer holding the lock will take these rows, or the next sweep will.
    sequence(wait=False)


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
