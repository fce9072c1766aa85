import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rest_framework.test import APIClient

from ledger import merkle
from ledger.actions import witness_register
from ledger.api import record
from ledger.models import Cosignature
from ledger.publication import EMBEDDED_WITNESS_NAME, policy_get
from ledger.selectors import proof_bundle
from ledger.sequencer import log_verifier_key, sequence
from ledger.tools import onecard_verify, onecard_witness
from ledger.witnessing import checkpoints_push
from tests.factories import UserFactory
from tests.factories.core import agency_with_key
from tests.ledger import brute

WITNESS = "witness.example/w1"


def _log(count):
    for n in range(count):
        record(action="cards.residents.lookup", subject=f"resident:{n}", object=f"object {n}")
    result = sequence()
    # The embedded default's in-process witness cosigns, and the checkpoint is published.
    checkpoints_push()
    return result


def _user(**fields):
    user = UserFactory(**fields)
    # The factory sets the password after saving; save it so the session's auth hash holds.
    user.save()
    return user


@pytest.fixture
def auditor_client():
    _agency, key = agency_with_key(scopes=["ledger:audit"], purposes=["ledger-audit"], kind="auditor")
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE="ledger-audit")


@pytest.mark.django_db
def test_public_key_and_checkpoint_need_no_login(client, ledger_context):
    _log(4)

    key = client.get("/ledger/key")
    checkpoint = client.get("/ledger/checkpoint")

    assert key["Content-Type"].startswith("text/plain")
    assert key.content.decode() == log_verifier_key() + "\n"
    assert onecard_verify.check_checkpoint(checkpoint.content.decode(), key.content.decode())[1] == 4


@pytest.mark.django_db
def test_consistency_endpoint_returns_the_fixed_shape(client, ledger_context):
    _log(3)
    _log(4)

    body = client.get("/ledger/proof/consistency?first=3&second=7").json()

    assert set(body) == {"first", "second", "path"}
    assert (body["first"], body["second"]) == (3, 7)


@pytest.mark.django_db
def test_bad_proof_parameters_are_problem_json(client, ledger_context):
    _log(3)

    response = client.get("/ledger/proof/consistency?first=x&second=3")
    beyond = client.get("/ledger/proof/consistency?first=1&second=99")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "first: a non-negative integer is required"
    assert beyond.status_code == 400


@pytest.mark.django_db
def test_auditor_endpoints_refuse_no_key_and_an_agency_without_the_scope(client, ledger_context):
    _log(2)
    _agency, key = agency_with_key(scopes=["cards:verify"], purposes=["identity-verification"])

    anonymous = client.get("/api/v1/ledger/entries/0")
    other = client.get(
        "/api/v1/ledger/proof/inclusion?index=0&tree_size=2",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_X_PURPOSE="identity-verification",
    )

    assert (anonymous.status_code, other.status_code) == (401, 403)


@pytest.mark.django_db
def test_auditor_gets_problems_for_a_missing_entry_and_an_impossible_proof(auditor_client, ledger_context):
    _log(2)

    missing = auditor_client.get("/api/v1/ledger/entries/99")
    impossible = auditor_client.get("/api/v1/ledger/proof/inclusion?index=5&tree_size=2")
    malformed = auditor_client.get("/api/v1/ledger/proof/inclusion?index=x&tree_size=2")

    assert (missing.status_code, impossible.status_code, malformed.status_code) == (404, 400, 400)
    assert impossible.json()["type"].endswith("/proof-unavailable")


@pytest.mark.django_db
def test_auditor_reads_an_entry_and_its_inclusion_proof(auditor_client, ledger_context):
    _log(6)

    entry = auditor_client.get("/api/v1/ledger/entries/4").json()
    proof = auditor_client.get("/api/v1/ledger/proof/inclusion?index=4&tree_size=6").json()

    data, salt, leaf = (base64.b64decode(entry[name]) for name in ("entry_bytes", "salt", "leaf"))
    assert json.loads(data)["index"] == 4
    # docs/ledger.md: leaf = 0x01 || SHA-256("onecard ledger entry commitment v2" || 0x00 || salt || entry_bytes)
    assert len(salt) == 32
    assert leaf == b"\x01" + hashlib.sha256(b"onecard ledger entry commitment v2\x00" + salt + data).digest()
    assert entry["leaf_hash"] == base64.b64encode(merkle.leaf_hash(leaf)).decode() == proof["leaf_hash"]
    assert set(proof) == {"index", "tree_size", "leaf_hash", "path"}


@pytest.mark.django_db
def test_an_outsider_proves_inclusion_with_only_the_published_key(auditor_client, ledger_context):
    _log(11)
    key = auditor_client.get("/ledger/key").content.decode()
    note = auditor_client.get("/ledger/checkpoint").content.decode()
    _, size, root = onecard_verify.check_checkpoint(note, key)

    for index in range(size):
        entry = auditor_client.get(f"/api/v1/ledger/entries/{index}").json()
        proof = auditor_client.get(f"/api/v1/ledger/proof/inclusion?index={index}&tree_size={size}").json()
        leaf = merkle.leaf_hash(base64.b64decode(entry["leaf"]))
        path = [base64.b64decode(item) for item in proof["path"]]
        assert onecard_verify.verify_inclusion(index, size, leaf, path, root)


@pytest.mark.django_db
def test_the_published_checkpoint_carries_the_witness_cosignature(client, ledger_context):
    _log(5)
    _log(9)

    note = client.get("/ledger/checkpoint").content.decode()

    witness_key = policy_get().witnesses["in-process"].verifier_key
    assert note.split("\n")[1] == "14"
    assert onecard_verify.count_cosignatures(note, [witness_key]) == [EMBEDDED_WITNESS_NAME]
    assert Cosignature.objects.count() == 2


@pytest.mark.django_db
def test_a_cosignature_from_an_unregistered_key_is_rejected(client, ledger_context, tmp_path):
    witness_register(verifier_key=onecard_witness.verifier_key(WITNESS, Ed25519PrivateKey.generate()))
    _log(2)
    note = client.get("/ledger/checkpoint").content.decode()
    body = note.partition("\n\n")[0] + "\n"

    line = onecard_witness.cosign(body, WITNESS, Ed25519PrivateKey.generate(), 1700000000)
    response = client.post("/ledger/cosignature", f"{body}\n{line}\n", content_type="text/plain")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_the_offline_verifier_accepts_a_witnessed_bundle_and_rejects_a_forged_one(
    client, ledger_context, tmp_path, capsys
):
    _log(9)
    _log(3)
    bundle = proof_bundle(index=6)
    witness_key = policy_get().witnesses["in-process"].verifier_key
    good, forged = tmp_path / "good.json", tmp_path / "forged.json"
    good.write_text(json.dumps(bundle))
    data = base64.b64decode(bundle["entry_bytes"]).replace(b"object 6", b"object 7")
    forged.write_text(json.dumps({**bundle, "entry_bytes": base64.b64encode(data).decode()}))
    arguments = ["--key", log_verifier_key(), "--witness-key", witness_key, "--min-witnesses", "1"]

    assert bundle["tree_size"] == 12
    assert onecard_verify.main([str(good), *arguments]) == 0
    assert onecard_verify.main([str(forged), *arguments]) == 1
    assert "do not open the bundle's leaf" in capsys.readouterr().err
    del bundle["leaf"]
    forged.write_text(json.dumps({**bundle, "entry_bytes": base64.b64encode(data).decode()}))
    assert onecard_verify.main([str(forged), *arguments]) == 1
    assert "not included" in capsys.readouterr().err


def test_rfc_brute_force_reference_agrees_with_the_known_answer():
    from tests.ledger.test_merkle import RFC6962_LEAVES

    assert brute.mth(RFC6962_LEAVES).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
