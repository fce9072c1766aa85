"""A partner that stops before the answer learns nothing: run 1 looks the same whether or not anyone matched.

Nothing is recorded until the answer (run 2), so whatever the partner sees
before it must not depend on who is in the set; otherwise a one-ID list,
abandoned after the last chunk, would test whether someone holds an active
card (or is insured, or was awarded a grant) with no entry in their history.
"""

import private_set_intersection.python as psi
import pytest

from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.services.matching.test_api import SESSIONS, b64, client, finish, matching_records, post, start, unb64

pytestmark = pytest.mark.django_db

__all__ = ["client"]


def _run_one_seen(client, national_id: str) -> list[tuple]:
    """Answer every chunk of run 1 for a one-ID list honestly; return what the partner saw, and stop."""
    server, started = start(client, [national_id])
    step = started.json()
    seen = []
    while step["chunk"] is not None:
        request = unb64(step["request"], psi.Request)
        seen.append((step["set_size"], step["chunks"], step["chunk"], len(request.encrypted_elements)))
        reply = post(
            client,
            f"{SESSIONS}/{step['session']}/chunks/{step['chunk']}",
            {"response": b64(server.ProcessRequest(request))},
        )
        assert reply.status_code == 200, reply.content
        step = reply.json()
    seen.append((step["set_size"], step["chunks"], step["chunk"]))
    return seen


def test_run_one_looks_the_same_to_the_partner_whether_its_id_is_in_the_set_or_not(client):
    holder = CardFactory().resident
    stranger = ResidentFactory()  # registered, no card: not in the active-card set

    in_set = _run_one_seen(client, holder.national_id)
    not_in_set = _run_one_seen(client, stranger.national_id)

    assert in_set == not_in_set
    assert matching_records() == []


def _spoiled_seen(client, national_id: str) -> tuple[list, list[str], int]:
    """Run 1 honestly but answer the re-check with junk; return what the partner saw and what it matched."""
    server, started = start(client, [national_id])
    first = started.json()
    junk_source = server.ProcessRequest(unb64(first["request"], psi.Request)).encrypted_elements
    step, seen = first, []
    while step["chunk"] is not None:
        response = server.ProcessRequest(unb64(step["request"], psi.Request))
        if step["chunk"] >= step["chunks"] - 1 and step["chunks"] > 1:
            # The last chunk is the re-check: answer it with distinct points that unlock to nothing.
            junk = psi.Response()
            junk.encrypted_elements.extend(junk_source[-len(response.encrypted_elements) :])
            response = junk
        reply = post(client, f"{SESSIONS}/{step['session']}/chunks/{step['chunk']}", {"response": b64(response)})
        seen.append((reply.status_code, reply["Content-Type"]))
        if reply.status_code != 200:
            return seen, [], 0
        step = reply.json()
        seen.append((step["set_size"], step["chunks"], step["chunk"]))
    answered, found = finish(client, first["session"], [national_id])
    setup = unb64(answered.json()["setup"], psi.ServerSetup) if answered.status_code == 200 else None
    seen.append((answered.status_code, answered["Content-Type"], sorted(answered.json())))
    return seen, found or [], len(setup.raw.encrypted_elements) if setup is not None else -1


def test_a_partner_spoiling_the_re_check_cannot_tell_whether_its_id_is_in_the_set(client):
    holder = CardFactory().resident
    stranger = ResidentFactory()  # registered, no card: not in the active-card set

    # Spoiling the re-check fails only where run 1 found someone: the partner must not see the difference.
    in_set = _spoiled_seen(client, holder.national_id)
    not_in_set = _spoiled_seen(client, stranger.national_id)

    assert in_set == not_in_set
    assert in_set[1:] == ([], 0)
    assert matching_records() == []
