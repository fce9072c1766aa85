"""The witness policy in force and the checkpoint it lets the log publish.

The published checkpoint (what ``/ledger/checkpoint`` and ``/log/checkpoint``
serve) is the newest one whose stored cosignatures meet the policy's quorum.
``ledger.witnessing`` pushes checkpoints to the witnesses; this module only
reads what they returned, so selectors, views and health checks can ask about
publication without importing the code that talks to witnesses.
"""

import base64
import functools
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone

from ledger import note
from ledger.models import Checkpoint, Cosignature
from ledger.policy import Policy, PolicyWitness, policy_parse
from ledger.sequencer import log_verifier_key
from ledger.tools import onecard_witness

EMBEDDED_WITNESS_NAME = "witness.embedded.onecard/in-process"


def policy_get() -> Policy:
    """Return the witness policy in force: the configured file, or the embedded default's in-process witness."""
    text = getattr(settings, "ONECARD_LEDGER_WITNESS_POLICY", "")
    if text:
        return _policy_parsed(text)
    return _embedded_policy(Path(settings.ONECARD_LEDGER_LOCAL_WITNESS_DIR), log_verifier_key())


@functools.lru_cache(maxsize=8)
def _policy_parsed(text: str) -> Policy:
    return policy_parse(text)


@functools.lru_cache(maxsize=8)
def _embedded_policy(directory: Path, log_key: str) -> Policy:
    private_key = _local_key(directory)
    verifier_key = onecard_witness.verifier_key(EMBEDDED_WITNESS_NAME, private_key)
    key_name, _, public = note.verifier_key_parse(verifier_key)
    witness = PolicyWitness("in-process", verifier_key, key_name, public, directory=directory)
    return Policy(logs=[log_key], witnesses={"in-process": witness}, quorum="in-process")


def _local_key(directory: Path) -> Ed25519PrivateKey:
    path = directory / "witness.key"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        try:
            return onecard_witness.key_generate(str(path))
        except FileExistsError:
            pass
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip()))


def _published_checkpoint(policy: Policy, *, indexed: bool = False) -> tuple[Checkpoint, list[str]] | None:
    """Return the newest checkpoint the policy's quorum cosigned, with their lines; if INDEXED, the newest that signs
    the subjects' index (an index checkpoint, ledger.index)."""
    checkpoints = Checkpoint.objects.filter(index_root__isnull=False) if indexed else Checkpoint.objects.all()
    if not policy.needs_witnesses:
        checkpoint = checkpoints.order_by("-tree_size").first()
        return (checkpoint, []) if checkpoint else None
    rows = Cosignature.objects.order_by("-tree_size").values_list("tree_size", "witness_name", "line")[:500]
    by_size: dict[int, list[tuple[str, str]]] = {}
    for size, name, line in rows:
        by_size.setdefault(size, []).append((name, line))
    for size, signed in by_size.items():
        lines = {}
        for key_name, line in signed:
            witness = policy.witness_by_key_name(key_name)
            if witness is not None:
                lines[witness.name] = line
        if not policy.satisfied(set(lines)):
            continue
        checkpoint = checkpoints.filter(tree_size=size).first()
        if checkpoint is None:
            continue
        body, _ = note.note_split(checkpoint.note)
        valid = [line for name, line in sorted(lines.items()) if _line_valid(body, policy.witnesses[name], line)]
        names = {name for name, line in lines.items() if line in valid}
        if policy.satisfied(names):
            return checkpoint, valid
    return None


def _line_valid(body: str, witness: PolicyWitness, line: str) -> bool:
    signer, _, encoded = line[len(note.SIGNATURE_PREFIX) :].rpartition(" ")
    try:
        note.cosignature_verify(body, signer, base64.b64decode(encoded), witness.public_key)
    except (note.NoteError, ValueError):
        return False
    return True


def checkpoint_published() -> str | None:
    """Return the published checkpoint note: the newest one the policy's quorum cosigned, with their lines."""
    found = _published_checkpoint(policy_get())
    if found is None:
        return None
    checkpoint, lines = found
    return checkpoint.note + "".join(f"{line}\n" for line in lines)


def publication_lag() -> dict:
    """Return the published and newest tree sizes and how long the oldest unpublished checkpoint has waited."""
    found = _published_checkpoint(policy_get())
    published = found[0].tree_size if found else None
    newest = Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True).first()
    waiting = Checkpoint.objects.all()
    if published is not None:
        waiting = waiting.filter(tree_size__gt=published)
    oldest = waiting.order_by("tree_size").values_list("created_at", flat=True).first()
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {
        "published_size": published,
        "newest_size": newest,
        "unpublished_entries": (newest or 0) - (published or 0),
        "lag_s": round(max(age, 0.0), 3),
    }
