"""`make up`'s preparation: its settings file follows the make variables, its database is the one named."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLEARED_PREFIXES = ("DJANGO_", "ONECARD_", "DATABASE_", "REDIS_", "EMAIL_", "UP_", "MAKE")


def clean_env(**extra) -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)} | extra


def make_up_env(path: Path, **variables) -> subprocess.CompletedProcess:
    """Run the Makefile's up.env target for PATH with VARIABLES, without reinstalling the virtualenv."""
    arguments = [f"{name}={value}" for name, value in {"UP_ENV": path, **variables}.items()]
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", str(path), *arguments],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def read_env(path: Path) -> dict:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def test_up_env_takes_the_database_url_given(tmp_path):
    path = tmp_path / "up.env"

    done = make_up_env(path, UP_DATABASE_URL="postgres://onecard@db.example:6543/onecard_staging")

    assert done.returncode == 0, done.stderr
    values = read_env(path)
    assert values["DATABASE_URL"] == "postgres://onecard@db.example:6543/onecard_staging"
    assert values["DJANGO_DEBUG"] == "0" and values["EMAIL_URL"].startswith("filemail://")
    assert path.stat().st_mode & 0o077 == 0


def test_up_env_follows_changed_settings_and_keeps_its_keys(tmp_path):
    path = tmp_path / "up.env"
    make_up_env(path, UP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/onecard_up")
    first = read_env(path)

    done = make_up_env(
        path,
        UP_DATABASE_URL="postgres://postgres:hunter2@127.0.0.1:5432/onecard_other",
        UP_REDIS_URL="redis://127.0.0.1:6379/9",
    )

    assert done.returncode == 0, done.stderr
    second = read_env(path)
    assert second["DATABASE_URL"] == "postgres://postgres:hunter2@127.0.0.1:5432/onecard_other"
    assert second["REDIS_URL"] == "redis://127.0.0.1:6379/9"
    secrets = [name for name in first if name.startswith("ONECARD_") or name == "DJANGO_SECRET_KEY"]
    assert secrets and all(second[name] == first[name] for name in secrets)
    assert "DATABASE_URL is now postgres://postgres:***@127.0.0.1:5432/onecard_other" in done.stdout
    assert "hunter2" not in done.stdout


def up_prepare_services(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "up_prepare", "services"],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_up_refuses_a_database_url_that_is_not_postgres_clearly():
    done = up_prepare_services(DATABASE_URL="sqlite:///up.db", REDIS_URL="redis://127.0.0.1:6379/5")

    assert done.returncode != 0
    assert "DATABASE_URL must be postgres://user@host:port/name" in done.stderr and "Traceback" not in done.stderr


def test_up_says_which_postgres_it_cannot_reach():
    done = up_prepare_services(DATABASE_URL="postgres://postgres@127.0.0.1:9/onecard_up", REDIS_URL="redis://x:1/0")

    assert done.returncode != 0
    assert "PostgreSQL at 127.0.0.1:9 (DATABASE_URL)" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.postgres
def test_up_creates_the_database_its_url_names():
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        pytest.skip("creating the database needs PostgreSQL (set DATABASE_URL)")
    import psycopg

    name = f"onecard_up_test_{uuid.uuid4().hex[:8]}"
    url = server.rsplit("/", 1)[0] + "/" + name
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
    try:
        done = up_prepare_services(DATABASE_URL=url, REDIS_URL=redis_url)

        assert done.returncode == 0, done.stderr
        assert f"created database {name}" in done.stdout
        with psycopg.connect(server.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
            assert connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    finally:
        with psycopg.connect(server.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
