"""One employer batch: a month of contributions for 10,000 employees through the real API view.

Runs in a child process on a throwaway database (PostgreSQL when DATABASE_URL
points at it, else SQLite), so the Django settings of the parent never apply.
"""

import json
import os
import subprocess
import sys
import time

from bench.common import ROOT, manage, row
from tests.support.stack import throwaway_database

EMPLOYEES = 10_000


def _inner(employees: int) -> dict:
    """Set up residents, an employer and its employments, then time one contributions POST."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from django.test import Client

    from cards.models import Resident
    from ledger.api import Actor, access_context
    from services.core.actions import agency_create, agency_key_issue
    from services.social_security.actions import employments_report
    from tests.idnumbers import many_national_ids

    numbers = list(many_national_ids(employees))
    residents = []
    for index, number in enumerate(numbers):
        resident = Resident(full_name=f"Employee {index}")
        resident.set_national_id(number)
        residents.append(resident)
    Resident.objects.bulk_create(residents, batch_size=2000)
    employer = agency_create(
        code="bench-employer",
        name_en="Bench Employer",
        name_zh_hans="基准单位",
        kind="employer",
        scopes=("social-security:contributions:write",),
        purposes=("contribution-reporting",),
    )
    _key, secret = agency_key_issue(agency=employer, name="bench")
    with access_context(
        actor=Actor(type="system", id="bench"), role="system", channel="command", purpose="demo-seeding"
    ):
        employments_report(employer=employer, items=[{"national_id": n, "started_on": "2020-01-01"} for n in numbers])
    shares = {"employer": "100.00", "employee": "50.00"}
    body = json.dumps(
        [
            {
                "national_id": number,
                "month": "2025-03",
                "base": "8000.00",
                "contributions": {
                    insurance: shares
                    for insurance in ("pension", "medical", "unemployment", "work_injury", "maternity")
                },
            }
            for number in numbers
        ]
    )
    client = Client()
    started = time.perf_counter()
    response = client.post(
        "/api/v1/social-security/contributions",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_X_PURPOSE="contribution-reporting",
        HTTP_IDEMPOTENCY_KEY="bench-2025-03",
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"batch refused: {response.status_code} {response.content[:2000]!r}")
    return {"seconds": elapsed, "rows": response.json()["rows"], "bytes": len(body)}


def run(employees: int = EMPLOYEES) -> list[dict]:
    with throwaway_database("onecard_bench_services") as url:
        manage("migrate", "--noinput", database_url=url)
        result = subprocess.run(
            [sys.executable, "-m", "bench.services_bench", "--inner", str(employees)],
            cwd=ROOT,
            env=os.environ | {"DATABASE_URL": url},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"services bench failed: {result.stderr[-2000:]}")
        measured = json.loads(result.stdout.strip().splitlines()[-1])
    print(
        f"{employees} employees ({measured['rows']} rows, {measured['bytes'] / 1e6:.1f} MB) "
        f"in {measured['seconds']:.2f} s",
        file=sys.stderr,
    )
    return [row("social_security.batch_10k.seconds", measured["seconds"] * EMPLOYEES / employees, "s")]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) > 2 and sys.argv[1] == "--inner":
        print(json.dumps(_inner(int(sys.argv[2]))))
    else:
        for result in run(int(sys.argv[1]) if len(sys.argv) > 1 else EMPLOYEES):
            print(json.dumps(result))
