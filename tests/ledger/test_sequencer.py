import base64
import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle, note, sequencer
from ledger.api import Actor, access_context, record
from ledger.models import Checkpoint, Entry, Node, PendingEntry
from ledger.selectors import consistency_proof, inclusion_proof
from ledger.sequencer import entry_bytes, log_verifier_key, sequence
from ledger.tools.onecard_verify import verify_consistency, verify_inclusion
from tests.ledger import brute


def _record(count, *, action="cards.residents.lookup"):
    for n in range(count):
        record(action=action, subject=f"resident:{n}", object=f"object {n}")


@pytest.mark.django_db
def test_seal_moves_pending_rows_into_contiguous_entries(ledger_context):
    _record(7)

    result = sequence()

    assert result.sequenced == 7
    assert list(Entry.objects.values_list("index", flat=True)) == list(range(7))
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_entry_bytes_are_canonical_json_of_the_fixed_fields(ledger_context):
    record(action="cards.residents.lookup", subject="resident:1", object="card 1")
    sequence()

    data = bytes(Entry.objects.get(index=0).entry_bytes)

    entry = json.loads(data)
    assert data == json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert sorted(entry) == [
        "action", "actor", "case_id", "channel", "index", "object",
        "outcome", "purpose", "request_id", "subject", "subject_prev", "subject_seq", "time",
    ]  # fmt: skip
    assert entry["actor"] == {"id": "test-registrar", "role": "registrar", "type": "staff"}
    assert entry["case_id"] is None
    assert entry["time"].endswith("Z")
    assert bytes(Entry.objects.get(index=0).leaf_hash) == merkle.leaf_hash(brute.stored_leaves()[0])


@pytest.mark.django_db
@pytest.mark.parametrize("microsecond", [0, 7, 123456])
def test_an_entrys_time_is_its_pending_rows_time_in_utc_to_the_microsecond(microsecond):
    """On PostgreSQL the database spells the time (TAKE_SQL); it must be what the row holds, whatever its zone."""
    moment = datetime.datetime(2026, 12, 31, 23, 59, 58, microsecond, tzinfo=ZoneInfo("Asia/Shanghai"))
    PendingEntry.objects.create(
        time=moment, actor_type="staff", actor_id="s1", role="registrar", channel="admin",
        action="cards.residents.lookup", purpose="registration", subject="resident:1", outcome="ok", request_id="r1",
    )  # fmt: skip
    sequence()

    entry = json.loads(bytes(Entry.objects.get(index=0).entry_bytes))
    assert entry["time"] == f"2026-12-31T15:59:58.{microsecond:06d}Z"


@pytest.mark.django_db
def test_a_partner_case_id_is_part_of_the_entry():
    with access_context(
        actor=Actor(type="agency", id="HOSP01"),
        role="hospital",
        channel="api",
        purpose="registration",
        case_id="file-9",
    ):
        record(action="health.visits.read", subject="resident:1")
    sequence()

    assert json.loads(bytes(Entry.objects.get(index=0).entry_bytes))["case_id"] == "file-9"


@pytest.mark.django_db
def test_small_batches_store_every_complete_subtree_and_match_the_rfc_root(ledger_context):
    _record(13)

    result = sequence(batch_size=4)

    leaves = brute.stored_leaves()
    assert result.root == brute.mth(leaves)
    assert Node.objects.count() == 13 - bin(13).count("1")
    assert list(Checkpoint.objects.order_by("tree_size").values_list("tree_size", flat=True)) == [4, 8, 12, 13]


@pytest.mark.django_db
def test_checkpoint_is_a_signed_note_that_the_published_key_verifies(ledger_context):
    _record(3)
    result = sequence()

    checkpoint = Checkpoint.objects.get(tree_size=3)

    body = note.note_verify(checkpoint.note, log_verifier_key())
    index_line = f"index {base64.b64encode(bytes(checkpoint.index_root)).decode()}\n"
    assert body == f"onecard.example/ledger/v2\n3\n{base64.b64encode(result.root).decode()}\n" + index_line


@pytest.mark.django_db
def test_a_crash_before_commit_loses_nothing_and_the_next_run_resumes(ledger_context, monkeypatch):
    _record(5)
    sequence()
    _record(4)

    def crash(**kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr("ledger.sequencer.checkpoint_sign", crash)
    with pytest.raises(RuntimeError):
        sequence()
    monkeypatch.undo()

    assert (Entry.objects.count(), PendingEntry.objects.count()) == (5, 4)
    assert sequence().tree_size == 9
    assert list(Entry.objects.values_list("index", flat=True)) == list(range(9))


@pytest.mark.django_db
def test_the_next_batch_starts_from_the_frontier_this_process_left_without_reading_it_back(ledger_context):
    _record(5)
    sequence()
    _record(6)

    with CaptureQueriesContext(connection) as queries:
        result = sequence()

    leaves = brute.stored_leaves()
    assert result.root == brute.mth(leaves)
    assert not [query for query in queries if query["sql"].startswith("SELECT") and "ledger_node" in query["sql"]]


@pytest.mark.django_db
def test_a_remembered_frontier_that_no_longer_matches_the_log_is_read_again(ledger_context, monkeypatch):
    _record(5)
    sequence()
    _record(3)
    # As after a restore: this process remembers a tree of the same size with another root.
    monkeypatch.setattr(sequencer, "_last_frontier", (5, b"\x00" * 32, [b"\x01" * 32, b"\x02" * 32]))

    with CaptureQueriesContext(connection) as queries:
        result = sequence()

    leaves = brute.stored_leaves()
    assert result.root == brute.mth(leaves)
    assert [query for query in queries if query["sql"].startswith("SELECT") and "ledger_node" in query["sql"]]


@pytest.mark.django_db
def test_seal_with_nothing_pending_signs_no_new_checkpoint(ledger_context):
    _record(2)
    sequence()

    result = sequence()

    assert (result.sequenced, result.tree_size) == (0, 2)
    assert Checkpoint.objects.count() == 1


@pytest.mark.django_db
def test_proofs_from_the_database_match_brute_force(ledger_context):
    _record(21)
    sequence(batch_size=6)
    leaves = brute.stored_leaves()

    for size in (6, 12, 18, 21):
        for index in range(size):
            proof = inclusion_proof(index=index, tree_size=size)
            path = [base64.b64decode(item) for item in proof["path"]]
            assert path == brute.path(index, leaves[:size])
            assert verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), path, brute.mth(leaves[:size]))
        for first in range(size + 1):
            path = [base64.b64decode(item) for item in consistency_proof(first=first, second=size)["path"]]
            assert path == brute.proof(first, leaves[:size])
            assert verify_consistency(first, size, brute.mth(leaves[:first]), brute.mth(leaves[:size]), path)


@pytest.mark.django_db
def test_an_inclusion_proof_reads_a_constant_number_of_queries(ledger_context, django_assert_max_num_queries):
    _record(100)
    sequence(batch_size=30)

    with django_assert_max_num_queries(3):
        inclusion_proof(index=37, tree_size=99)


@pytest.mark.django_db
def test_a_residents_entries_are_found_by_pseudonym_newest_first(ledger_context):
    from ledger.api import entry_list_for_subject

    record(action="cards.residents.lookup", subject="resident:1")
    record(action="cards.residents.lookup", subject="resident:2")
    record(action="cards.residents.update", subject="resident:1")
    sequence()

    entries = entry_list_for_subject(subject="resident:1")

    assert [(item["index"], item["entry"]["action"]) for item in entries] == [
        (2, "cards.residents.update"),
        (0, "cards.residents.lookup"),
    ]


@pytest.mark.django_db
def test_the_first_seal_of_an_empty_log_signs_the_empty_tree():
    result = sequence()

    assert (result.tree_size, result.root) == (0, merkle.EMPTY_ROOT)
    assert Checkpoint.objects.get().tree_size == 0


@pytest.mark.django_db
def test_seal_command_prints_size_and_root_and_returns_once_published(ledger_context):
    from io import StringIO

    from django.core.management import call_command

    _record(3)
    out = StringIO()

    call_command("ledger", "seal", stdout=out)

    root = Checkpoint.objects.get(tree_size=3).root_hash
    lines = out.getvalue().strip().split("\n")
    assert lines[0] == f"sequenced 3; tree size 3; root {bytes(root).hex()}"
    assert lines[-1] == "published tree size 3"


@pytest.mark.django_db
def test_witness_add_command_registers_a_witness_and_rejects_a_bad_key():
    from io import StringIO

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.core.management import CommandError, call_command

    from ledger.models import Witness
    from ledger.tools.onecard_witness import verifier_key

    key = verifier_key("witness.example/w2", Ed25519PrivateKey.generate())

    call_command("ledger", "witness-add", key, stdout=StringIO())
    with pytest.raises(CommandError, match="verifier_key: "):
        call_command("ledger", "witness-add", "nonsense", stdout=StringIO())

    assert Witness.objects.get().name == "witness.example/w2"


_TEXT = st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    fields=st.fixed_dictionaries(
        {
            name: _TEXT
            for name in ("action", "actor_id", "role", "actor_type", "channel", "object", "outcome", "purpose")
            + ("request_id", "subject", "case_id")
        }
    ),
    index=st.integers(min_value=0, max_value=2**62),
    previous=st.none() | st.integers(min_value=0, max_value=2**62),
    count=st.integers(min_value=1, max_value=2**40),
    moment=st.datetimes(
        min_value=datetime.datetime(2000, 1, 1), timezones=st.sampled_from([datetime.UTC, ZoneInfo("Asia/Shanghai")])
    ),
)
def test_entry_bytes_are_exactly_what_json_dumps_writes(fields, index, previous, count, moment):
    """The sequencer writes entries key by key for speed: any text, escape and time must give json.dumps's bytes."""
    row = {**fields, "subject_prev": previous, "subject_seq": count, "time": moment}
    expected = json.dumps(
        {
            "action": row["action"],
            "actor": {"id": row["actor_id"], "role": row["role"], "type": row["actor_type"]},
            "case_id": row["case_id"] or None,
            "channel": row["channel"],
            "index": index,
            "object": row["object"],
            "outcome": row["outcome"],
            "purpose": row["purpose"],
            "request_id": row["request_id"],
            "subject": row["subject"],
            "subject_prev": previous,
            "subject_seq": count,
            "time": moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    assert entry_bytes(index=index, row=row) == expected


@pytest.mark.django_db
def test_every_stored_leaf_hash_is_the_test_suites_own_hash_of_the_entrys_commitment(ledger_context):
    """The sequencer's loop writes the commitment and leaf hash out by hand; check each against brute.py."""
    for n in range(7):
        record(action="cards.residents.lookup", subject=f"resident:{n % 3}", object=f"card {n}")
    sequence()

    stored = list(Entry.objects.order_by("index").values_list("leaf_hash", flat=True))
    assert [bytes(leaf) for leaf in stored] == [merkle.leaf_hash(leaf) for leaf in brute.stored_leaves()]
    assert len(stored) == 7
