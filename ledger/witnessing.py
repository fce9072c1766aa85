"""Run one round of ledger/tools/onecard_witness.py against this log in-process.

The demo seeds a witness on the same machine as the log, so its demo history
comes witnessed; a real witness is another organisation running the tool from
cron against the public endpoints (docs/ledger.md). The tool's own logic checks
the log's signature and the consistency proof, exactly as over HTTP.
"""

import base64
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import selectors
from ledger.actions import cosignature_add, witness_register
from ledger.models import Witness
from ledger.sequencer import sequence
from ledger.tools import onecard_witness


def _fetch(path: str) -> str:
    url = urlsplit(path)
    if url.path == "/ledger/checkpoint":
        return selectors.checkpoint_note_get()
    if url.path == "/ledger/proof/consistency":
        query = parse_qs(url.query)
        return json.dumps(selectors.consistency_proof(first=int(query["first"][0]), second=int(query["second"][0])))
    raise ValueError(f"the witness asked for an unknown path {path}")


def _post(path: str, body: str) -> str:
    if path != "/ledger/cosignature":
        raise ValueError(f"the witness posted to an unknown path {path}")
    return f"stored {len(cosignature_add(cosigned_note=body))} cosignature(s)\n"


def witness_key_load_or_create(*, path: Path) -> Ed25519PrivateKey:
    """Return the witness private key kept at PATH (base64 seed, mode 0600), creating it on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip()))


def witness_round_local(*, name: str, key_path: Path, state_path: Path) -> dict:
    """Seal pending entries, register witness NAME's key if needed, then cosign the newest checkpoint."""
    private_key = witness_key_load_or_create(path=key_path)
    verifier_key = onecard_witness.verifier_key(name, private_key)
    if not Witness.objects.filter(name=name, verifier_key=verifier_key, is_active=True).exists():
        witness_register(verifier_key=verifier_key)
    sequence()
    return onecard_witness.witness_once(
        fetch=_fetch,
        post=_post,
        log_key=selectors.verifier_key_get(),
        name=name,
        private_key=private_key,
        state_path=str(state_path),
    )
