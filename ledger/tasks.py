from celery import shared_task


@shared_task(ignore_result=True)
def sequence_pending() -> None:
    """Move pending entries into the log and sign a checkpoint."""
    # Placeholder until the sequencer lands: pending rows stay pending and lose nothing.
