"""The two PSI runs of services.matching.protocol, with the real library, on random sets and chunk sizes."""

import base64
import random

import private_set_intersection.python as psi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching import protocol


def decode(text, message_type):
    message = message_type()
    message.ParseFromString(base64.b64decode(text))
    return message


def two_runs(partner_ids: list[str], set_ids: list[str], chunk_size: int) -> tuple[list[str], list[str]]:
    """Return (what OneCard found, what the partner learned), each side only using what it may see."""
    partner_server = psi.server.CreateWithNewKey(True)
    setup_text = protocol.message_encode(
        partner_server.CreateSetupMessage(0.0, len(partner_ids), partner_ids, psi.DataStructure.RAW)
    )
    setup, _count = protocol.partner_setup_parse(setup_text, at_most=len(partner_ids))
    order = list(range(len(set_ids))) + [-1] * (protocol.padded_size(len(set_ids)) - len(set_ids))
    random.shuffle(order)
    found = []
    for start in range(0, len(order), chunk_size):
        chunk = order[start : start + chunk_size]
        key = protocol.client_key_new()
        request = protocol.chunk_request(
            key=key, items=[set_ids[i] if i >= 0 else protocol.padding_item() for i in chunk]
        )
        response = protocol.message_encode(partner_server.ProcessRequest(decode(request, psi.Request)))
        positions = protocol.chunk_matches(key=key, setup=setup, response_text=response, expected=len(chunk))
        found.extend(set_ids[chunk[p]] for p in positions if chunk[p] >= 0)
    partner_client = psi.client.CreateWithNewKey(True)
    request = protocol.partner_request_parse(
        protocol.message_encode(partner_client.CreateRequest(partner_ids)), at_most=len(partner_ids)
    )
    answer_setup, answer_response = protocol.answer(request=request, items=found)
    learned = partner_client.GetIntersection(
        decode(answer_setup, psi.ServerSetup), decode(answer_response, psi.Response)
    )
    return found, [partner_ids[i] for i in sorted(learned)]


ids = st.integers(min_value=0, max_value=3000).map(lambda n: f"11010519{n:010d}")


@pytest.fixture
def small_padding(monkeypatch):
    monkeypatch.setattr(protocol, "SET_PADDING", 50)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    partner=st.sets(ids, min_size=1, max_size=150),
    members=st.sets(ids, max_size=300),
    chunk_size=st.integers(min_value=1, max_value=400),
)
def test_both_sides_learn_exactly_the_intersection(small_padding, partner, members, chunk_size):
    partner_ids, set_ids = sorted(partner), sorted(members)

    found, learned = two_runs(partner_ids, set_ids, chunk_size)

    assert sorted(found) == sorted(partner & members)
    assert learned == [national_id for national_id in partner_ids if national_id in members]
