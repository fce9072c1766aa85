"""The matching endpoints refuse what a partner must not do: cheat the protocol, pass the limits, skip steps."""

import base64
import datetime
import uuid

import private_set_intersection.python as psi
import pytest
from django.utils import timezone

from ledger.api import subject_pseudonym
from ledger.models import PendingEntry
from services.matching import protocol
from services.matching.models import MatchingSession
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.services.matching.conftest import PURPOSE, SCOPES, api_client

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/matching/sessions"


def b64(message) -> str:
    return base64.b64encode(message.SerializeToString()).decode()


def unb64(text: str, message_type):
    message = message_type()
    message.ParseFromString(base64.b64decode(text))
    return message


def post(client, path, body, key=None):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def start(client, ids, *, set_name="active-card", structure=psi.DataStructure.RAW):
    server = psi.server.CreateWithNewKey(True)
    setup = server.CreateSetupMessage(1e-9, max(1, len(ids)), ids, structure)
    return server, post(client, SESSIONS, {"set": set_name, "setup": b64(setup)})


def answer_chunks(client, server, step, tamper=None):
    """Answer every chunk honestly (or as TAMPER rewrites the elements); return the last step's JSON."""
    answered = []
    while step["chunk"] is not None:
        response = server.ProcessRequest(unb64(step["request"], psi.Request))
        elements = list(response.encrypted_elements)
        if tamper is not None:
            elements = tamper(step["chunk"], elements, answered)
        answered.append(list(response.encrypted_elements))
        forged = psi.Response()
        forged.encrypted_elements.extend(elements)
        reply = post(client, f"{SESSIONS}/{step['session']}/chunks/{step['chunk']}", {"response": b64(forged)})
        if reply.status_code != 200:
            return reply
        step = reply.json()
    return step


def finish(client, session, ids):
    partner = psi.client.CreateWithNewKey(True)
    reply = post(client, f"{SESSIONS}/{session}/answer", {"request": b64(partner.CreateRequest(ids))})
    if reply.status_code != 200:
        return reply, None
    body = reply.json()
    found = partner.GetIntersection(unb64(body["setup"], psi.ServerSetup), unb64(body["response"], psi.Response))
    return reply, [ids[i] for i in sorted(found)]


def matching_records():
    return list(PendingEntry.objects.filter(action__startswith="matching.").values_list("subject", flat=True))


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].rsplit("/", 1)[-1]


@pytest.fixture
def client():
    _agency, key = agency_with_key(kind="government", scopes=SCOPES, purposes=[PURPOSE])
    return api_client(key)


def test_a_response_repeating_one_element_is_refused_and_records_nothing(client):
    holder = CardFactory().resident
    server, started = start(client, [holder.national_id])

    # Copying one answer into every place would make every resident of the chunk look matched.
    reply = answer_chunks(client, server, started.json(), tamper=lambda _n, elements, _a: [elements[0]] * len(elements))

    assert (reply.status_code, problem_type(reply)) == (400, "matching-message-invalid")
    assert matching_records() == []


def test_an_answer_copied_from_another_chunk_matches_nobody(client, monkeypatch):
    monkeypatch.setattr(protocol, "SET_PADDING", 10)
    monkeypatch.setattr(protocol, "CHUNK_SIZE", 20)
    holders = [CardFactory().resident for _ in range(40)]
    listed = holders[::3]
    ids = [resident.national_id for resident in listed]
    server, started = start(client, ids)

    # Chunk 1 answered with chunk 0's answer: under one key for both, chunk 1's residents in the places
    # where chunk 0 matched would look matched, though they are not on the list.
    step = answer_chunks(
        client, server, started.json(), tamper=lambda n, elements, answered: answered[0] if n == 1 else elements
    )
    reply, found = finish(client, step["session"], ids)

    assert reply.status_code == 200
    assert set(matching_records()) <= {subject_pseudonym(resident) for resident in listed}
    assert set(found) <= set(ids)


def test_answers_moved_around_inside_a_chunk_are_caught_when_the_residents_found_are_sent_again(client, monkeypatch):
    monkeypatch.setattr(protocol, "SET_PADDING", 10)
    monkeypatch.setattr(protocol, "CHUNK_SIZE", 20)
    holders = [CardFactory().resident for _ in range(40)]
    ids = [holders[7].national_id]
    server, started = start(client, ids)

    # Each answer moved one place on: the one true match now sits at another resident's place.
    step = answer_chunks(
        client,
        server,
        started.json(),
        tamper=lambda n, elements, _a: elements[1:] + elements[:1] if n < 2 else elements,
    )
    assert step["chunk"] is None, step
    reply, found = finish(client, started.json()["session"], ids)

    # The partner is not told (that would tell it someone was found, unrecorded): its answer holds nobody.
    assert (reply.status_code, found) == (200, [])
    assert matching_records() == []
    session = MatchingSession.objects.get(pk=started.json()["session"])
    assert (session.recheck_failed, session.matched_count, session.ended_at is not None) == (True, 0, True)


def test_a_replayed_answer_records_each_resident_found_again_as_a_replay(client):
    holder = CardFactory().resident
    server, started = start(client, [holder.national_id])
    step = answer_chunks(client, server, started.json())
    request = {"request": b64(psi.client.CreateWithNewKey(True).CreateRequest([holder.national_id]))}

    first = post(client, f"{SESSIONS}/{step['session']}/answer", request, key="answer-1")
    again = post(client, f"{SESSIONS}/{step['session']}/answer", request, key="answer-1")

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (200, 200, "true")
    assert again.content == first.content
    assert list(PendingEntry.objects.filter(action="matching.active_card.match").values_list("subject", "object")) == [
        (subject_pseudonym(holder), "active-card"),
        (subject_pseudonym(holder), "replay:active-card"),
    ]


def test_a_session_left_unanswered_is_emptied_once_it_expires(client):
    from services.matching.models import MatchingSession
    from services.matching.tasks import matching_sessions_end_expired_task

    _server, started = start(client, [CardFactory().resident.national_id])
    session = MatchingSession.objects.get(pk=started.json()["session"])
    MatchingSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    matching_sessions_end_expired_task.delay()

    session.refresh_from_db()
    assert session.ended_at is not None
    assert [bytes(session.partner_setup), bytes(session.order), bytes(session.client_key)] == [b""] * 3
    assert session.list_size == 1  # still counted against the day's allowance


def test_a_bloom_filter_list_is_refused_because_it_could_match_anything(client):
    _server, reply = start(client, [CardFactory().resident.national_id], structure=psi.DataStructure.BLOOM_FILTER)

    assert (reply.status_code, problem_type(reply)) == (400, "matching-message-invalid")


def test_the_partner_learns_nothing_about_ids_it_left_out_of_its_list(client):
    holders = [CardFactory().resident for _ in range(3)]
    decoys = [ResidentFactory().national_id for _ in range(3)]
    server, started = start(client, decoys)
    step = answer_chunks(client, server, started.json())

    # Asking about other IDs in the last step finds nobody: only residents found in the first run are there.
    reply, found = finish(client, step["session"], [resident.national_id for resident in holders])

    assert (reply.status_code, found) == (200, [])
    assert matching_records() == []


def test_a_last_request_larger_than_the_list_is_refused(client):
    holder = CardFactory().resident
    server, started = start(client, [holder.national_id])
    step = answer_chunks(client, server, started.json())

    reply, _found = finish(client, step["session"], [holder.national_id, ResidentFactory().national_id])

    assert (reply.status_code, problem_type(reply)) == (400, "matching-message-invalid")
    assert matching_records() == []


def test_a_list_larger_than_one_call_accepts_is_refused(client, settings):
    settings.ONECARD_MATCHING_MAX_IDS_PER_CALL = 3

    _server, reply = start(client, [ResidentFactory().national_id for _ in range(4)])

    assert (reply.status_code, problem_type(reply)) == (400, "matching-list-too-large")


def test_the_daily_allowance_counts_every_list_started(client, settings):
    settings.ONECARD_MATCHING_MAX_IDS_PER_DAY = 5
    ids = [ResidentFactory().national_id for _ in range(3)]

    first = start(client, ids)[1]
    second = start(client, ids)[1]

    assert first.status_code == 201
    assert (second.status_code, problem_type(second)) == (429, "matching-quota-exceeded")


def test_another_agency_cannot_continue_a_session(client):
    server, started = start(client, [CardFactory().resident.national_id])
    _other, other_key = agency_with_key(kind="bank", scopes=SCOPES, purposes=[PURPOSE])
    step = started.json()
    response = server.ProcessRequest(unb64(step["request"], psi.Request))

    reply = post(api_client(other_key), f"{SESSIONS}/{step['session']}/chunks/0", {"response": b64(response)})

    assert (reply.status_code, problem_type(reply)) == (409, "matching-session-unknown")


def test_steps_out_of_order_are_refused(client, monkeypatch):
    monkeypatch.setattr(protocol, "CHUNK_SIZE", 500)
    holder = CardFactory().resident
    server, started = start(client, [holder.national_id])
    step = started.json()
    response = b64(server.ProcessRequest(unb64(step["request"], psi.Request)))

    skipped = post(client, f"{SESSIONS}/{step['session']}/chunks/1", {"response": response})
    early, _found = finish(client, step["session"], [holder.national_id])

    assert (skipped.status_code, problem_type(skipped)) == (409, "matching-session-out-of-step")
    assert (early.status_code, problem_type(early)) == (409, "matching-session-out-of-step")


@pytest.mark.parametrize(
    ("scopes", "set_name", "expected"),
    [
        (["matching:insured-months"], "active-card", (403, "matching-set-not-allowed")),
        (SCOPES, "everyone", (400, "matching-set-unknown")),
        (SCOPES, "insured-months:0", (400, "matching-set-unknown")),
        (SCOPES, "grant-recipient:no-such-programme", (400, "matching-set-unknown")),
    ],
)
def test_a_set_must_exist_and_be_granted(scopes, set_name, expected):
    _agency, key = agency_with_key(kind="government", scopes=scopes, purposes=[PURPOSE])

    _server, reply = start(api_client(key), [ResidentFactory().national_id], set_name=set_name)

    assert (reply.status_code, problem_type(reply)) == expected


def test_a_purpose_that_does_not_allow_the_sets_scope_is_refused():
    _agency, key = agency_with_key(kind="bank", scopes=SCOPES, purposes=["identity-verification"])

    _server, reply = start(api_client(key, "identity-verification"), ["x"], set_name="insured-months:12")

    assert (reply.status_code, problem_type(reply)) == (403, "matching-set-not-allowed")


def test_every_step_needs_an_idempotency_key(client):
    reply = client.post(SESSIONS, {"set": "active-card", "setup": "AA=="}, format="json")

    assert (reply.status_code, problem_type(reply)) == (428, "idempotency-key-required")


@pytest.mark.parametrize("setup", ["not base64!", base64.b64encode(b"\xff\xff\xff").decode(), ""])
def test_a_malformed_setup_is_a_problem_not_an_error(client, setup):
    reply = post(client, SESSIONS, {"set": "active-card", "setup": setup})

    assert reply.status_code == 400
    assert problem_type(reply) in {"matching-message-invalid", "invalid-request"}


def test_a_problem_title_is_in_the_callers_language(client):
    reply = client.post(
        SESSIONS,
        {"set": "everyone", "setup": "AA=="},
        format="json",
        HTTP_IDEMPOTENCY_KEY="zh-1",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert reply.json()["title"] == "该集合不是一卡通提供匹配的集合，或其参数格式错误"
