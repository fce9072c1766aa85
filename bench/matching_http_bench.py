"""A partner matches 100,000 IDs with the client tool, over HTTP, against a OneCard deployment.

The whole path a partner takes: `services/matching/tools/onecard_match.py`
run as a separate process against gunicorn (production settings, two sync
workers, the default request timeout) on a throwaway PostgreSQL database.
OneCard's set is `active-card`, held by RESIDENTS generated residents with real
encrypted national IDs; half the partner's list is in the set, half is not
registered. The row is the tool's wall time, beside the same list matched in
plain Python (a set intersection) in the same run; the run fails unless the
tool prints exactly the IDs in the set and OneCard records exactly one
matching entry for each of them.

Usage: python -m bench.matching_http_bench [--partner N] [--set M]   (defaults 100,000 and 200,000)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, row
from tests.support.stack import Stack, throwaway_database

TOOL = ROOT / "services" / "matching" / "tools" / "onecard_match.py"
PURPOSE = "credit-assessment"

# Run inside the stack's environment (its keys): residents with active cards, and a bank allowed to match.
_GENERATE = """
import datetime, json
from cards.crypto import national_id_encrypt, national_id_lookup_hash
from cards.models import Card, Resident
from tests.factories.core import agency_with_key
from bench.matching_http_bench import national_ids

COUNT = {count}
today = datetime.date.today()
for start in range(0, COUNT, 10_000):
    numbers = national_ids(min(10_000, COUNT - start), first=start, county="110101")
    residents = Resident.objects.bulk_create(
        Resident(national_id_ciphertext=national_id_encrypt(n), national_id_hash=national_id_lookup_hash(n),
                 full_name="Bench", birth_date=datetime.date(int(n[6:10]), int(n[10:12]), int(n[12:14])), sex="F",
                 province_code="11")
        for n in numbers
    )
    Card.objects.bulk_create(
        Card(number=str(9_000_000_000_000_000_000 + r.pk), version=1, resident=r, status="active", issued_on=today,
             expires_on=today + datetime.timedelta(days=3650), status_index=r.pk)
        for r in residents
    )
_agency, key = agency_with_key(kind="bank", scopes=["matching:active-card"], purposes=["{purpose}"])
print(json.dumps({{"key": key}}))
"""

# The stack runs no sequencer, so every entry is still pending; sequenced ones are counted too, decoded.
_COUNT_ENTRIES = """
import json
from ledger.models import Entry, PendingEntry
sequenced = sum(1 for data in Entry.objects.values_list("entry_bytes", flat=True).iterator()
                if json.loads(bytes(data))["action"] == "matching.active_card.match")
print(PendingEntry.objects.filter(action="matching.active_card.match").count() + sequenced)
"""


def _check_character(first_17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first_17, weights, strict=True)) % 11]


def national_ids(count: int, *, first: int = 0, county: str = "110101") -> list[str]:
    """Return COUNT valid, distinct national IDs of COUNTY: 999 sequence numbers for each day from 1950 on."""
    numbers = []
    epoch = time.mktime((1950, 1, 1, 12, 0, 0, 0, 0, 0))
    for serial in range(first, first + count):
        day, sequence = divmod(serial, 999)
        born = time.gmtime(epoch + day * 86400)
        body = f"{county}{born.tm_year:04d}{born.tm_mon:02d}{born.tm_mday:02d}{sequence + 1:03d}"
        numbers.append(body + _check_character(body))
    return numbers


def run(*, partner: int = 100_000, set_size: int = 200_000) -> list[dict]:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    with throwaway_database("onecard_bench_matching") as database_url, tempfile.TemporaryDirectory() as directory:
        if not database_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("matching_http_bench runs on PostgreSQL: set DATABASE_URL")
        stack = Stack(database_url=database_url, redis_url=redis_url, web_workers=2)
        try:
            stack.migrate()
            generated = stack.manage("shell", "-c", _GENERATE.format(count=set_size, purpose=PURPOSE))
            key = json.loads(generated.stdout.strip().splitlines()[-1])["key"]
            base_url = stack.start_web()

            members = national_ids(set_size)
            inside = members[set_size - partner // 2 :]
            outside = national_ids(partner - len(inside), county="310115")
            listed = inside + outside
            ids_file = Path(directory) / "ids.csv"
            ids_file.write_text("national_id\n" + "\n".join(listed) + "\n")

            started = time.perf_counter()
            plain = set(listed) & set(members)
            plain_seconds = time.perf_counter() - started

            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, str(TOOL), "--base-url", base_url, "--api-key", key, "--purpose", PURPOSE]
                + ["--set", "active-card", str(ids_file)],
                capture_output=True,
                text=True,
                check=False,
            )
            tool_seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise AssertionError(f"onecard_match.py exited {done.returncode}: {done.stderr[-2000:]}")
            matched = set(done.stdout.split())
            if matched != plain:
                raise AssertionError(f"the tool matched {len(matched)} IDs, plain intersection {len(plain)}")
            recorded = int(stack.manage("shell", "-c", _COUNT_ENTRIES).stdout.split()[-1])
            if recorded != len(plain):
                raise AssertionError(f"OneCard recorded {recorded} matching entries for {len(plain)} residents")
        finally:
            stack.close()
    value, baseline = partner / tool_seconds, partner / plain_seconds
    return [
        row("matching.http.seconds_100k", tool_seconds * 100_000 / partner, "s"),
        row("matching.http.ids_per_s", value, "ids/s", baseline=round(baseline, 1), ratio=round(value / baseline, 6)),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partner", type=int, default=100_000, help="IDs in the partner's list")
    parser.add_argument("--set", type=int, default=200_000, dest="set_size", help="residents in OneCard's set")
    arguments = parser.parse_args()
    print(json.dumps(run(partner=arguments.partner, set_size=arguments.set_size), indent=2))
