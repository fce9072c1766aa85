"""HTTP benchmarks on the production shape: gunicorn, a Celery worker and beat, PostgreSQL and Redis, loaded by wrk.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python -m bench.http_bench [--rounds 3] [--seconds 8]

Rows:
- api.cards_verify.ledger_on_vs_off: POST /api/v1/cards/verify throughput with the ledger, as a
  ratio to the same endpoint with recording off (bench/settings_ledger_off.py), in the same run;
- api.cards_verify.vs_easy_audit: the same, as a ratio to django-easy-audit's request logging
  in the ledger's place (bench/settings_easy_audit.py);
- ledger.checkpoint_lag.p99_s: from each access (its entry's time) to the first signed
  checkpoint that includes it, for every access made during the 32-connection runs;
- portal.dashboard.p99_ms: GET /me/ for a signed-in resident under 32 connections.

The three variants run in turns (on, off, easy-audit, on, off, …) against one
database, so drift on a shared machine hits them alike; each figure is the
median of its rounds. It makes its own database (onecard_bench_http, next to
the one in DATABASE_URL) and drops it afterwards.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import row, throwaway_database
from bench.stack import Stack, http

DATABASE = "onecard_bench_http"
CONNECTIONS = 32
VARIANTS = {
    "on": "portal.settings",
    "off": "bench.settings_ledger_off",
    "easy_audit": "bench.settings_easy_audit",
}

SESSION_SCRIPT = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
user = get_user_model().objects.get(username={username!r})
device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
if device is not None:
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
session.create()
print(session.session_key)
"""

LAG_SQL = """
    WITH accessed AS (
        SELECT "index", (convert_from(entry_bytes, 'UTF8')::jsonb ->> 'time')::timestamptz AS at
        FROM ledger_entry WHERE "index" >= %s
    )
    SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sealed.created_at - accessed.at)),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sealed.created_at - accessed.at)),
           count(*)
    FROM accessed CROSS JOIN LATERAL (
        SELECT created_at FROM ledger_checkpoint WHERE tree_size > accessed."index" ORDER BY tree_size LIMIT 1
    ) AS sealed
"""


def _log(message: str) -> None:
    print(f"   {message}", file=sys.stderr, flush=True)


def _wrk(url: str, *, seconds: int, script: Path | None = None, headers: list[str] = ()) -> dict:
    """Run wrk with 32 connections; return requests/s, latency percentiles (ms) and error counts."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for percentile in ("50", "99"):
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        result[f"p{percentile}_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(bad.group(1)) if bad else 0
    return result


def _verify_script(directory: Path, *, api_key: str, token: str) -> Path:
    script = directory / "verify.lua"
    body = json.dumps({"token": token})
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {api_key}"\n'
        'wrk.headers["X-Purpose"] = "identity-verification"\n'
    )
    return script


def _ledger_state(database_url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT (SELECT count(*) FROM ledger_pendingentry), (SELECT count(*) FROM ledger_entry)"
        ).fetchone()


def _sequenced(database_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _ledger_state(database_url)[0] and time.monotonic() < deadline:
        time.sleep(0.2)


def run(rounds: int = 3, seconds: int = 8) -> list[dict]:
    """Start the stack, load every variant in turns, and return the rows."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make bench installs it with apt-get)")
    base = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not base.startswith(("postgres://", "postgresql://")) or not redis_url:
        raise RuntimeError("the HTTP benchmarks need DATABASE_URL=postgres://… and REDIS_URL=redis://…")
    with (
        throwaway_database(DATABASE) as url,
        Stack(
            database_url=url,
            redis_url=redis_url,
            web_workers=4,
            web_threads=8,
            extra_env={"ONECARD_API_RATE": "100000000/min"},
        ) as stack,
        tempfile.TemporaryDirectory() as directory,
    ):
        _log("migrating (with easy-audit's tables), collecting static files, seeding")
        stack.manage("migrate", "--noinput", "-v", "0", "--settings", VARIANTS["easy_audit"])
        stack.manage("collectstatic", "--noinput", "-v", "0")
        demo = json.loads(stack.manage("seed_demo", "--force", "--json").stdout)
        bank = next(a for a in demo["agencies"] if a["code"] == "demo-bank")
        citizen = demo["citizens"][0]
        script = _verify_script(Path(directory), api_key=bank["api_key"], token=citizen["card_token"])
        session = stack.manage("shell", "-c", SESSION_SCRIPT.format(username=citizen["username"])).stdout.split()[-1]
        stack.start_worker()
        stack.start_beat()
        _sequenced(url)
        first_index = _ledger_state(url)[1]

        throughput = {name: [] for name in VARIANTS}
        for number in range(1, rounds + 1):
            for name, module in VARIANTS.items():
                stack.env["DJANGO_SETTINGS_MODULE"] = module
                stack.start_web()
                status, _, body = http(
                    "POST",
                    stack.url("/api/v1/cards/verify"),
                    body={"token": citizen["card_token"]},
                    headers={"Authorization": f"Bearer {bank['api_key']}", "X-Purpose": "identity-verification"},
                )
                if status != 200:
                    raise RuntimeError(f"{name}: cards/verify answered {status}: {body[:300]!r}")
                _wrk(stack.url("/api/v1/cards/verify"), seconds=2, script=script)
                result = _wrk(stack.url("/api/v1/cards/verify"), seconds=seconds, script=script)
                stack.stop("web")
                if result["non_2xx"]:
                    raise RuntimeError(f"{name}: {result['non_2xx']} non-2xx answers under load")
                throughput[name].append(result["rps"])
                _log(f"round {number}/{rounds} {name:<10} {result['rps']:8.0f} req/s  p99 {result['p99_ms']:.1f} ms")

        _sequenced(url)
        import psycopg

        with psycopg.connect(url) as connection:
            lag_p99, lag_p50, lagged = connection.execute(LAG_SQL, [first_index]).fetchone()
        _log(f"checkpoint lag over {lagged} accesses: p50 {lag_p50:.3f} s, p99 {lag_p99:.3f} s")

        stack.env["DJANGO_SETTINGS_MODULE"] = VARIANTS["on"]
        stack.start_web()
        status, _, body = http("GET", stack.url("/me/"), headers={"Cookie": f"sessionid={session}"})
        if status != 200:
            raise RuntimeError(f"the dashboard answered {status} to the benchmark session: {body[:300]!r}")
        _wrk(stack.url("/me/"), seconds=2, headers=[f"Cookie: sessionid={session}"])
        dashboard = _wrk(stack.url("/me/"), seconds=seconds, headers=[f"Cookie: sessionid={session}"])
        _log(
            f"dashboard {dashboard['rps']:.0f} req/s, p50 {dashboard['p50_ms']:.1f} ms,"
            f" p99 {dashboard['p99_ms']:.1f} ms"
        )
        if dashboard["non_2xx"]:
            raise RuntimeError(f"dashboard: {dashboard['non_2xx']} non-2xx answers under load")
        stack.close()

    on, off, easy = (statistics.median(throughput[name]) for name in VARIANTS)
    return [
        row("api.cards_verify.ledger_on_vs_off", on, "req/s", round(off, 1), round(on / off, 4)),
        row("api.cards_verify.vs_easy_audit", on, "req/s", round(easy, 1), round(on / easy, 4)),
        row("ledger.checkpoint_lag.p99_s", float(lag_p99), "s"),
        row("portal.dashboard.p99_ms", dashboard["p99_ms"], "ms"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    arguments = parser.parse_args()
    for result in run(rounds=arguments.rounds, seconds=arguments.seconds):
        print(json.dumps(result))
