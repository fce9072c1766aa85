"""Per-subject chains, the verifiable index and the completeness bundle, attacked as an operator would."""

import base64
import copy
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import index as subject_index
from ledger import sequencer
from ledger.api import record
from ledger.completeness import completeness_bundle
from ledger.models import Checkpoint, Entry, IndexNode
from ledger.pseudonyms import subject_pseudonym
from ledger.sequencer import log_verifier_key, sequence
from ledger.tools import onecard_verify, vindex
from ledger.verification import log_verify
from ledger.witnessing import log_seal

ROOT = Path(__file__).resolve().parents[2]


def _entries(bundle) -> list[dict]:
    return [json.loads(base64.b64decode(item["entry_bytes"])) for item in bundle["entries"]]


def _check(bundle, **options) -> dict:
    return vindex.completeness_verify(
        bundle, log_key=log_verifier_key(), witness_keys=bundle["witness_keys"], min_witnesses=1, **options
    )


def test_an_index_proof_verifies_membership_and_absence_against_a_brute_force_root():
    def brute(leaves, depth=0):
        if not leaves:
            return vindex.EMPTY
        if len(leaves) == 1:
            ((key, (count, last)),) = leaves.items()
            return vindex.leaf_hash(key, count, last)
        halves = [{k: v for k, v in leaves.items() if vindex.bit(k, depth) == side} for side in (0, 1)]
        return vindex.node_hash(brute(halves[0], depth + 1), brute(halves[1], depth + 1))

    index, truth = vindex.IndexMap(), {}
    for round_ in range(12):
        changes = {vindex.key_of(f"t{(round_ * 7 + n) % 40}"): (round_ + 1, round_ * 10 + n) for n in range(5)}
        truth.update(changes)
        root = index.update(changes)
        assert root == brute(truth)
        for n in range(45):
            key = vindex.key_of(f"t{n}")
            assert vindex.proof_verify(root, key, index.prove(key)) == truth.get(key, (0, None))


@pytest.mark.django_db
def test_each_entry_names_its_subjects_count_and_previous_entry(ledger_context):
    for subject in ["resident:a", "resident:b", "resident:a", "resident:a", "resident:b"]:
        record(action="cards.residents.lookup", subject=subject)
    sequence(batch_size=2)

    chains = [(e["subject_seq"], e["subject_prev"]) for e in map(json.loads, _bytes())]

    assert chains == [(1, None), (1, None), (2, 0), (3, 2), (2, 1)]
    assert log_verify().ok


_examples = itertools.count()


def _bytes():
    return [bytes(data) for data in Entry.objects.order_by("index").values_list("entry_bytes", flat=True)]


@pytest.mark.django_db
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(plan=st.lists(st.tuples(st.integers(0, 7), st.booleans()), min_size=1, max_size=40))
def test_every_residents_bundle_verifies_and_counts_exactly_their_accesses(ledger_context, plan):
    """Random interleavings of accesses to many residents, sealed in random places: every bundle holds."""
    run = next(_examples)  # examples share the test's database: each gets residents of its own
    made = {n: 0 for n in range(8)}
    for who, seal_here in plan:
        record(action="cards.residents.lookup", subject=f"resident:{run}:{who}")
        made[who] += 1
        if seal_here:
            log_seal()
    log_seal()

    for who, count in made.items():
        result = _check(completeness_bundle(subject=f"resident:{run}:{who}"))
        assert result["count"] == count
        assert len(result["entries"]) == count


@pytest.fixture
def three_accesses(ledger_context):
    """Give resident:target three accesses among others' and publish; return the bundle."""
    for subject in ["resident:target", "resident:other", "resident:target", "resident:other", "resident:target"]:
        record(action="cards.residents.lookup", subject=subject)
        log_seal()
    return completeness_bundle(subject="resident:target")


@pytest.mark.django_db
def test_a_bundle_proves_all_accesses_and_a_stranger_has_none(three_accesses):
    result = _check(three_accesses)

    assert result["count"] == 3
    assert [entry["index"] for entry in result["entries"]] == [0, 2, 4]
    assert result["witnesses"]
    assert _check(completeness_bundle(subject="resident:nobody"))["count"] == 0


def _drop(bundle, position):
    doctored = copy.deepcopy(bundle)
    del doctored["entries"][position]
    return doctored


def _reorder(bundle):
    doctored = copy.deepcopy(bundle)
    doctored["entries"][0], doctored["entries"][1] = doctored["entries"][1], doctored["entries"][0]
    return doctored


def _fewer(bundle):
    doctored = _drop(bundle, 2)
    doctored["subjects"][0]["count"] = 2
    doctored["subjects"][0]["last_index"] = 2
    return doctored


# Each doctored bundle, and the words the refusal must start with.
ATTACKS = [
    ("drop-middle", lambda bundle: _drop(bundle, 1), "missing link"),
    ("drop-first", lambda bundle: _drop(bundle, 0), "missing link"),
    ("drop-last", lambda bundle: _drop(bundle, 2), "wrong count"),
    ("drop-last-and-claim-fewer", _fewer, "wrong count"),
    ("reorder", _reorder, "reordered"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "doctor", "reason"), ATTACKS, ids=[attack[0] for attack in ATTACKS])
def test_the_offline_tool_refuses_a_doctored_bundle_and_names_why(three_accesses, name, doctor, reason):
    with pytest.raises(vindex.CompletenessError, match=f"^{reason}"):
        _check(doctor(three_accesses))


@pytest.mark.django_db
def test_an_old_map_root_is_refused(ledger_context):
    record(action="cards.residents.lookup", subject="resident:target")
    log_seal()
    old = completeness_bundle(subject="resident:target")
    record(action="cards.residents.lookup", subject="resident:target")
    log_seal()
    new = completeness_bundle(subject="resident:target")

    # The old map's proof, under the new checkpoint, with the new entry left out.
    served = {**new, "subjects": old["subjects"], "entries": old["entries"]}

    with pytest.raises(vindex.CompletenessError, match="^bad map proof"):
        _check(served)
    assert _check(old)["count"] == 1  # on its own, the old bundle proves only the old state


def _run_tool(tmp_path, bundle, *extra) -> subprocess.CompletedProcess:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    # Run as a script from a copy of its directory, as an outsider does: no OneCard code importable.
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for name in ("onecard_verify.py", "tlog.py", "vindex.py"):
        (tools / name).write_text((ROOT / "ledger" / "tools" / name).read_text())
    command = [sys.executable, str(tools / "onecard_verify.py"), "completeness", str(path), "--key", log_verifier_key()]
    return subprocess.run([*command, *extra], capture_output=True, text=True, cwd=tmp_path, timeout=60)


@pytest.mark.django_db
def test_the_standalone_tool_accepts_the_bundle_and_refuses_omission_and_stale_checkpoints(three_accesses, tmp_path):
    accepted = _run_tool(tmp_path, three_accesses)
    dropped = _run_tool(tmp_path, _drop(three_accesses, 1))
    record(action="cards.residents.lookup", subject="resident:target")
    log_seal()
    newer = tmp_path / "newer-checkpoint"
    newer.write_text(Checkpoint.objects.order_by("-tree_size").first().note)
    stale = _run_tool(tmp_path, three_accesses, "--checkpoint", str(newer))

    assert accepted.returncode == 0, accepted.stderr
    assert "OK: all 3 entries about the subject up to checkpoint 5" in accepted.stdout
    assert dropped.returncode == 1
    assert "FAILED: missing link: entry 4 names entry 2" in dropped.stderr
    assert stale.returncode == 1
    assert "FAILED: stale" in stale.stderr


@pytest.mark.django_db
def test_the_tool_in_process_reads_the_same_subcommand(three_accesses, tmp_path, capsys):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_reorder(three_accesses)))

    status = onecard_verify.main(["completeness", str(path), "--key", log_verifier_key()])

    assert status == 1
    assert "FAILED: reordered" in capsys.readouterr().err


@pytest.mark.django_db
@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "second-process"])
def test_verify_catches_a_checkpoint_that_signs_a_wrong_index_root(ledger_context, monkeypatch, parallel):
    from ledger import verification

    monkeypatch.setattr(verification, "PARALLEL_INDEX_FROM", 0 if parallel else 10**12)
    record(action="cards.residents.lookup", subject="resident:target")
    sequence()
    record(action="cards.residents.lookup", subject="resident:target")
    # An operator signs a map that forgets the new entry: count 1, last index 0.
    honest = subject_index.IndexState.fold

    def forgetful(state, *, using):
        state.window[subject_pseudonym("resident:target")] = (1, 0)
        return honest(state, using=using)

    monkeypatch.setattr(subject_index.IndexState, "fold", forgetful)
    sequence()

    record(action="cards.residents.lookup", subject="resident:other")
    monkeypatch.undo()
    monkeypatch.setattr(verification, "PARALLEL_INDEX_FROM", 0 if parallel else 10**12)
    sequence()

    result = log_verify()

    assert not result.ok
    assert result.first_bad_index == 1
    assert "checkpoint 2 does not match entries 1 to 1: its index root" in result.reason


@pytest.mark.django_db
def test_verify_catches_an_entry_whose_chain_skips(ledger_context, monkeypatch):
    record(action="cards.residents.lookup", subject="resident:target")
    record(action="cards.residents.lookup", subject="resident:target")
    heads = subject_index.IndexState.heads
    # A sequencer that tells the second entry it is the first: the chain restarts, hiding entry 0.
    monkeypatch.setattr(
        subject_index.IndexState, "heads", lambda state, tags: dict.fromkeys(heads(state, tags), (0, None))
    )
    sequence(batch_size=1)

    result = log_verify()

    assert not result.ok
    assert result.first_bad_index == 1
    assert "its chain says entry 1" in result.reason


@pytest.mark.django_db
def test_the_sequencer_refuses_a_tampered_index_node(ledger_context):
    from django.db import connection

    from ledger.sequencer import LogTampered
    from tests.ledger.database import triggers_lifted

    for n in range(6):
        record(action="cards.residents.lookup", subject=f"resident:{n}")
    sequence()
    subject_index.forget()
    with triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_indexnode SET leaf_count = 7 WHERE leaf_key IS NOT NULL")
    record(action="cards.residents.lookup", subject="resident:1")

    with pytest.raises(LogTampered, match="index"):
        sequence()


@pytest.mark.django_db
def test_only_the_batch_that_empties_the_queue_signs_the_map_and_verify_checks_it(ledger_context):
    for n in range(5):
        record(action="cards.residents.lookup", subject=f"resident:{n % 2}")
    sequence(batch_size=2)

    lines = [row.index_root is not None for row in Checkpoint.objects.order_by("tree_size")]

    assert lines == [False, False, True]
    assert set(IndexNode.objects.values_list("version", flat=True)) == {5}
    assert log_verify().ok
    assert _check_count("resident:0") == 3


@pytest.mark.django_db
def test_a_fresh_process_rebuilds_the_window_from_the_signed_entries_after_the_map(ledger_context, monkeypatch):
    monkeypatch.setattr(subject_index, "INDEX_MAX_AGE_S", 3600.0)
    for _ in range(3):
        record(action="cards.residents.lookup", subject="resident:a")
    sequence()
    # Rows still pending after each batch: no map is signed, the window holds the heads.
    monkeypatch.setattr(sequencer, "_pending_left", lambda using: True)
    for _ in range(2):
        record(action="cards.residents.lookup", subject="resident:a")
        sequence()
    subject_index.forget()
    monkeypatch.undo()
    record(action="cards.residents.lookup", subject="resident:a")
    sequence()

    chains = [(e["subject_seq"], e["subject_prev"]) for e in map(json.loads, _bytes())]

    assert chains == [(1, None), (2, 0), (3, 1), (4, 2), (5, 3), (6, 4)]
    assert log_verify().ok
    assert _check_count("resident:a") == 6


@pytest.mark.django_db
def test_a_fresh_process_refuses_a_doctored_entry_after_the_map(ledger_context, monkeypatch):
    from django.db import connection

    from ledger.sequencer import LogTampered
    from tests.ledger.database import triggers_lifted

    record(action="cards.residents.lookup", subject="resident:a")
    sequence()
    monkeypatch.setattr(sequencer, "_pending_left", lambda using: True)
    record(action="cards.residents.lookup", subject="resident:a")
    sequence()
    subject_index.forget()
    monkeypatch.undo()
    # Rewrite entry 1 to restart the chain, so the next entry would hide entry 0.
    doctored = bytes(Entry.objects.get(index=1).entry_bytes).replace(b'"subject_seq":2', b'"subject_seq":1')
    with triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute('UPDATE ledger_entry SET entry_bytes = %s WHERE "index" = 1', [doctored])
    record(action="cards.residents.lookup", subject="resident:a")

    with pytest.raises(LogTampered, match="do not hash"):
        sequence()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_recomputed_index_matches_the_signed_one_after_100000_entries():
    from django.db import connection

    from ledger.api import Actor, access_context, record_bulk

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the bulk path (COPY) at the scale the issue names")
    subjects = [f"resident:bulk:{n}" for n in range(5000)]
    with access_context(
        actor=Actor(type="system", id="test"), role="importer", channel="command", purpose="registration"
    ):
        for start in range(0, 100_000, 10_000):
            chunk = range(start, start + 10_000)
            record_bulk(action="cards.residents.lookup", subjects=[subjects[n * 7919 % 5000] for n in chunk])
            sequence()

    result = log_verify()

    assert result.ok, result.reason
    assert result.tree_size == 100_000
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    assert subject_index.index_root_at(100_000) == bytes(checkpoint.index_root)
    assert _check_count("resident:bulk:0") == 20


def _check_count(subject) -> int:
    log_seal()
    return _check(completeness_bundle(subject=subject))["count"]


@pytest.mark.django_db
def test_the_database_refuses_to_change_an_index_node(ledger_context):
    from django.db import DatabaseError, connection, transaction

    record(action="cards.residents.lookup", subject="resident:a")
    sequence()

    for statement in ("UPDATE ledger_indexnode SET leaf_count = 7", "DELETE FROM ledger_indexnode"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert IndexNode.objects.count() == 1
