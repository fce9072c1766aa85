"""Private matching against plain Python set intersection, measured in the same run.

    python -m bench.matching_bench [--partner 100000] [--set 1000000]

Runs the whole protocol of services/matching (docs/matching.md) in one process:
the partner's side as the client tool does it, OneCard's side through
``services.matching.protocol`` with the same chunks, fresh key per chunk, checks
and base64 the API carries, but without HTTP or the database. Both parties take
turns on one core, so the figure is what one machine doing both sides reaches.

Rows:
- ``matching.psi.ids_per_s``: partner IDs matched per second, end to end; the baseline
  is the same lists intersected in plain Python (``set`` built and probed), so the
  ratio is the price of privacy;
- ``matching.psi.megabytes``: what the two parties send each other for one match.
"""

import argparse
import base64
import json
import random
import time

import private_set_intersection.python as psi

from bench.common import row
from services.matching import protocol


def _ids(count: int, *, start: int) -> list[str]:
    # 18-character strings shaped like national IDs; the protocol hashes them, so only length matters.
    return [f"11010519{number:010d}" for number in range(start, start + count)]


def _decode(text: str, message_type):
    message = message_type()
    message.ParseFromString(base64.b64decode(text))
    return message


def _chunk(partner_server, setup: bytes, items: list[str | None]) -> tuple[list[int], int]:
    """Send one chunk under a fresh key, have the partner answer it; return the positions found and the bytes sent."""
    key = protocol.client_key_new()
    request_text = protocol.chunk_request(key=key, items=[item or protocol.padding_item() for item in items])
    response_text = protocol.message_encode(partner_server.ProcessRequest(_decode(request_text, psi.Request)))
    positions = protocol.chunk_matches(key=key, setup=setup, response_text=response_text, expected=len(items))
    return positions, len(request_text) + len(response_text)


def private_match(partner_ids: list[str], set_ids: list[str]) -> tuple[list[str], int]:
    """Return the partner's IDs found in SET_IDS by the two PSI runs, and the bytes the parties exchanged."""
    sent = 0
    # Partner, run 1: its list blinded under its own key.
    partner_server = psi.server.CreateWithNewKey(True)
    setup_text = protocol.message_encode(
        partner_server.CreateSetupMessage(0.0, len(partner_ids), partner_ids, psi.DataStructure.RAW)
    )
    sent += len(setup_text)
    # OneCard: the set in a random order, padded, sent chunk by chunk under a fresh key each (-1: padding).
    setup, _count = protocol.partner_setup_parse(setup_text, at_most=len(partner_ids))
    order = list(range(len(set_ids))) + [-1] * (protocol.padded_size(len(set_ids)) - len(set_ids))
    random.shuffle(order)
    found: list[int] = []
    for start in range(0, len(order), protocol.CHUNK_SIZE):
        chunk = order[start : start + protocol.CHUNK_SIZE]
        positions, chunk_bytes = _chunk(partner_server, setup, [set_ids[i] if i >= 0 else None for i in chunk])
        sent += chunk_bytes
        found.extend(chunk[p] for p in positions if chunk[p] >= 0)
    # The residents found, reshuffled and sent again: every one must be found again.
    recheck = list(found)
    random.shuffle(recheck)
    for start in range(0, len(recheck), protocol.CHUNK_SIZE):
        chunk = recheck[start : start + protocol.CHUNK_SIZE]
        positions, chunk_bytes = _chunk(partner_server, setup, [set_ids[i] for i in chunk])
        sent += chunk_bytes
        if len(positions) != len(chunk):
            raise AssertionError("a resident found was not found again")
    # Run 2: the partner asks about its list; OneCard answers over the residents it found, and only them.
    partner_client = psi.client.CreateWithNewKey(True)
    request_text = protocol.message_encode(partner_client.CreateRequest(partner_ids))
    request = protocol.partner_request_parse(request_text, at_most=len(partner_ids))
    answer_setup, answer_response = protocol.answer(request=request, items=[set_ids[i] for i in found])
    sent += len(request_text) + len(answer_setup) + len(answer_response)
    matched = partner_client.GetIntersection(
        _decode(answer_setup, psi.ServerSetup), _decode(answer_response, psi.Response)
    )
    return [partner_ids[i] for i in sorted(matched)], sent


def plain_match(partner_ids: list[str], set_ids: list[str]) -> list[str]:
    members = set(set_ids)
    return [national_id for national_id in partner_ids if national_id in members]


def run(*, partner: int = 100_000, set_size: int = 1_000_000) -> list[dict]:
    # Half the partner's list is in the set, half is not.
    set_ids = _ids(set_size, start=0)
    partner_ids = _ids(partner // 2, start=set_size - partner // 2) + _ids(partner - partner // 2, start=set_size)
    random.shuffle(partner_ids)

    started = time.perf_counter()
    expected = plain_match(partner_ids, set_ids)
    plain_seconds = time.perf_counter() - started

    started = time.perf_counter()
    matched, sent = private_match(partner_ids, set_ids)
    private_seconds = time.perf_counter() - started

    if sorted(matched) != sorted(expected):
        raise AssertionError(f"private matching found {len(matched)} IDs, plain intersection {len(expected)}")
    value, baseline = partner / private_seconds, partner / plain_seconds
    return [
        row("matching.psi.ids_per_s", value, "ids/s", baseline=round(baseline, 1), ratio=round(value / baseline, 6)),
        row("matching.psi.megabytes", sent / 1e6, "MB"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partner", type=int, default=100_000, help="IDs in the partner's list")
    parser.add_argument("--set", type=int, default=1_000_000, dest="set_size", help="residents in OneCard's set")
    arguments = parser.parse_args()
    print(json.dumps(run(partner=arguments.partner, set_size=arguments.set_size), indent=2))
