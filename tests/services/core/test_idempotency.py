"""Idempotency keys expire: a stored response after its retention, an unfinished claim after its timeout."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from services.core.actions import idempotent_request_claim, idempotent_request_complete, idempotent_requests_purge
from services.core.errors import IdempotencyKeyInFlight
from services.core.models import IdempotentRequest
from services.core.tasks import idempotency_keys_purge
from tests.factories.core import AgencyFactory

REQUEST = {"method": "POST", "path": "/api/v1/residents/verify", "fingerprint": "f" * 64}


def claim(agency, key):
    return idempotent_request_claim(agency=agency, key=key, **REQUEST)


def age(record, **delta):
    """Make RECORD look as if it was claimed DELTA ago."""
    IdempotentRequest.objects.filter(pk=record.pk).update(created_at=timezone.now() - datetime.timedelta(**delta))


def finished(agency, key):
    record, first = claim(agency, key)
    assert first
    return idempotent_request_complete(
        claimed=record, status_code=200, content_type="application/json", body=b"{}", accesses=[], consents=[]
    )


@pytest.mark.django_db
def test_a_finished_key_replays_within_its_retention():
    agency = AgencyFactory()
    first = finished(agency, "k")
    age(first, hours=settings.ONECARD_IDEMPOTENCY_KEY_HOURS - 1)

    replayed, is_first = claim(agency, "k")

    assert (replayed.pk, is_first) == (first.pk, False)


@pytest.mark.django_db
def test_a_key_past_its_retention_runs_the_request_afresh():
    agency = AgencyFactory()
    first = finished(agency, "k")
    age(first, hours=settings.ONECARD_IDEMPOTENCY_KEY_HOURS + 1)

    again, is_first = claim(agency, "k")

    assert is_first
    assert again.pk != first.pk
    assert again.status_code is None
    assert IdempotentRequest.objects.filter(agency=agency, key="k").count() == 1


@pytest.mark.django_db
def test_an_unfinished_claim_holds_the_key_until_its_timeout():
    agency = AgencyFactory()
    stuck, _ = claim(agency, "k")
    age(stuck, seconds=settings.ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS - 30)

    with pytest.raises(IdempotencyKeyInFlight):
        claim(agency, "k")

    age(stuck, seconds=settings.ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS + 30)
    again, is_first = claim(agency, "k")
    assert is_first and again.pk != stuck.pk


@pytest.mark.django_db
def test_the_purge_deletes_only_expired_responses_and_abandoned_claims():
    agency = AgencyFactory()
    kept_response = finished(agency, "recent")
    old_response = finished(agency, "old")
    age(old_response, hours=settings.ONECARD_IDEMPOTENCY_KEY_HOURS + 1)
    kept_claim, _ = claim(agency, "running")
    abandoned, _ = claim(agency, "abandoned")
    age(abandoned, seconds=settings.ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS + 1)
    # A finished response as old as the abandoned claim is still within its retention.
    finished_long_ago = finished(agency, "slow-retry")
    age(finished_long_ago, seconds=settings.ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS + 1)

    assert idempotent_requests_purge() == 2

    remaining = set(IdempotentRequest.objects.values_list("pk", flat=True))
    assert remaining == {kept_response.pk, kept_claim.pk, finished_long_ago.pk}


@pytest.mark.django_db
def test_beat_runs_the_purge_hourly():
    agency = AgencyFactory()
    old_response = finished(agency, "old")
    age(old_response, hours=settings.ONECARD_IDEMPOTENCY_KEY_HOURS + 1)

    idempotency_keys_purge.delay()

    assert not IdempotentRequest.objects.exists()
    entry = settings.CELERY_BEAT_SCHEDULE["idempotency-keys-purge"]
    assert entry["task"] == idempotency_keys_purge.name
    assert entry["schedule"] == 3600.0
