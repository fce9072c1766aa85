"""Publish every trend table of one month over 1,000,000 generated residents.

Runs in a child process on a throwaway PostgreSQL database. The residents and
what the tables count (hospital visits, pharmacy sessions and fills, grant
payments, partner accesses in the ledger's pending table) are generated with
INSERT ... SELECT over generate_series, then one `period_publish` of all five
tables is timed: reading and clipping each table, drawing the noise, and
recording one ledger entry per resident used (COPY into the pending table).
Sequencing those entries afterwards is the sequencer's work, measured by
ledger.sequencer.entries_per_s, so Celery is not eager here.

Usage: python -m bench.statistics_bench [RESIDENTS]   (default 1,000,000)
"""

import json
import os
import subprocess
import sys
import time

from bench.common import ROOT, manage, row
from tests.support.stack import throwaway_database

RESIDENTS = 1_000_000
PERIOD = "2025-09"
# Shares of the residents with rows in each source table (a month of a city's activity).
VISITS, SESSIONS, FILLS, PAYMENTS, ACCESSES = 0.30, 0.20, 0.15, 0.05, 0.30


def _generate(cursor, residents: int, hospital: int, pharmacy: int, bank_code: str, programmes: list[int]) -> None:
    n = residents
    cursor.execute(
        """
        INSERT INTO cards_resident (national_id_ciphertext, national_id_hash, full_name, phone, email, birth_date,
                                    sex, province_code, created_at, updated_at)
        SELECT '\\x00'::bytea, md5(g::text) || md5((-g)::text), 'Bench ' || g, '', '', DATE '1980-01-01',
               CASE WHEN g %% 2 = 0 THEN 'F' ELSE 'M' END,
               (ARRAY['11','12','13','14','15','21','22','23','31','32','33','34','35','36','37','41','42','43',
                      '44','45','46','50','51','52','53','54','61','62','63','64','65','71','81','82'])[1 + g %% 34],
               TIMESTAMPTZ '2024-01-01 00:00+08', TIMESTAMPTZ '2024-01-01 00:00+08'
        FROM generate_series(1, %s) AS g
        """,
        [n],
    )
    cursor.execute("SELECT min(id) FROM cards_resident")
    first = cursor.fetchone()[0]
    carded = int(n * max(SESSIONS, FILLS, PAYMENTS))
    cursor.execute(
        """
        INSERT INTO cards_card (number, version, resident_id, status, status_reason, issued_on, expires_on,
                                activation_code_hash, activation_attempts, status_index, created_at, updated_at)
        SELECT lpad(g::text, 19, '0'), 1, %s + g, 'active', '', DATE '2024-01-01', DATE '2034-01-01', '', 0, g,
               now(), now()
        FROM generate_series(0, %s - 1) AS g
        """,
        [first, carded],
    )
    # Visits: 1 to 3 on one day of the month; some residents twice in a week (clipped at 3).
    cursor.execute(
        """
        INSERT INTO health_visit (resident_id, hospital_id, visited_on, icd10_code, diagnosis, cost,
                                  reimbursement_rate, insured_share, recorded_at)
        SELECT %s + (g::bigint * 7919) %% %s, %s, DATE '2025-09-01' + (g %% 28), 'J06.9', 'bench', 200, 0.7, 140, now()
        FROM generate_series(0, %s - 1) AS g, generate_series(1, 1 + g %% 3) AS k
        """,
        [first, n, hospital, int(n * VISITS)],
    )
    cursor.execute(
        """
        INSERT INTO pharmacy_dispensingsession (public_id, pharmacy_id, resident_id, card_id, jti,
                                                reimbursement_rate, opened_at, expires_at)
        SELECT gen_random_uuid(), %s, c.resident_id, c.id, md5('s' || c.id), 0.7,
               TIMESTAMPTZ '2025-09-01 10:00+08' + (c.id %% 28) * INTERVAL '1 day',
               TIMESTAMPTZ '2025-09-01 10:30+08' + (c.id %% 28) * INTERVAL '1 day'
        FROM cards_card c ORDER BY c.id LIMIT %s
        """,
        [pharmacy, int(n * SESSIONS)],
    )
    cursor.execute(
        """
        INSERT INTO health_prescription (resident_id, hospital_id, prescriber, drug_code, drug_name, strength, form,
                                         quantity, repeats_allowed, min_fill_interval_days, max_days_supply,
                                         controlled_class, issued_at, valid_until, status)
        SELECT s.resident_id, %s, 'Dr. Bench', '86900745000157', 'Metformin', '500 mg', 'tablet', 30, 3, 0, 30,
               (ARRAY['none','none','none','psychotropic_2','psychotropic_1','narcotic'])[1 + s.id %% 6],
               TIMESTAMPTZ '2025-08-01 10:00+08', DATE '2025-12-31', 'active'
        FROM pharmacy_dispensingsession s ORDER BY s.id LIMIT %s
        """,
        [hospital, int(n * FILLS)],
    )
    cursor.execute(
        """
        INSERT INTO pharmacy_dispensation (session_id, pharmacy_id, resident_id, prescription_id, drug_code,
                                           drug_name, quantity, days_supply, controlled_class, restricted_amount_mg,
                                           price, reimbursement_rate, insured_share, resident_share, dispensed_at)
        SELECT s.id, s.pharmacy_id, s.resident_id, p.id, p.drug_code, p.drug_name, 30, 30, p.controlled_class, 0,
               10, 0.7, 7, 3, s.opened_at
        FROM health_prescription p JOIN pharmacy_dispensingsession s ON s.resident_id = p.resident_id
        """
    )
    for position, programme in enumerate(programmes):
        cursor.execute(
            """
            INSERT INTO grants_application (programme_id, resident_id, status, dependants, payout_account, language,
                                            eligibility, flags, round, past_reviewer_ids, decision_reason,
                                            appeal_reason, created_at, updated_at, amount)
            SELECT %s, c.resident_id, 'approved', 0, '6222', 'en', '[]', '[]', 1, '[]', '', '', now(), now(),
                   100 * (1 + c.id %% 80)
            FROM cards_card c WHERE c.id %% %s = %s ORDER BY c.id LIMIT %s
            """,
            [programme, len(programmes), position, int(n * PAYMENTS / len(programmes))],
        )
    cursor.execute(
        """
        INSERT INTO grants_disbursement (reference, application_id, cycle_id, card_id, amount, status, bank_reference,
                                         failure_reason, scheduled_at, confirmed_at)
        SELECT gen_random_uuid(), a.id, y.id, c.id, a.amount, 'paid', '', '', now(),
               TIMESTAMPTZ '2025-09-15 10:00+08' + (a.id % 14) * INTERVAL '1 day'
        FROM grants_application a
        JOIN grants_cycle y ON y.programme_id = a.programme_id
        JOIN cards_card c ON c.resident_id = a.resident_id
        """
    )
    # Partner accesses, as the gateway records them: pending rows of a bank, pseudonymised like record() does.
    from django.conf import settings

    key_version = max(settings.ONECARD_LEDGER_SUBJECT_KEYS)
    key = settings.ONECARD_LEDGER_SUBJECT_KEYS[key_version]
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    cursor.execute(
        """
        INSERT INTO ledger_pendingentry (time, actor_type, actor_id, role, channel, action, purpose, subject, object,
                                         outcome, request_id, case_id)
        SELECT TIMESTAMPTZ '2025-09-02 09:00+08' + (g %% 25) * INTERVAL '1 day', 'agency', %s, 'bank', 'api',
               'checks.age_gte.evaluate', 'credit-assessment',
               %s || substr(encode(hmac(convert_to('resident:' || (%s + (g::bigint * 104729) %% %s), 'UTF8'), %s::bytea,
                                        'sha256'), 'hex'), 1, 40),
               '', 'ok', md5(g::text), ''
        FROM generate_series(0, %s - 1) AS g, generate_series(1, 1 + g %% 7) AS k
        """,
        [bank_code, f"p{key_version}-", first, n, key, int(n * ACCESSES)],
    )


def _inner(residents: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from decimal import Decimal

    from celery import current_app
    from django.db import connection

    from ledger.api import Actor, access_context
    from ledger.models import PendingEntry
    from services.core.models import Agency
    from services.grants.models import Cycle, Programme
    from services.statistics import actions
    from services.statistics.periods import period_parse

    current_app.conf.task_always_eager = False
    agencies = {
        kind: Agency.objects.create(code=f"bench-{kind}-1", name_en=kind, name_zh_hans=kind, kind=kind)
        for kind in ("hospital", "pharmacy", "bank")
    }
    programmes = []
    for number in range(1, 6):
        programme = Programme.objects.create(
            code=f"bench-{number}",
            name_en=f"Programme {number}",
            name_zh_hans=f"补助{number}",
            amount_base=Decimal("500.00"),
            budget_cap=Decimal("1e9"),
            two_approvers_above=Decimal("5000.00"),
            opens_on="2025-01-01",
            closes_on="2025-12-31",
        )
        Cycle.objects.create(programme=programme, number=1, pays_on="2025-09-15")
        programmes.append(programme.pk)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _generate(
            cursor, residents, agencies["hospital"].pk, agencies["pharmacy"].pk, agencies["bank"].code, programmes
        )
        cursor.execute("ANALYZE")
    generated = time.perf_counter() - started
    before = PendingEntry.objects.count()

    recording = {"seconds": 0.0}
    record = actions._releases_record

    def timed_record(**kwargs):
        began = time.perf_counter()
        try:
            return record(**kwargs)
        finally:
            recording["seconds"] += time.perf_counter() - began

    actions._releases_record = timed_record
    with access_context(
        actor=Actor(type="system", id="bench"), role="system", channel="command", purpose="official-statistics"
    ):
        started = time.perf_counter()
        published = actions.period_publish(period=period_parse(PERIOD))
        elapsed = time.perf_counter() - started
    entries = PendingEntry.objects.count() - before
    return {
        "seconds": elapsed,
        "recording_seconds": recording["seconds"],
        "entries": entries,
        "generated_seconds": generated,
        "tables": [release.table for release in published.new],
    }


def run(residents: int = RESIDENTS) -> list[dict]:
    with throwaway_database("onecard_bench_statistics") as url:
        if not url.startswith(("postgres://", "postgresql://")):
            raise RuntimeError("the statistics bench generates its rows with PostgreSQL SQL; set DATABASE_URL")
        manage("migrate", "--noinput", database_url=url)
        result = subprocess.run(
            [sys.executable, "-m", "bench.statistics_bench", "--inner", str(residents)],
            cwd=ROOT,
            env=os.environ | {"DATABASE_URL": url},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"statistics bench failed: {result.stderr[-3000:]}")
        measured = json.loads(result.stdout.strip().splitlines()[-1])
    note = (
        f"{residents:,} residents; generated in {measured['generated_seconds']:.0f} s (not timed); "
        f"publish {measured['seconds']:.1f} s, of which {measured['recording_seconds']:.1f} s record "
        f"{measured['entries']:,} ledger entries (one per resident used); tables: {', '.join(measured['tables'])}"
    )
    print(note, file=sys.stderr)
    result_row = row("statistics.publish.seconds_1m", measured["seconds"] * RESIDENTS / residents, "s")
    result_row["note"] = note
    return [result_row]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) > 2 and sys.argv[1] == "--inner":
        print(json.dumps(_inner(int(sys.argv[2]))))
    else:
        for result in run(int(sys.argv[1]) if len(sys.argv) > 1 else RESIDENTS):
            print(json.dumps(result))
