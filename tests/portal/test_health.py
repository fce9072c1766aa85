import datetime

import pytest
from django.utils import timezone

from ledger.api import record
from ledger.models import VerificationRun
from ledger.sequencer import sequence


def _verification(*, ok, minutes_ago):
    finished = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    VerificationRun.objects.create(started_at=finished, finished_at=finished, ok=ok, tree_size=0)


@pytest.mark.django_db
def test_healthz_is_ok_on_a_fresh_log(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["sequencer"] == {"pending": 0, "oldest_pending_age_s": 0.0, "ok": True, "max_lag_s": 30.0}


@pytest.mark.django_db
def test_healthz_needs_no_login_and_is_never_cached(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def _record_seconds_ago(seconds, monkeypatch):
    # Pending rows cannot be updated (the pending table's triggers): record one as if it were made back then.
    then = timezone.now() - datetime.timedelta(seconds=seconds)
    with monkeypatch.context() as patch:
        patch.setattr("ledger.recording.timezone.now", lambda: then)
        record(action="cards.residents.lookup", subject="resident:1")


@pytest.mark.django_db
def test_healthz_reports_pending_entries_and_the_oldest_age(client, ledger_context, monkeypatch):
    _record_seconds_ago(90, monkeypatch)

    body = client.get("/healthz").json()

    assert body["checks"]["sequencer"]["pending"] == 1
    assert body["checks"]["sequencer"]["oldest_pending_age_s"] >= 90


@pytest.mark.django_db
def test_healthz_answers_503_when_the_sequencer_lags(client, ledger_context, settings, monkeypatch):
    settings.ONECARD_HEALTH_MAX_SEQUENCER_LAG_SECONDS = 60
    _record_seconds_ago(90, monkeypatch)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["sequencer"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_last_verification_failed(client):
    _verification(ok=False, minutes_ago=1)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["verification"]
    assert response.json()["checks"]["verification"]["last_ok"] is False


@pytest.mark.django_db
def test_healthz_answers_503_when_the_last_verification_is_too_old(client, settings):
    settings.ONECARD_HEALTH_MAX_VERIFICATION_AGE_SECONDS = 3600
    _verification(ok=True, minutes_ago=61)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["verification"]
    assert response.json()["checks"]["verification"]["last_age_s"] >= 3660


@pytest.mark.django_db
def test_healthz_counts_from_the_first_checkpoint_before_any_verification(client, ledger_context, settings):
    settings.ONECARD_HEALTH_MAX_VERIFICATION_AGE_SECONDS = 3600
    record(action="cards.residents.lookup", subject="resident:1")
    sequence()

    body = client.get("/healthz").json()

    assert body["checks"]["verification"]["last_age_s"] is None
    assert body["checks"]["verification"]["ok"] is True


@pytest.mark.django_db
def test_healthz_reports_redis_down_with_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]
    assert response.json()["checks"]["redis"]["ok"] is False
