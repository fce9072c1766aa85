"""A writer or sequencer process for the PostgreSQL race test: python -m tests.ledger.race_worker ROLE ARG."""

import os
import sys
import time
from pathlib import Path


def write(writer: int) -> None:
    from django.db import transaction

    from ledger.api import Actor, access_context, record

    with access_context(
        actor=Actor(type="system", id=f"writer-{writer}"), role="system", channel="task", purpose="registration"
    ):
        for batch in range(50):
            with transaction.atomic():
                for n in range(10):
                    record(
                        action="cards.residents.lookup",
                        subject=f"resident:{writer}",
                        object=f"{writer}:{batch * 10 + n}",
                    )


def sequence_until(stop: Path) -> None:
    from ledger.sequencer import sequence

    while not stop.exists():
        sequence(batch_size=50)
        time.sleep(0.002)
    sequence()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    role, argument = sys.argv[1], sys.argv[2]
    if role == "write":
        write(int(argument))
    else:
        sequence_until(Path(argument))
