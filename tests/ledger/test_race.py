import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from ledger.models import Entry, PendingEntry
from ledger.verification import log_verify

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_eight_writers_and_two_sequencers_give_one_contiguous_history(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the race is between real processes on its advisory lock")
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    # Without a broker Celery is eager, so every writer's commit also tries to sequence inline.
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    stop = tmp_path / "stop"

    def spawn(role, argument):
        return subprocess.Popen(
            [sys.executable, "-m", "tests.ledger.race_worker", role, str(argument)], cwd=ROOT, env=env
        )

    sequencers = [spawn("sequence", stop) for _ in range(2)]
    writers = [spawn("write", writer) for writer in range(8)]
    writer_status = [process.wait(timeout=600) for process in writers]
    stop.touch()
    sequencer_status = [process.wait(timeout=600) for process in sequencers]

    assert writer_status + sequencer_status == [0] * 10
    assert PendingEntry.objects.count() == 0
    rows = list(Entry.objects.order_by("index").values_list("index", "entry_bytes"))
    assert [index for index, _ in rows] == list(range(4000))
    objects = sorted(json.loads(bytes(data))["object"] for _, data in rows)
    assert objects == sorted(f"{writer}:{n}" for writer in range(8) for n in range(500))
    result = log_verify()
    assert result.ok, result.reason
    assert result.tree_size == 4000
