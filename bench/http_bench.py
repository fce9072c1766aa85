"""HTTP benchmarks on the production shape: gunicorn, a Celery worker and beat, PostgreSQL and Redis, loaded by wrk.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python -m bench.http_bench [--rounds 24] [--seconds 3]

Rows:
- api.cards_verify.ledger_on_vs_off: POST /api/v1/cards/verify throughput with the ledger, as a
  ratio to the same endpoint with recording off (bench/settings_ledger_off.py), in the same run;
- api.cards_verify.vs_easy_audit: the same, as a ratio to django-easy-audit's request logging
  in the ledger's place (bench/settings_easy_audit.py), with a bootstrap 95 % confidence
  interval of the median over the rounds;
- ledger.checkpoint_lag.p99_s: from each access (its entry's time) to the first signed
  checkpoint that includes it, for every access made during the 32-connection runs;
- portal.dashboard.vs_bare_page: the p99 of GET /me/ for a signed-in resident under 32
  connections, against the p99 of a bare signed-in Django page (bench/bare_page.py) under the
  same load on the same server, in slices that alternate; the ratio is bare p99 / dashboard p99.

The three variants are three gunicorn servers running side by side on one
database, one Celery worker and one beat. wrk loads them in short slices, in an
order balanced both for position in the round and for which variant went just
before (see _slices), so the drift of a shared machine hits them alike. No
slice starts under the tail of the one before:
- every slice waits until the previous slice's server has served what was
  still queued on its socket when wrk stopped (up to 27 requests, about a
  tenth of a second of both cores);
- after a slice with the ledger on, the next waits until the worker has
  sequenced what it recorded.
Each ratio is the median over rounds of the ratio within a round; value and
baseline are the median throughputs. The dashboard and bare-page figures are
each the median p99 of five slices. It makes its own database (onecard_bench_http, next to the one in
DATABASE_URL) and drops it afterwards.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.common import median_interval, row
from tests.support.stack import Stack, free_port, http, throwaway_database

DATABASE = "onecard_bench_http"
CONNECTIONS = 32
# The dashboard's and the bare page's p99 are each the median of five 4-second slices: one
# slice's p99 is its dozenth-slowest request, which one burst of load elsewhere can set.
DASHBOARD_SLICES = 5
DASHBOARD_SECONDS = 4
BARE_PAGE = "/bench/bare/"
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "5"))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "1"))
VARIANTS = {
    "on": "portal.settings",
    "off": "bench.settings_ledger_off",
    "easy_audit": "bench.settings_easy_audit",
}

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOTP_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
ENROLMENT_CODE = re.compile(r"this code: (\d+)")


def _totp(secret_b32: str, *, at: float | None = None) -> str:
    """Return the current RFC 6238 code (SHA-1, 30 s, 6 digits) for a base32 secret, as an authenticator app would."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class _Browser:
    """A minimal browser: keeps cookies (Secure ones too, over this plain-HTTP loopback) and never follows redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        parts = urlsplit(self.base_url)
        connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Referer": self.base_url + path}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        text = response.read().decode(errors="replace")
        connection.close()
        return response.status, response.headers.get("Location", ""), text

    def post_form(self, path: str, fields: dict) -> tuple[int, str, str]:
        status, _, page = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        token = CSRF_INPUT.search(page)
        if token is None:
            raise RuntimeError(f"{path} has no CSRF token")
        return self.request("POST", path, {**fields, "csrfmiddlewaretoken": token.group(1)})


def _sign_in(base_url: str, *, username: str, password: str, mail_dir: Path) -> str:
    """Sign in through the login form, prove the e-mail address, enrol a TOTP device; return the session cookie."""
    browser = _Browser(base_url)
    status, location, _ = browser.post_form("/login/", {"username": username, "password": password})
    if status != 302:
        raise RuntimeError(f"the login form answered {status}, not a redirect")
    # A first authenticator needs the code e-mailed to the registered address, as a resident would get it.
    sent_before = set(mail_dir.glob("*")) if mail_dir.exists() else set()
    status, _, _ = browser.post_form("/account/otp/enrol/email/", {"send": "1"})
    if status != 200:
        raise RuntimeError(f"asking for the e-mailed enrolment code answered {status}")
    mails = sorted(set(mail_dir.glob("*")) - sent_before, key=lambda path: path.stat().st_mtime)
    code = ENROLMENT_CODE.search(mails[-1].read_text()) if mails else None
    if code is None:
        raise RuntimeError(f"no enrolment code was e-mailed to {mail_dir}")
    status, _, _ = browser.post_form("/account/otp/enrol/email/", {"code": code.group(1)})
    if status != 302:
        raise RuntimeError(f"the e-mailed enrolment code answered {status}, not a redirect")
    status, location, page = browser.request("GET", "/account/otp/enrol/")
    secret = TOTP_SECRET.search(page)
    if status != 200 or secret is None:
        raise RuntimeError(f"the OTP enrolment page answered {status} without a key")
    token = CSRF_INPUT.search(page).group(1)
    status, _, _ = browser.request(
        "POST", "/account/otp/enrol/", {"otp_token": _totp(secret.group(1)), "csrfmiddlewaretoken": token}
    )
    if status != 200:
        raise RuntimeError(f"the OTP enrolment answered {status}")
    status, _, _ = browser.request("GET", "/me/")
    if status != 200:
        raise RuntimeError(f"the dashboard answered {status} after signing in")
    return browser.cookies["sessionid"]


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
    command = ["wrk", f"-t{min(2, CONNECTIONS)}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
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


def _slices(rounds: int) -> list[list[str]]:
    """Return the variant order of each round, balanced for position and for which variant goes before which.

    Each block of six rounds runs the three rotations of one cycle (on, off,
    easy-audit), then the three of the reverse cycle. In each block every
    variant is first, second and last twice. Every variant also directly
    follows each other variant three times, counting across round boundaries.
    A slice's writes are still landing on disk during the next slice, so the
    variant that runs after a writing variant pays for some of its writes. Plain
    rotation put the ledger after easy-audit twice as often as easy-audit
    after the ledger, and put easy-audit after recording off twice as often
    as the ledger (docs/performance.md).
    """
    names = list(VARIANTS)
    cycles = (names, [names[0], *reversed(names[1:])])
    block = [cycle[shift:] + cycle[:shift] for cycle in cycles for shift in range(len(names))]
    return [block[number % len(block)] for number in range(rounds)]


def run(rounds: int = 24, seconds: int = 3) -> list[dict]:
    """Start the stack and a server per variant, load them in interleaved slices, and return the rows."""
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
            web_workers=WEB_WORKERS,
            web_threads=WEB_THREADS,
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
        stack.start_worker()
        stack.start_beat()
        _sequenced(url)
        first_index = _ledger_state(url)[1]

        servers = {}
        for name, module in VARIANTS.items():
            servers[name] = stack.start_web(name=f"web-{name}", port=free_port(), settings_module=module)
            status, _, body = http(
                "POST",
                servers[name] + "/api/v1/cards/verify",
                body={"token": citizen["card_token"]},
                headers={"Authorization": f"Bearer {bank['api_key']}", "X-Purpose": "identity-verification"},
            )
            if status != 200:
                raise RuntimeError(f"{name}: cards/verify answered {status}: {body[:300]!r}")
            _wrk(servers[name] + "/api/v1/cards/verify", seconds=2, script=script)
        _sequenced(url)

        throughput = {name: [] for name in VARIANTS}
        for number, order in enumerate(_slices(rounds), start=1):
            for name in order:
                result = _wrk(servers[name] + "/api/v1/cards/verify", seconds=seconds, script=script)
                if result["non_2xx"]:
                    raise RuntimeError(f"{name}: {result['non_2xx']} non-2xx answers under load")
                drain = stack.wait_idle(f"web-{name}")
                if name == "on":
                    _sequenced(url)
                throughput[name].append(result["rps"])
                _log(
                    f"round {number}/{rounds} {name:<10} {result['rps']:8.0f} req/s  p99 {result['p99_ms']:.1f} ms"
                    f"  drained in {drain:.2f} s"
                )

        import psycopg

        with psycopg.connect(url) as connection:
            lag_p99, lag_p50, lagged = connection.execute(LAG_SQL, [first_index]).fetchone()
        _log(f"checkpoint lag over {lagged} accesses: p50 {lag_p50:.3f} s, p99 {lag_p99:.3f} s")

        # The pages run on their own server, whose urlconf adds the bare page to the portal's.
        pages = stack.start_web(name="web-pages", port=free_port(), settings_module="bench.settings_bare_page")
        # Once through the real login form and OTP enrolment, as a resident would; wrk reuses that cookie.
        session = _sign_in(
            pages, username=citizen["username"], password=citizen["password"], mail_dir=stack.directory / "mail"
        )
        cookie = [f"Cookie: sessionid={session}"]
        for path in ("/me/", BARE_PAGE):
            status, _, body = http("GET", pages + path, headers={"Cookie": f"sessionid={session}"})
            if status != 200:
                raise RuntimeError(f"{path} answered {status} to the benchmark session: {body[:300]!r}")
            _wrk(pages + path, seconds=2, headers=cookie)
        p99 = {"/me/": [], BARE_PAGE: []}
        for number in range(DASHBOARD_SLICES):
            order = ("/me/", BARE_PAGE) if number % 2 == 0 else (BARE_PAGE, "/me/")
            for path in order:
                result = _wrk(pages + path, seconds=DASHBOARD_SECONDS, headers=cookie)
                stack.wait_idle("web-pages")
                _sequenced(url)
                if result["non_2xx"]:
                    raise RuntimeError(f"{path}: {result['non_2xx']} non-2xx answers under load")
                _log(f"{path} {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms")
                p99[path].append(result["p99_ms"])
        try:
            stack.close()
        except subprocess.TimeoutExpired as slow:
            # Every figure is in hand; a process slow to stop on a loaded machine is killed on exit.
            _log(f"warning: {Path(slow.cmd[0]).name} did not stop within {slow.timeout:.0f} s; killed")

    return rows(throughput=throughput, lag_p99=float(lag_p99), dashboard_p99=p99["/me/"], bare_p99=p99[BARE_PAGE])


def rows(
    *, throughput: dict[str, list[float]], lag_p99: float, dashboard_p99: list[float], bare_p99: list[float]
) -> list[dict]:
    """Return the suite's rows from the per-round throughputs and the per-slice p99s (ms)."""
    on, off, easy = (statistics.median(throughput[name]) for name in VARIANTS)
    on_vs_off = statistics.median(a / b for a, b in zip(throughput["on"], throughput["off"], strict=True))
    ratios_easy = [a / b for a, b in zip(throughput["on"], throughput["easy_audit"], strict=True)]
    dashboard, bare = statistics.median(dashboard_p99), statistics.median(bare_p99)
    return [
        row("api.cards_verify.ledger_on_vs_off", on, "req/s", round(off, 1), round(on_vs_off, 4)),
        row(
            "api.cards_verify.vs_easy_audit",
            on,
            "req/s",
            round(easy, 1),
            round(statistics.median(ratios_easy), 4),
            interval=median_interval(ratios_easy),
        ),
        row("ledger.checkpoint_lag.p99_s", lag_p99, "s"),
        row("portal.dashboard.vs_bare_page", dashboard, "ms", round(bare, 1), round(bare / dashboard, 4)),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--seconds", type=int, default=3)
    arguments = parser.parse_args()
    for result in run(rounds=arguments.rounds, seconds=arguments.seconds):
        print(json.dumps(result))
