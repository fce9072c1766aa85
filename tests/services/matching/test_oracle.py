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
from tests.services.matching.test_api import SESSIONS, b64, client, matching_records, post, start, unb64

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


def test_a_partner_spoiling_the_re_check_is_not_told_how_many_residents_were_found(client):
    holders = [CardFactory().resident for _ in range(3)]
    ids = [resident.national_id for resident in holders]
    server, started = start(client, ids)
    step = started.json()
    while step["chunk"] is not None:
        response = server.ProcessRequest(unb64(step["request"], psi.Request))
        if step["chunk"] == step["chunks"] - 1 and step["chunks"] > 1:
            # The last chunk is the re-check: answer it with junk, to count the failures in the refusal.
            junk = psi.Response()
            junk.encrypted_elements.extend(
                server.ProcessRequest(unb64(started.json()["request"], psi.Request)).encrypted_elements[
                    : len(response.encrypted_elements)
                ]
            )
            response = junk
        reply = post(client, f"{SESSIONS}/{step['session']}/chunks/{step['chunk']}", {"response": b64(response)})
        if reply.status_code != 200:
            break
        step = reply.json()

    assert reply.status_code == 400
    assert "3" not in reply.json()["detail"]
    assert matching_records() == []
