"""Push checkpoints to the witnesses of the policy, and publish only what a quorum cosigned.

After each sequencing the log sends its newest checkpoint to every witness of
the policy (``settings.ONECARD_LEDGER_WITNESS_POLICY``, c2sp.org/tlog-policy)
over C2SP tlog-witness: ``old <size>``, the consistency proof from the size
that witness cosigned last, and the checkpoint. Each cosignature that
verifies under the policy's key for that witness is stored. The published
checkpoint (``checkpoint_published``: what ``/ledger/checkpoint`` serves) is
the newest one whose stored cosignatures meet the policy's quorum; until a
newer one does, the previous one stays published.

The witnesses are other organisations' processes (``ledger/tools/onecard_witness.py
serve``), each with its own key and its own state. In the embedded default,
with no policy file, one witness runs in-process with its state under
``ONECARD_LEDGER_LOCAL_WITNESS_DIR``: the same witness code, called without
HTTP. That shows the protocol; it witnesses nothing, since the operator holds
its key and state.
"""

import base64
import logging
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from ledger import note, selectors, tiles
from ledger.errors import LedgerError
from ledger.models import Checkpoint, Cosignature
from ledger.policy import PolicyWitness
from ledger.publication import _line_valid, _local_key, _published_checkpoint, policy_get, publication_lag
from ledger.sequencer import log_verifier_key
from ledger.tools import onecard_witness
from ledger.verification import Anchor

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 10.0


class AnchorUnavailable(LedgerError):
    """No witness of the policy could be asked for the checkpoint it holds."""


def _local_witness(witness: PolicyWitness) -> onecard_witness.Witness:
    return onecard_witness.Witness(
        name=witness.key_name,
        private_key=_local_key(witness.directory),
        state_dir=str(witness.directory / "state"),
        log_keys=[log_verifier_key()],
    )


def _submit(witness: PolicyWitness, body: str) -> tuple[int, str, str]:
    """Send one add-checkpoint request; return (status, content type, body)."""
    if witness.directory is not None:
        try:
            return 200, "text/plain", _local_witness(witness).add_checkpoint(body)
        except onecard_witness.WitnessRefused as refused:
            return refused.status, refused.content_type, refused.body
    request = urllib.request.Request(
        witness.url + "/add-checkpoint", data=body.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode(errors="replace")


@dataclass(frozen=True)
class PushOutcome:
    witness: str
    status: str
    detail: str = ""


def _request_body(old: int, checkpoint: Checkpoint) -> str:
    proof = selectors.consistency_proof(first=old, second=checkpoint.tree_size)["path"] if old else []
    return f"old {old}\n" + "".join(f"{line}\n" for line in proof) + "\n" + checkpoint.note


def _submit_safely(witness: PolicyWitness, body: str) -> tuple[int, str, str] | str:
    """Send one request; return the answer, or the error text if the witness could not be reached."""
    try:
        return _submit(witness, body)
    except (OSError, ValueError) as error:
        return str(error)


def _push_one(witness: PolicyWitness, checkpoint: Checkpoint, old: int, answer) -> PushOutcome:
    """Act on a witness's ANSWER to the request from OLD; follow a 409's size with one more request."""
    size = checkpoint.tree_size
    for _ in range(3):
        if isinstance(answer, str):
            return PushOutcome(witness.name, "unreachable", answer)
        status, content_type, text = answer
        if status == 200:
            return _cosignature_store(witness, checkpoint, text)
        if status == 409 and content_type.startswith(onecard_witness.SIZE_CONTENT_TYPE):
            told = text.strip()
            if not told.isdigit() or int(told) == old:
                return PushOutcome(witness.name, "refused", f"409: {told}")
            old = int(told)
            if old > size:
                return PushOutcome(witness.name, "ahead", f"the witness cosigned size {old}, beyond the log's {size}")
            answer = _submit_safely(witness, _request_body(old, checkpoint))
            continue
        return PushOutcome(witness.name, "refused", f"{status}: {text.strip()}")
    return PushOutcome(witness.name, "refused", "the witness kept naming another size")


def _cosignature_store(witness: PolicyWitness, checkpoint: Checkpoint, text: str) -> PushOutcome:
    body, _ = note.note_split(checkpoint.note)
    for line in text.strip("\n").split("\n"):
        if not line.startswith(note.SIGNATURE_PREFIX):
            continue
        signer, _, encoded = line[len(note.SIGNATURE_PREFIX) :].rpartition(" ")
        if signer != witness.key_name:
            continue
        try:
            timestamp = note.cosignature_verify(body, signer, base64.b64decode(encoded), witness.public_key)
        except (note.NoteError, ValueError):
            continue
        cosignature = Cosignature(
            tree_size=checkpoint.tree_size,
            witness_name=signer,
            timestamp=timestamp,
            line=line,
            received_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                cosignature.save()
        except IntegrityError:
            pass
        try:
            tiles.witnessed_record(tree_size=checkpoint.tree_size, root=bytes(checkpoint.root_hash))
        except OSError:
            logger.exception("witnesses: could not record the cosigned checkpoint in the tile storage")
        return PushOutcome(witness.name, "cosigned")
    return PushOutcome(witness.name, "refused", "the answer holds no valid cosignature by the witness's key")


def checkpoints_push() -> list[PushOutcome]:
    """Send the newest checkpoint to every witness of the policy; store their cosignatures; return each outcome."""
    policy = policy_get()
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    if checkpoint is None or not policy.witnesses:
        return []
    size = checkpoint.tree_size
    outcomes, requests = [], []
    for witness in policy.witnesses.values():
        mine = Cosignature.objects.filter(witness_name=witness.key_name)
        if mine.filter(tree_size=size).exists():
            outcomes.append(PushOutcome(witness.name, "cosigned"))
            continue
        # The size this witness cosigned last, as far as the log knows; a 409 corrects it.
        old = mine.filter(tree_size__lt=size).aggregate(size=Max("tree_size"))["size"] or 0
        requests.append((witness, old, _request_body(old, checkpoint)))
    # Only the requests run in parallel (a slow witness delays no other); the database work stays here.
    with ThreadPoolExecutor(max_workers=max(len(requests), 1), thread_name_prefix="ledger-witness") as pool:
        answers = list(pool.map(lambda request: _submit_safely(request[0], request[2]), requests))
    for (witness, old, _), answer in zip(requests, answers, strict=True):
        outcomes.append(_push_one(witness, checkpoint, old, answer))
    for outcome in outcomes:
        if outcome.status != "cosigned":
            logger.warning("witness %s on checkpoint %s: %s %s", outcome.witness, size, outcome.status, outcome.detail)
    return outcomes


def _fetch_latest(witness: PolicyWitness) -> str | None:
    origin = settings.ONECARD_LEDGER_ORIGIN
    if witness.directory is not None:
        return _local_witness(witness).latest(origin)
    url = f"{witness.url}/checkpoint?{urllib.parse.urlencode({'origin': origin})}"
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def witness_anchors() -> list[Anchor]:
    """Return the checkpoints the policy's witnesses hold for this log, each with a valid cosignature by its holder.

    Also the newest checkpoint whose stored cosignatures meet the quorum. Raise
    AnchorUnavailable when the policy needs witnesses and none of them answered.
    """
    policy = policy_get()
    anchors, unreachable = [], []
    for witness in policy.witnesses.values():
        try:
            held = _fetch_latest(witness)
        except (OSError, ValueError) as error:
            unreachable.append(f"{witness.name}: {error}")
            continue
        if held is None:
            continue
        body = held.partition("\n\n")[0] + "\n"
        lines = [line for line in held.split("\n") if line.startswith(f"{note.SIGNATURE_PREFIX}{witness.key_name} ")]
        if not any(_line_valid(body, witness, line) for line in lines):
            unreachable.append(f"{witness.name}: its checkpoint carries no valid cosignature of its own")
            continue
        anchors.append(Anchor(source=f"witness {witness.name}", note=held))
    if policy.needs_witnesses and unreachable and len(unreachable) == len(policy.witnesses):
        raise AnchorUnavailable("no witness of the policy answered: " + "; ".join(unreachable))
    published = _published_checkpoint(policy)
    if published is not None and policy.needs_witnesses:
        checkpoint, lines = published
        anchors.append(
            Anchor(
                source=f"the quorum's cosignatures on checkpoint {checkpoint.tree_size}",
                note=checkpoint.note + "".join(f"{line}\n" for line in lines),
            )
        )
    return anchors


def log_seal() -> dict:
    """Sequence everything pending, then push the newest checkpoint to the witnesses; return what happened.

    In the embedded default, whose witness runs in-process, the new checkpoint
    is published when this returns.
    """
    from ledger.sequencer import sequence

    result = sequence()
    outcomes = checkpoints_push()
    lag = publication_lag()
    return {
        "sequenced": result.sequenced,
        "tree_size": result.tree_size,
        "root": result.root,
        "witnesses": outcomes,
        "published_size": lag["published_size"],
    }
