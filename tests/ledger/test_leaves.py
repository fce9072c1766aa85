"""Public leaves reveal nothing: everything /log/ serves, read over HTTP, against residents' identifiers."""

import itertools
import statistics

import pytest
from django.db import transaction

from ledger.api import record, subject_pseudonyms
from ledger.models import Entry
from ledger.sequencer import log_verifier_key
from ledger.tools import tlog
from tests.factories.portal import resident_with_account

pytestmark = pytest.mark.django_db(transaction=True)

ACCESSES = 40


def _residents_accessed():
    """Two residents, each accessed ACCESSES times by entries that name their identifiers outright."""
    residents = []
    for _ in range(2):
        user, resident, card, _device = resident_with_account()
        with transaction.atomic():
            for n in range(ACCESSES):
                # The object names the resident outright: only the entry, never its leaf, may show it.
                record(
                    action="cards.residents.lookup",
                    subject=resident,
                    object=f"{user.username} {card.number} {resident.national_id} {n}",
                )
        pseudonyms = subject_pseudonyms(resident)
        secrets = [user.username, card.number, resident.national_id, *pseudonyms]
        secrets += [pseudonym.split("-", 1)[1] for pseudonym in pseudonyms]  # the HMAC's hex alone
        indexes = list(Entry.objects.filter(subject__in=pseudonyms).values_list("index", flat=True))
        residents.append((secrets, indexes))
    return residents


def _published(live_server):
    """Read the whole log from /log/ as any outsider would; return every byte served and the leaves."""
    served = []
    note, size, root, builder = tlog.log_follow(
        tlog.http_fetcher(live_server.url + "/log"), log_verifier_key(), on_tile=lambda path, data: served.append(data)
    )
    leaves = []
    for index, width in tlog.tile_widths(size, 0):
        leaves += tlog.entries_bundle_parse(
            tlog.http_fetcher(live_server.url + "/log")(tlog.tile_path("entries", index, width))
        )
    return note.encode() + b"".join(served), leaves


def _hamming(a: bytes, b: bytes) -> int:
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


def _longest_common_substring(a: bytes, b: bytes) -> int:
    best = 0
    for length in range(1, min(len(a), len(b)) + 1):
        pieces = {a[i : i + length] for i in range(len(a) - length + 1)}
        if not any(b[i : i + length] in pieces for i in range(len(b) - length + 1)):
            break
        best = length
    return best


def test_no_public_byte_names_a_resident(ledger_context, live_server):
    residents = _residents_accessed()

    served, leaves = _published(live_server)

    assert len(leaves) == 2 * ACCESSES
    for secrets, _ in residents:
        for secret in secrets:
            assert secret.encode() not in served, secret
            assert secret.encode().hex().encode() not in served, secret


def test_every_leaf_is_a_fixed_length_commitment(ledger_context, live_server):
    _residents_accessed()

    _, leaves = _published(live_server)

    assert {len(leaf) for leaf in leaves} == {tlog.COMMITMENT_LEAF_SIZE}
    assert {leaf[0] for leaf in leaves} == {tlog.LEAF_COMMITMENT}


def test_the_leaves_of_one_resident_look_no_more_alike_than_those_of_two(ledger_context, live_server):
    (_, first), (_, second) = _residents_accessed()
    _, leaves = _published(live_server)
    hashes = {index: leaves[index][1:] for index in first + second}

    same = [_hamming(hashes[a], hashes[b]) for a, b in itertools.combinations(first, 2)]
    across = [_hamming(hashes[a], hashes[b]) for a, b in itertools.product(first, second)]
    shared = max(_longest_common_substring(hashes[a], hashes[b]) for a, b in itertools.combinations(first, 2))

    # 256-bit commitments under fresh salts: any two differ in about half their bits, whoever they are about.
    assert abs(statistics.mean(same) - 128) < 3
    assert abs(statistics.mean(same) - statistics.mean(across)) < 3
    assert shared < 6  # no common run of bytes beyond chance (6 shared bytes: about 2^-48 per position pair)
