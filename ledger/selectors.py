"""Reads of the log: checkpoints, entries and proofs from stored subtrees."""

import base64

from ledger import merkle
from ledger.errors import LedgerError
from ledger.leaves import leaf_bytes
from ledger.models import Checkpoint, Cosignature, Entry, Witness
from ledger.sequencer import log_verifier_key, subtree_hashes


class ProofUnavailable(LedgerError):
    """The requested index or tree size is not covered by the log."""


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def checkpoint_latest() -> Checkpoint | None:
    """Return the newest checkpoint, or None before the first seal."""
    return Checkpoint.objects.order_by("-tree_size").first()


def checkpoint_note_get(*, tree_size: int | None = None) -> str:
    """Return a signed checkpoint note (the newest by default) with its witnesses' cosignature lines."""
    checkpoints = Checkpoint.objects.order_by("-tree_size")
    checkpoint = (checkpoints.filter(tree_size=tree_size) if tree_size is not None else checkpoints).first()
    if checkpoint is None:
        raise ProofUnavailable("no checkpoint of that size" if tree_size is not None else "no checkpoint yet")
    lines = Cosignature.objects.filter(tree_size=checkpoint.tree_size).values_list("line", flat=True)
    return checkpoint.note + "".join(f"{line}\n" for line in lines)


def log_mirrors() -> list[str]:
    """Return the tlog-tiles URLs of the mirrors residents may read the log from (ONECARD_LEDGER_MIRROR_URLS)."""
    from django.conf import settings

    return list(getattr(settings, "ONECARD_LEDGER_MIRROR_URLS", []))


def verifier_key_get() -> str:
    """Return the note verifier key of the log."""
    return log_verifier_key()


def entry_get(*, index: int) -> dict:
    """Return one entry as the auditor API shows it: its bytes, the salt that opens its public leaf, the leaf."""
    entry = Entry.objects.filter(index=index).first()
    if entry is None:
        raise ProofUnavailable(f"no entry {index}")
    data, salt = bytes(entry.entry_bytes), bytes(entry.salt)
    return {
        "index": entry.index,
        "entry_bytes": _b64(data),
        "salt": _b64(salt),
        "leaf": _b64(leaf_bytes(entry_bytes=data, salt=salt)),
        "leaf_hash": _b64(bytes(entry.leaf_hash)),
        "subject": entry.subject,
    }


def _tree_size_check(tree_size: int) -> None:
    if tree_size < 0 or not Checkpoint.objects.filter(tree_size__gte=tree_size).exists():
        raise ProofUnavailable(f"tree size {tree_size} is beyond the latest checkpoint")


def _range_hashes(ranges: list[tuple[int, int]]) -> list[bytes]:
    """Return the hashes of RANGES from one read of their complete subtrees."""
    pieces = [merkle.range_subtrees(start, end) for start, end in ranges]
    hashes = iter(subtree_hashes([subtree for piece in pieces for subtree in piece]))
    return [merkle.fold([next(hashes) for _ in piece]) for piece in pieces]


def inclusion_proof(*, index: int, tree_size: int) -> dict:
    """Return the RFC 9162 inclusion proof of entry INDEX in the tree of TREE_SIZE."""
    _tree_size_check(tree_size)
    if not 0 <= index < tree_size:
        raise ProofUnavailable(f"index {index} is not in a tree of size {tree_size}")
    ranges = merkle.inclusion_ranges(index, tree_size)
    hashes = _range_hashes([(index, index + 1), *ranges])
    return {"index": index, "tree_size": tree_size, "leaf_hash": _b64(hashes[0]), "path": [_b64(h) for h in hashes[1:]]}


def consistency_proof(*, first: int, second: int) -> dict:
    """Return the RFC 9162 consistency proof between tree sizes FIRST and SECOND."""
    _tree_size_check(second)
    if not 0 <= first <= second:
        raise ProofUnavailable(f"no consistency proof from size {first} to size {second}")
    hashes = _range_hashes(merkle.consistency_ranges(first, second))
    return {"first": first, "second": second, "path": [_b64(h) for h in hashes]}


def proof_bundle(*, index: int) -> dict:
    """Return everything an offline verifier needs to prove entry INDEX: bytes, proof, checkpoint, keys."""
    witnessed = (
        Cosignature.objects.filter(tree_size__gt=index).order_by("-tree_size").values_list("tree_size", flat=True)
    ).first()
    checkpoint = checkpoint_latest()
    tree_size = witnessed if witnessed is not None else (checkpoint.tree_size if checkpoint else 0)
    entry = entry_get(index=index)
    proof = inclusion_proof(index=index, tree_size=tree_size)
    return {
        "format": "onecard-proof-bundle/v2",
        "index": index,
        "entry_bytes": entry["entry_bytes"],
        "salt": entry["salt"],
        "leaf": entry["leaf"],
        "tree_size": tree_size,
        "path": proof["path"],
        "checkpoint": checkpoint_note_get(tree_size=tree_size),
        "verifier_key": verifier_key_get(),
        "witness_keys": _witness_keys(),
    }


def _witness_keys() -> list[str]:
    """Return the cosignature keys of the policy's witnesses, then any other registered witness's."""
    from ledger.publication import policy_get

    keys = [witness.verifier_key for witness in policy_get().witnesses.values()]
    registered = Witness.objects.filter(is_active=True).values_list("verifier_key", flat=True)
    return keys + [key for key in registered if key not in keys]


def entry_list_for_subject(*, subject, limit: int = 200, before: int | None = None) -> list[dict]:
    """Return the newest sequenced entries about SUBJECT (below index BEFORE) under every pseudonym key version.

    A sealed access (ledger.sealing) is among them with only its index, subject, chain fields and "sealed".
    """
    import json

    from ledger.pseudonyms import subject_pseudonyms

    rows = Entry.objects.filter(subject__in=subject_pseudonyms(subject))
    if before is not None:
        rows = rows.filter(index__lt=before)
    rows = rows.order_by("-index").values_list("index", "entry_bytes")[:limit]
    return [{"index": index, "entry": json.loads(bytes(data))} for index, data in rows]


def pending_list_for_subject(*, subject):
    """Return the pending (not yet sequenced) entries about SUBJECT, newest first, as a queryset to filter.

    A sealed access waiting for the sequencer is left out: the resident first sees it as a sealed entry.
    """
    from ledger.models import PendingEntry
    from ledger.pseudonyms import subject_pseudonyms

    rows = PendingEntry.objects.filter(subject__in=subject_pseudonyms(subject), seal_commitment__isnull=True)
    return rows.order_by("-id")


def sequencer_lag() -> dict:
    """Return how many entries wait for the sequencer and how long the oldest has waited, in seconds."""
    from django.db.models import Count, Min
    from django.utils import timezone

    from ledger.models import PendingEntry

    pending = PendingEntry.objects.aggregate(count=Count("id"), oldest=Min("time"))
    age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
    return {"pending": pending["count"], "oldest_pending_age_s": round(max(age, 0.0), 3)}


def verification_age() -> dict:
    """Return the age in seconds of the last verification run and whether it passed.

    Before the first run the age counts from the first checkpoint, so a new
    log is not reported stale until a verification was due and did not come.
    """
    from django.utils import timezone

    from ledger.models import VerificationRun

    run = (
        VerificationRun.objects.filter(status=VerificationRun.Status.FINISHED)
        .order_by("-finished_at")
        .values("finished_at", "ok", "first_bad_index")
        .first()
    )
    if run is not None:
        age = (timezone.now() - run["finished_at"]).total_seconds()
        return {"last_age_s": round(age, 3), "last_ok": run["ok"], "first_bad_index": run["first_bad_index"]}
    first = Checkpoint.objects.order_by("tree_size").values_list("created_at", flat=True).first()
    age = (timezone.now() - first).total_seconds() if first else 0.0
    return {"last_age_s": None, "since_first_checkpoint_s": round(age, 3), "last_ok": None, "first_bad_index": None}


def log_state() -> dict:
    """Return whether the stored log ends where its newest signed checkpoint does.

    The sequencer writes entries, subtrees and their checkpoint in one
    transaction, so rows beyond the checkpoint were written by someone else;
    the sequencer refuses to sign on top of them, and this check says so.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT (SELECT max("index") FROM ledger_entry), (SELECT max(key) FROM ledger_node),'
            " (SELECT max(tree_size) FROM ledger_checkpoint)"
        )
        last, last_key, size = cursor.fetchone()
    size = size or 0
    stored = 0 if last is None else last + 1
    state = {"ok": True, "signed_size": size, "stored_size": stored}
    if stored != size or (last_key is not None and last_key >> 6 >= size):
        state["ok"] = False
        state["reason"] = (
            f"the stored log ({stored} entries) does not end at its newest signed checkpoint ({size}): "
            "the sequencer refuses to sign until an operator has looked"
        )
    return state


def ledger_health(
    *, max_lag_seconds: float, max_verification_age_seconds: float, max_publication_lag_seconds: float = 120.0
) -> dict:
    """Return the sequencer, log and verification checks for a health endpoint, each with its own "ok"."""
    lag = sequencer_lag()
    lag["ok"] = lag["oldest_pending_age_s"] <= max_lag_seconds
    lag["max_lag_s"] = max_lag_seconds
    verification = verification_age()
    age = verification["last_age_s"]
    if age is None:
        age = verification["since_first_checkpoint_s"]
    verification["ok"] = verification["last_ok"] is not False and age <= max_verification_age_seconds
    verification["max_age_s"] = max_verification_age_seconds
    from ledger.publication import publication_lag

    publication = publication_lag()
    publication["max_lag_s"] = max_publication_lag_seconds
    publication["ok"] = publication["lag_s"] <= max_publication_lag_seconds
    return {"sequencer": lag, "log": log_state(), "publication": publication, "verification": verification}
