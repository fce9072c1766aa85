import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A witness policy file: production refuses to start without one (docs/ledger.md).
POLICY_FILE = Path(tempfile.mkdtemp(prefix="onecard-policy-")) / "policy"
POLICY_FILE.write_text("quorum none\n")
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "onecard.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/onecard",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://onecard:secret@smtp.example:587",
    "ONECARD_CREDENTIAL_ISSUER_URL": "https://onecard.example",
    "ONECARD_LEDGER_WITNESS_POLICY_FILE": str(POLICY_FILE),
}
# What a settings check in a child process must not inherit from the test run.
CLEARED_PREFIXES = ("DJANGO_", "ONECARD_", "DATABASE_", "REDIS_", "EMAIL_")


def keys_env() -> dict:
    """Return a full set of fresh keys as environment variables."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    output = subprocess.run(
        [sys.executable, "manage.py", "keys_generate"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split("=", 1) for line in output.split())


def run_check(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=120
    )


def test_production_starts_with_every_secret():
    result = run_check(PRODUCTION_ENV | keys_env())

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "ONECARD_CREDENTIAL_ISSUER_URL",
    ],
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
    base = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
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


@pytest.mark.parametrize(
    "url, refused",
    [
        ("https://onecard.example.gov", False),
        ("https://onecard.example.gov:8443/", False),
        ("https://example.gov/onecard", True),
        ("https://example.gov?x=1", True),
        ("onecard.example.gov", True),
    ],
)
def test_the_credential_issuer_must_be_an_origin_for_verifiers_to_find_its_keys(url, refused):
    result = run_check({"ONECARD_CREDENTIAL_ISSUER_URL": url})

    assert (result.returncode != 0) == refused, result.stderr
    assert ("ONECARD_CREDENTIAL_ISSUER_URL must be an origin" in result.stderr) == refused


@pytest.mark.parametrize("size, refused", [("3", True), ("16", False), ("67108864", False), ("67108865", True)])
def test_a_status_list_size_a_verifier_could_not_read_is_refused(size, refused):
    result = run_check({"ONECARD_STATUS_LIST_SIZE": size})

    assert (result.returncode != 0) == refused, result.stderr
    assert ("ONECARD_STATUS_LIST_SIZE must be from 4 to 67108864" in result.stderr) == refused


def _python(env: dict, code: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=120
    )


def _setting(env: dict, expression: str, *, first: str = "") -> str:
    code = f"{first}\nimport django\ndjango.setup()\nfrom django.conf import settings\nprint({expression})"
    result = _python({"DJANGO_SETTINGS_MODULE": "portal.settings"} | env, code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("url", ["consolemail://", "memorymail://", "dummymail://"])
def test_production_refuses_an_email_backend_that_prints_or_drops_mail(url):
    result = run_check(PRODUCTION_ENV | keys_env() | {"EMAIL_URL": url})

    assert result.returncode != 0
    assert "Production mode refuses EMAIL_URL=" in result.stderr and "password-reset links" in result.stderr


def test_production_sends_mail_by_smtp_from_email_url():
    backend = _setting(
        PRODUCTION_ENV | keys_env(),
        "settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS",
    )

    assert backend == "django.core.mail.backends.smtp.EmailBackend smtp.example 587 True"


def test_a_reset_link_mailed_in_production_reaches_the_mail_not_the_process_log(tmp_path):
    link = "https://onecard.example/reset/MQ/c8k2-0f1e2d3c4b5a69788796a5b4c3d2e1f0/"
    env = PRODUCTION_ENV | keys_env() | {"EMAIL_URL": f"filemail://{tmp_path}", "DJANGO_LOG_LEVEL": "DEBUG"}
    code = (
        "import django\ndjango.setup()\nfrom django.core.mail import send_mail\n"
        f"send_mail('Reset your password', 'Open {link}', None, ['wang.fang@example.com'])"
    )

    result = _python({"DJANGO_SETTINGS_MODULE": "portal.settings"} | env, code)

    assert result.returncode == 0, result.stderr
    assert link not in result.stdout + result.stderr
    assert any(link in path.read_text() for path in tmp_path.iterdir())


def test_the_embedded_default_prints_mail_to_the_console():
    assert _setting({}, "settings.EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend"


POSTGRES = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/onecard"}


def test_postgres_connections_are_not_kept_outside_gunicorn_and_the_worker():
    # runserver starts a thread per request; each kept its own connection open for CONN_MAX_AGE.
    assert _setting(POSTGRES, "settings.DATABASES['default']['CONN_MAX_AGE']") == "0"


def test_gunicorn_keeps_postgres_connections():
    value = _setting(POSTGRES, "settings.DATABASES['default']['CONN_MAX_AGE']", first="import portal.gunicorn")

    assert value == "60"


def test_an_explicit_connection_age_wins():
    env = POSTGRES | {"DATABASE_CONN_MAX_AGE": "5"}

    assert _setting(env, "settings.DATABASES['default']['CONN_MAX_AGE']", first="import portal.gunicorn") == "5"


def test_the_procfile_worker_keeps_postgres_connections():
    worker = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("worker:"))

    assert "DATABASE_CONN_MAX_AGE=${DATABASE_CONN_MAX_AGE:-60} celery" in worker


def test_gunicorn_keeps_password_reset_links_out_of_the_access_log(monkeypatch):
    import datetime
    from types import SimpleNamespace

    from gunicorn.config import Config

    # Importing the config sets a default in os.environ: keep it to this test.
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", os.environ.get("DATABASE_CONN_MAX_AGE", "0"))
    from portal import gunicorn as gunicorn_config

    logger = gunicorn_config.logger_class(Config())
    link = "/password-reset/MQ/c8k2-0f1e2d3c4b5a69788796a5b4c3d2e1f0/"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": link,
        "PATH_INFO": link,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://onecard.example{link}",
    }
    response = SimpleNamespace(status="302 Found", headers=[], sent=0)

    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, datetime.timedelta(0))

    assert not any("c8k2-0f1e2d3c4b5a69788796a5b4c3d2e1f0" in str(value) for value in atoms.values())
    assert atoms["r"] == "GET /password-reset/[redacted]/ HTTP/1.1"
    assert gunicorn_config.reset_links_redacted("/password-reset/sent/") == "/password-reset/sent/"


def test_production_refuses_the_console_sms_backend_and_offers_email_only_by_default():
    refused = run_check(PRODUCTION_ENV | keys_env() | {"ONECARD_SMS_BACKEND": "portal.sms.ConsoleSmsBackend"})

    assert refused.returncode != 0
    assert "refuses ONECARD_SMS_BACKEND=portal.sms.ConsoleSmsBackend" in refused.stderr
    assert _setting(PRODUCTION_ENV | keys_env(), "settings.ONECARD_SMS_BACKEND") == ""
