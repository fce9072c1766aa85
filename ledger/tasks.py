from celery import shared_task


@shared_task(ignore_result=True)
def sequence_pending() -> None:
    """Move pending entries into the log and sign a checkpoint, unless another sequencer is at work."""
    from ledger.sequencer import sequence

    # Another sequencer holding the lock will take these rows, or the next sweep will.
    sequence(wait=False)


@shared_task(ignore_result=True)
def verify_log() -> None:
    """Recompute the whole log and alert the auditors if anything is wrong."""
    from ledger.actions import verification_run

    verification_run(alert=True)
