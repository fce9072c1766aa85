"""An Idempotency-Key replay is no way around the gateway: attacks an insurer could try.

Tests that read the ledger back run the sequencer and read the resident's sequenced entries.
"""

import pytest

from ledger.api import Actor, access_context, entry_list_for_subject
from ledger.sequencer import sequence
from services.core.actions import agency_grants_set, agency_key_revoke, consent_revoke
from services.core.models import AgencyKey, IdempotentRequest
from tests.factories import ResidentFactory
from tests.factories.core import agency_with_key
from tests.factories.health import hospital, visit
from tests.factories.services import api, consent

SCOPE = "health:visits:read"
CLAIMS = "insurance-claims"
DIAGNOSIS = "Major depressive disorder, recurrent"
KEY = "claim-2026-0042"


@pytest.fixture
def insurer(db):
    agency, key = agency_with_key(kind="insurer", scopes=[SCOPE, "cards:verify"], purposes=[CLAIMS])
    return agency, key


@pytest.fixture
def patient(db, insurer):
    resident = ResidentFactory()
    visit(resident, hospital(), diagnosis=DIAGNOSIS)
    return resident, consent(resident, insurer[0], SCOPE, CLAIMS)


def query(key, resident, *, purpose=CLAIMS, idempotency_key=KEY, **headers):
    return api(key, purpose).post(
        "/api/v1/health/visits/query",
        {"national_id": resident.national_id},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
        **headers,
    )


def actions_of(resident) -> list[tuple[str, str, str]]:
    """Sequence what is pending; return the resident's sequenced entries, oldest first, as (action, outcome, object)."""
    sequence()
    rows = reversed(entry_list_for_subject(subject=resident))
    return [(row["entry"]["action"], row["entry"]["outcome"], row["entry"]["object"]) for row in rows]


def as_resident(resident):
    return access_context(actor=Actor(type="resident", id=f"r{resident.pk}"), role="resident", channel="web")


def test_a_replay_after_the_consent_is_withdrawn_serves_nothing_and_is_recorded(insurer, patient):
    _agency, key = insurer
    resident, given = patient
    first = query(key, resident)
    assert first.status_code == 200 and DIAGNOSIS in first.content.decode()
    with as_resident(resident):
        consent_revoke(consent=given)

    replay = query(key, resident)

    assert replay.status_code == 403
    assert replay.json()["type"] == "/api/problems/consent-missing"
    assert DIAGNOSIS not in replay.content.decode()
    assert "Idempotent-Replayed" not in replay
    assert actions_of(resident)[-1] == ("health.visits.read", "denied", "replay:no-consent")


def test_a_replay_with_the_consent_in_force_is_recorded_like_the_first_call(insurer, patient):
    _agency, key = insurer
    resident, _given = patient
    first = query(key, resident)

    replay = query(key, resident)

    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    reads = [row for row in actions_of(resident) if row[0] == "health.visits.read"]
    assert reads == [("health.visits.read", "ok", ""), ("health.visits.read", "ok", "replay")]


@pytest.mark.parametrize(
    "change",
    [{"purpose": "medical-treatment"}, {"HTTP_X_CASE_ID": "another-case"}],
    ids=["another-purpose", "another-case"],
)
def test_a_replay_under_another_purpose_or_case_is_refused(insurer, patient, change):
    agency, key = insurer
    resident, _given = patient
    agency_grants_set(agency=agency, scopes=(SCOPE, "cards:verify"), purposes=(CLAIMS, "medical-treatment"))
    consent(resident, agency, SCOPE, "medical-treatment")
    query(key, resident, HTTP_X_CASE_ID="case-1")

    replay = query(key, resident, **({"HTTP_X_CASE_ID": "case-1"} | change))

    assert replay.status_code == 422
    assert replay.json()["type"] == "/api/problems/idempotency-key-reused"
    assert DIAGNOSIS not in replay.content.decode()


def test_a_replay_with_a_revoked_key_is_refused(insurer, patient):
    agency, key = insurer
    resident, _given = patient
    query(key, resident)
    agency_key_revoke(key=AgencyKey.objects.get(agency=agency))

    replay = query(key, resident)

    assert replay.status_code == 401
    assert DIAGNOSIS not in replay.content.decode()


def test_a_replay_after_the_scope_is_withdrawn_is_refused(insurer, patient):
    agency, key = insurer
    resident, _given = patient
    query(key, resident)
    agency_grants_set(agency=agency, scopes=("cards:verify",), purposes=(CLAIMS,))

    replay = query(key, resident)

    assert replay.status_code == 403
    assert replay.json()["type"] == "/api/problems/scope-missing"


def test_the_stored_answer_is_sealed_at_rest(insurer, patient):
    _agency, key = insurer
    resident, _given = patient
    query(key, resident)

    stored = bytes(IdempotentRequest.objects.get().body)

    assert DIAGNOSIS.encode() not in stored
    assert resident.national_id.encode() not in stored
    assert b"health.visits.read" not in stored


def test_a_sealed_answer_moved_to_another_record_is_not_served(insurer, patient, db):
    agency, key = insurer
    resident, _given = patient
    query(key, resident)
    query(key, resident, idempotency_key="other")
    first, other = IdempotentRequest.objects.order_by("id")
    IdempotentRequest.objects.filter(pk=other.pk).update(body=first.body)

    replay = query(key, resident, idempotency_key="other")

    assert replay.status_code == 422
    assert DIAGNOSIS not in replay.content.decode()
