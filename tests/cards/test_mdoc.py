"""The issuer-signed ISO/IEC 18013-5 mdoc of a card: CBOR, COSE_Sign1 over the MSO, digests of each item."""

import hashlib
import io
import time

import pytest
from PIL import Image

from cards import signing
from cards.actions import card_credential_mdoc_issue, card_revoke, resident_photo_set
from cards.credentials import status_list_uri
from cards.tools import onecard_card_verify as tool
from tests.cards.test_offline_counter import cache_fill
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (200, 160, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


def only(document: bytes, keep: set[str]) -> bytes:
    """Keep the items named in KEEP, as a holder presents a subset."""
    doc = tool.cbor_decode(document)
    items = doc["issuerSigned"]["nameSpaces"][tool.MDOC_NAMESPACE]
    kept = [w for w in items if tool.cbor_decode(w.value)["elementIdentifier"] in keep]
    doc["issuerSigned"]["nameSpaces"][tool.MDOC_NAMESPACE] = kept
    return tool.cbor_encode(doc)


def check(document: bytes, **kwargs) -> tool.PresentationVerdict:
    kwargs.setdefault("status_list", None)
    return tool.mdoc_verify(document, keys=signing.verification_keys(), **kwargs)


def test_cbor_round_trips_and_refuses_trailing_bytes():
    value = {"a": [1, -2, b"\x00", True, None, tool.CborTag(24, b"\xa0")], 7: "字"}

    assert tool.cbor_decode(tool.cbor_encode(value)) == value
    with pytest.raises(tool.CredentialRefused):
        tool.cbor_decode(tool.cbor_encode(value) + b"\x00")


def test_an_mdoc_round_trip_gives_every_item_and_the_portrait(caseworker_context):
    card = CardFactory()
    resident_photo_set(resident=card.resident, data=jpeg())

    verdict = check(card_credential_mdoc_issue(card=card, insured=True))

    assert verdict.reason == "status_unknown"  # no status list given
    assert verdict.claims["card_number"] == card.number and verdict.claims["insured"] is True
    assert verdict.claims["birth_date"] == card.resident.birth_date.isoformat()
    assert verdict.claims["portrait"].startswith(b"\xff\xd8")
    assert verdict.status_reference == {"status_list": {"idx": card.pk, "uri": status_list_uri()}}


def test_the_mso_is_signed_over_the_item_digests(caseworker_context):
    document = tool.cbor_decode(card_credential_mdoc_issue(card=CardFactory(), insured=False))

    auth = document["issuerSigned"]["issuerAuth"]
    mso = tool.cbor_decode(tool.cbor_decode(tool.cose_sign1_verify(auth, signing.verification_keys())).value)
    assert tool.cbor_decode(auth[0]) == {1: -8}
    for wrapped in document["issuerSigned"]["nameSpaces"][tool.MDOC_NAMESPACE]:
        item = tool.cbor_decode(wrapped.value)
        assert len(item["random"]) >= 16
        digest = hashlib.sha256(tool.cbor_encode(wrapped)).digest()
        assert mso["valueDigests"][tool.MDOC_NAMESPACE][item["digestID"]] == digest


def test_a_subset_of_items_verifies_and_the_rest_stay_unknown(caseworker_context):
    document = card_credential_mdoc_issue(card=CardFactory(), insured=True)

    verdict = check(only(document, {"age_over_18"}))

    assert verdict.claims == {"age_over_18": True}


def test_a_changed_item_fails(caseworker_context):
    document = tool.cbor_decode(card_credential_mdoc_issue(card=CardFactory(), insured=False))
    items = document["issuerSigned"]["nameSpaces"][tool.MDOC_NAMESPACE]
    for index, wrapped in enumerate(items):
        item = tool.cbor_decode(wrapped.value)
        if item["elementIdentifier"] == "insured":
            item["elementValue"] = True
            items[index] = tool.CborTag(24, tool.cbor_encode(item))

    assert check(tool.cbor_encode(document)).reason == "disclosure_invalid"


def test_a_changed_mso_fails(caseworker_context):
    document = tool.cbor_decode(card_credential_mdoc_issue(card=CardFactory(), insured=False))
    auth = document["issuerSigned"]["issuerAuth"]
    auth[2] = auth[2].replace(b"SHA-256", b"SHA-257")

    assert check(tool.cbor_encode(document)).reason == "bad_signature"


def test_a_revoked_card_mdoc_is_invalid_with_the_status_list(caseworker_context):
    from cards.actions import token_status_list_token

    card = CardFactory()
    document = card_credential_mdoc_issue(card=card, insured=False)
    card_revoke(card=card, reason="suspected-fraud")
    status_list = tool.token_status_list_load(token_status_list_token(), signing.verification_keys())

    verdict = check(document, status_list=status_list)
    stale = check(document, status_list=status_list, now=time.time() + 30 * 3600)

    assert (verdict.valid, verdict.status) == (False, "invalid")
    assert (stale.status, stale.status_detail) == ("unknown", "status unknown: list older than 24 hours")


def test_garbage_is_malformed_not_a_crash():
    assert check(b"\xff\x00garbage").reason == "malformed"
    assert check(tool.cbor_encode({"docType": "org.iso.18013.5.1.mDL"})).reason == "invalid_claims"


def test_the_offline_tool_checks_a_binary_mdoc_file_and_writes_the_photo(client, caseworker_context, tmp_path):
    card = CardFactory()
    resident_photo_set(resident=card.resident, data=jpeg())
    (tmp_path / "card.mdoc").write_bytes(card_credential_mdoc_issue(card=card, insured=True))
    cache_fill(client, tmp_path)

    code, result = run_file(tmp_path, "card.mdoc")

    assert code == 0, result
    assert (result["format"], result["status"]) == ("mdoc", "valid")
    assert Image.open(tmp_path / result["photo"]).format == "JPEG"


def run_file(directory, name):
    import json
    import subprocess
    import sys

    from tests.cards.test_offline_counter import RUNNER, TOOL

    done = subprocess.run(
        [sys.executable, "-I", "-c", RUNNER, str(TOOL), "--cache", ".", f"@{name}"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)
