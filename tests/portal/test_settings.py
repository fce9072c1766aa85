import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "onecard.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/onecard",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ONECARD_CREDENTIAL_ISSUER_URL": "https://onecard.example",
}


def keys_env() -> dict:
    """Return a full set of fresh keys as environment variables."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    output = subprocess.run(
        [sys.executable, "manage.py", "keys_generate"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split("=", 1) for line in output.split())


def run_check(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONECARD_", "DATABASE_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=120
    )


def test_production_starts_with_every_secret():
    result = run_check(PRODUCTION_ENV | keys_env())

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "ONECARD_CREDENTIAL_ISSUER_URL"],
)
def test_production_refuses_to_start_without_a_setting(missing):
    env = PRODUCTION_ENV | keys_env()
    del env[missing]

    result = run_check(env)

    assert result.returncode != 0
    assert missing in result.stderr
    assert "Traceback" not in result.stderr or "ImproperlyConfigured" in result.stderr


def test_production_refuses_sqlite():
    result = run_check(PRODUCTION_ENV | keys_env() | {"DATABASE_URL": "sqlite:///x.db"})

    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_production_refuses_to_start_without_each_key():
    keys = keys_env()
    assert keys, "keys_generate printed no keys"
    for name in keys:
        env = PRODUCTION_ENV | {k: v for k, v in keys.items() if k != name}

        result = run_check(env)

        assert result.returncode != 0, name
        assert name in result.stderr


def test_production_reads_a_key_from_a_file(tmp_path):
    keys = keys_env()
    name = sorted(keys)[0]
    (tmp_path / "key").write_text(keys.pop(name))

    result = run_check(PRODUCTION_ENV | keys | {f"{name}_FILE": str(tmp_path / "key")})

    assert result.returncode == 0, result.stderr


def _session_engine(env: dict) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONECARD_", "DATABASE_", "REDIS_"))}
    code = "from django.conf import settings; print(settings.SESSION_ENGINE)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_reads_sessions_from_redis_and_keeps_them_in_the_database():
    assert _session_engine(PRODUCTION_ENV | keys_env()) == "django.contrib.sessions.backends.cached_db"


def test_without_redis_sessions_stay_in_the_database_only():
    # A per-process cache would let one process serve a session another process has logged out.
    assert _session_engine({"DJANGO_DEBUG": "1"}) == "django.contrib.sessions.backends.db"


@pytest.mark.parametrize("value", ["0", "-1", "30"])
def test_a_sweep_interval_out_of_range_is_refused_by_name(value):
    result = run_check({"ONECARD_LEDGER_SWEEP_SECONDS": value})

    assert result.returncode != 0
    assert "ONECARD_LEDGER_SWEEP_SECONDS must be more than 0 and at most 10" in result.stderr
