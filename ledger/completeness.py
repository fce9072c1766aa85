"""The resident's completeness bundle: every entry about them under the published checkpoint, and the index proof.

``completeness_bundle(subject=…)`` returns what ``ledger/tools/vindex.py``
(``onecard_verify.py completeness``) and ``static/js/completeness.js`` check
(the format is in docs/ledger.md): the newest index checkpoint the witness quorum cosigned,
for each of the subject's tags (one per pseudonym key version) the index
proof of its count and newest entry, and the entries themselves, oldest
first, each with its inclusion proof in that checkpoint's tree. Sealed entries
are in it as the log holds them: chained and counted, contents withheld until
their date, then with their opening (ledger.sealing).
"""

import base64
import json

from ledger import merkle
from ledger.index import index_proof
from ledger.models import Entry
from ledger.pseudonyms import subject_pseudonyms
from ledger.publication import _published_checkpoint, policy_get
from ledger.sealing import opening_for
from ledger.selectors import ProofUnavailable, _range_hashes, _witness_keys, verifier_key_get
from ledger.tools import vindex


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def completeness_bundle(*, subject) -> dict:
    """Return SUBJECT's completeness bundle under the published checkpoint; raise ProofUnavailable before one."""
    published = _published_checkpoint(policy_get(), indexed=True)
    if published is None:
        raise ProofUnavailable("no checkpoint that signs the subjects' index is published yet")
    checkpoint, lines = published
    size = checkpoint.tree_size
    subjects = []
    for tag in subject_pseudonyms(subject):
        proof = index_proof(tag=tag, version=size)
        leaf = proof["leaf"]
        held = leaf is not None and base64.b64decode(leaf["key"]) == vindex.key_of(tag)
        subjects.append(
            {
                "tag": tag,
                "count": leaf["count"] if held else 0,
                "last_index": leaf["last_index"] if held else None,
                "proof": proof,
            }
        )
    rows = Entry.objects.filter(subject__in=[item["tag"] for item in subjects], index__lt=size).order_by("index")
    # Entries sequenced before the index existed carry no chain, and no count covers them.
    rows = [(index, bytes(data), bytes(salt)) for index, data, salt in rows.values_list("index", "entry_bytes", "salt")]
    rows = [(index, data, salt) for index, data, salt in rows if b'"subject_seq":' in data]
    ranges = [merkle.inclusion_ranges(index, size) for index, _, _ in rows]
    hashes = iter(_range_hashes([piece for pieces in ranges for piece in pieces]) if rows else [])
    entries = [
        {"index": index, "entry_bytes": _b64(data), "salt": _b64(salt), "path": [_b64(next(hashes)) for _ in pieces]}
        for (index, data, salt), pieces in zip(rows, ranges, strict=True)
    ]
    # A sealed entry whose date has come carries its opening, which the verifier checks against the commitment.
    commitments = {}
    for item, (_, data, _) in zip(entries, rows, strict=True):
        if b'"sealed":' in data:
            sealed = json.loads(data).get("sealed") or {}
            commitments[base64.b64decode(sealed.get("commitment", ""))] = item
    for commitment, opening in opening_for(list(commitments)).items():
        commitments[commitment]["opening"] = opening
    return {
        "format": vindex.BUNDLE_FORMAT,
        "tree_size": size,
        "checkpoint": checkpoint.note + "".join(f"{line}\n" for line in lines),
        "verifier_key": verifier_key_get(),
        "witness_keys": _witness_keys(),
        "subjects": subjects,
        "entries": entries,
    }
