"""A production-shaped OneCard as child processes: gunicorn, a Celery worker and beat.

Used by the full-stack tests (tests/reliability/) and the HTTP benchmarks
(bench/http_bench.py). Each
stack gets fresh keys from ``keys_generate``, ``DJANGO_DEBUG=0``, its own
database and Redis URLs and its own ``var/`` directory, so it shares nothing
with the configured development database.
"""

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method: str, url: str, *, body: dict | None = None, headers: dict | None = None, timeout: float = 10):
    """Send one request; return (status, headers, body bytes) without raising on HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Stack:
    """Start, stop and kill the processes of one OneCard deployment."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        settings_module: str = "portal.settings",
        web_workers: int = 3,
        web_threads: int = 1,
        extra_env: dict | None = None,
    ) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._directory = tempfile.TemporaryDirectory(prefix="onecard-stack-")
        self.directory = Path(self._directory.name)
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, object] = {}
        keys = subprocess.run(
            [sys.executable, "manage.py", "keys_generate"],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONECARD_", "GUNICORN_"))}
        self.env.update(line.split("=", 1) for line in keys.splitlines() if "=" in line)
        self.env.update(
            {
                "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "DJANGO_SETTINGS_MODULE": settings_module,
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DJANGO_SECURE_SSL_REDIRECT": "0",
                "EMAIL_URL": f"filemail://{self.directory / 'mail'}",
                "ONECARD_CREDENTIAL_ISSUER_URL": f"http://127.0.0.1:{self.port}",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "ONECARD_VAR_DIR": str(self.directory / "var"),
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": str(web_workers),
                "GUNICORN_THREADS": str(web_threads),
                "GUNICORN_ACCESSLOG": "",
                "PYTHONUNBUFFERED": "1",
            }
        )
        # A stack of one machine has no witness processes: checkpoints are published unwitnessed.
        policy = self.directory / "witness-policy.txt"
        policy.write_text("quorum none\n")
        self.env["ONECARD_LEDGER_WITNESS_POLICY_FILE"] = str(policy)
        self.env.update(extra_env or {})

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run manage.py in the stack's environment; return the finished process."""
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=check
        )

    def migrate(self) -> None:
        """Create the stack's tables."""
        self.manage("migrate", "--noinput", "-v", "0")

    def _start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs[name] = log
        process = subprocess.Popen(
            command, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes[name] = process
        return process

    def start_web(self, *, name: str = "web", port: int | None = None, settings_module: str | None = None) -> str:
        """Start gunicorn (on PORT under NAME, if given) and wait for /healthz; return its base URL."""
        env = {}
        base_url = self.base_url
        if port is not None:
            env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
            base_url = f"http://127.0.0.1:{port}"
        if settings_module is not None:
            env["DJANGO_SETTINGS_MODULE"] = settings_module
        self._start(name, [str(VENV_BIN / "gunicorn"), "portal.wsgi", "--config", "python:portal.gunicorn"], env)
        self.wait_for_web(name=name, base_url=base_url)
        return base_url

    def start_worker(self, *, concurrency: int = 1) -> None:
        """Start a Celery worker."""
        self._start(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "--app",
                "portal",
                "worker",
                "--queues",
                "celery,sequencer",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"worker-{self.port}@%h",
            ],
            # As the Procfile does: a worker holds a fixed number of connections.
            {"DATABASE_CONN_MAX_AGE": "60"},
        )

    def wait_for_worker(self, timeout: float = 60, *, name: str = "worker") -> None:
        """Wait until Celery worker NAME has booted (its log says "ready"), or raise with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                break
            if " ready." in self.log(name):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker did not start:\n{self.log(name)}")

    def start_beat(self) -> None:
        """Start Celery beat with its schedule file in the stack's directory."""
        self._start(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "--app",
                "portal",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.directory / "celerybeat-schedule"),
            ],
        )

    def wait_for_web(self, timeout: float = 30, *, name: str = "web", base_url: str | None = None) -> None:
        """Wait until gunicorn NAME answers, or raise with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                break
            with contextlib.suppress(OSError):
                http("GET", (base_url or self.base_url) + "/healthz", timeout=2)
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.log(name)}")

    def url(self, path: str) -> str:
        """Return the absolute URL of PATH on this stack."""
        return self.base_url + path

    def log(self, name: str) -> str:
        """Return what process NAME wrote so far."""
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str) -> None:
        """SIGKILL process NAME (and its children, e.g. Celery's pool) and reap it."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            for child in _children(process.pid):
                os.kill(child, signal.SIGKILL)
            process.kill()
        process.wait()
        self._logs.pop(name).close()

    def stop(self, name: str, timeout: float = 30) -> int:
        """SIGTERM process NAME, wait for it to exit, and return its exit status."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            self._logs.pop(name).close()
        return status

    def cpu_seconds(self, name: str) -> float:
        """Return the CPU time that process NAME and its direct children have used so far (Linux /proc)."""
        pid = self.processes[name].pid
        total = 0.0
        for member in (pid, *_children(pid)):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return total

    def wait_idle(self, name: str, *, quiet: float = 0.1, timeout: float = 10) -> float:
        """Wait until process NAME and its children use no CPU for QUIET seconds; return the seconds waited.

        A load generator's end does not end the server's work: a sync gunicorn
        still serves the requests already queued on its socket.
        """
        started = time.monotonic()
        used = self.cpu_seconds(name)
        while time.monotonic() - started < timeout:
            time.sleep(quiet)
            now = self.cpu_seconds(name)
            if now == used:
                break
            used = now
        return time.monotonic() - started

    def close(self) -> dict[str, int]:
        """Stop every process still running; return their exit statuses."""
        statuses = {name: self.stop(name) for name in list(self.processes)}
        self._directory.cleanup()
        return statuses

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc) -> None:
        for name in list(self.processes):
            with contextlib.suppress(Exception):
                self.kill(name)
        self._directory.cleanup()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Return the ids of PID's direct children (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@contextlib.contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """Yield a DATABASE_URL for a fresh, empty database that is dropped afterwards.

    On PostgreSQL (DATABASE_URL set) it creates database NAME next to the
    configured one; otherwise it uses a temporary SQLite file.
    """
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/{name}.sqlite3"
        return
    import psycopg

    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
