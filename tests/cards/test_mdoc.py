"""The issuer-signed ISO/IEC 18013-5 mdoc of a card: CBOR, COSE_Sign1 over the MSO with x5chain, item digests."""

import hashlib
import io
import time

import pytest
from cryptography import x509
from django.conf import settings
from PIL import Image

from cards import signing
from cards.actions import card_credential_mdoc_issue, card_revoke, resident_photo_set
from cards.credentials import status_list_uri
from cards.errors import HolderKeyInvalid
from cards.tools import onecard_card_verify as tool
from cards.tools.onecard_wallet import device_key_generate, public_jwk
from tests.cards.test_offline_counter import cache_fill
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def trust_anchors() -> list:
    """Return the IACA certificate a reader of OneCard mdocs trusts."""
    return [x509.load_der_x509_certificate(settings.ONECARD_MDOC_SIGNER.iaca_certificate_der)]


def issue(card, *, insured: bool = False, key=None) -> bytes:
    """Issue CARD's mdoc bound to a fresh wallet device key (or KEY)."""
    return card_credential_mdoc_issue(card=card, insured=insured, holder_jwk=public_jwk(key or device_key_generate()))


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
    kwargs.setdefault("trust_anchors", trust_anchors())
    return tool.mdoc_verify(document, **kwargs)


def test_cbor_round_trips_and_refuses_trailing_bytes():
    value = {"a": [1, -2, b"\x00", True, None, tool.CborTag(24, b"\xa0")], 7: "字"}

    assert tool.cbor_decode(tool.cbor_encode(value)) == value
    with pytest.raises(tool.CredentialRefused):
        tool.cbor_decode(tool.cbor_encode(value) + b"\x00")


def test_an_mdoc_round_trip_gives_every_item_and_the_portrait(caseworker_context):
    card = CardFactory()
    resident_photo_set(resident=card.resident, data=jpeg())

    verdict = check(issue(card, insured=True))

    assert verdict.reason == "status_unknown"  # no status list given
    assert verdict.claims["card_number"] == card.number and verdict.claims["insured"] is True
    assert verdict.claims["birth_date"] == card.resident.birth_date.isoformat()
    assert verdict.claims["portrait"].startswith(b"\xff\xd8")
    assert verdict.status_reference == {"status_list": {"idx": card.status_index, "uri": status_list_uri()}}


def test_the_mso_is_signed_es256_by_the_document_signer_in_x5chain_over_the_item_digests(caseworker_context):
    key = device_key_generate()
    document = tool.cbor_decode(issue(CardFactory(), key=key))

    auth = document["issuerSigned"]["issuerAuth"]
    mso, signer = tool.issuer_auth_check(auth, trust_anchors(), now=time.time())
    assert tool.cbor_decode(auth[0]) == {1: -7}
    assert signer.public_bytes(signing.serialization.Encoding.DER) == settings.ONECARD_MDOC_SIGNER.certificate_der
    assert auth[1][33] == settings.ONECARD_MDOC_SIGNER.certificate_der  # the IACA itself is not in x5chain
    _, device_key = tool.cose_key_public(mso["deviceKeyInfo"]["deviceKey"])
    assert device_key.public_numbers() == key.public_key().public_numbers()
    assert mso["version"] == "1.0" and mso["docType"] == tool.MDOC_DOCTYPE
    for wrapped in document["issuerSigned"]["nameSpaces"][tool.MDOC_NAMESPACE]:
        item = tool.cbor_decode(wrapped.value)
        assert len(item["random"]) >= 16
        digest = hashlib.sha256(tool.cbor_encode(wrapped)).digest()
        assert mso["valueDigests"][tool.MDOC_NAMESPACE][item["digestID"]] == digest


def test_a_subset_of_items_verifies_and_the_rest_stay_unknown(caseworker_context):
    document = issue(CardFactory(), insured=True)

    verdict = check(only(document, {"age_over_18"}))

    assert verdict.claims == {"age_over_18": True}


def test_a_changed_item_fails(caseworker_context):
    document = tool.cbor_decode(issue(CardFactory()))
    items = document["issuerSigned"]["nameSpaces"][tool.MDOC_NAMESPACE]
    for index, wrapped in enumerate(items):
        item = tool.cbor_decode(wrapped.value)
        if item["elementIdentifier"] == "insured":
            item["elementValue"] = True
            items[index] = tool.CborTag(24, tool.cbor_encode(item))

    assert check(tool.cbor_encode(document)).reason == "disclosure_invalid"


def test_a_changed_mso_fails(caseworker_context):
    document = tool.cbor_decode(issue(CardFactory()))
    auth = document["issuerSigned"]["issuerAuth"]
    auth[2] = auth[2].replace(b"SHA-256", b"SHA-257")

    assert check(tool.cbor_encode(document)).reason == "bad_signature"


def test_a_revoked_card_mdoc_is_invalid_with_the_status_list(caseworker_context):
    from cards.actions import token_status_list_token

    card = CardFactory()
    document = issue(card)
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
    (tmp_path / "card.mdoc").write_bytes(issue(card, insured=True))
    cache_fill(client, tmp_path)
    (tmp_path / tool.CACHE_IACA_FILE).write_bytes(client.get("/cards/mdoc/iaca.pem").content)

    code, result = run_file(tmp_path, "card.mdoc")

    assert code == 0, result
    assert (result["format"], result["status"]) == ("mdoc", "valid")
    assert Image.open(tmp_path / result["photo"]).format == "JPEG"


def test_an_mdoc_needs_the_wallet_device_key(caseworker_context):
    with pytest.raises(HolderKeyInvalid):
        card_credential_mdoc_issue(card=CardFactory(), insured=False)


def test_the_offline_tool_without_an_iaca_certificate_cannot_check_an_mdoc(client, caseworker_context, tmp_path):
    (tmp_path / "card.mdoc").write_bytes(issue(CardFactory()))
    cache_fill(client, tmp_path)

    code, _ = run_file(tmp_path, "card.mdoc", expect_json=False)

    assert code == tool.EXIT_UNUSABLE


def test_the_iaca_certificate_is_public_pem(client):
    response = client.get("/cards/mdoc/iaca.pem")

    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    assert (
        tool.trust_anchors_load(response.content)[0].public_bytes(signing.serialization.Encoding.DER)
        == settings.ONECARD_MDOC_SIGNER.iaca_certificate_der
    )


def run_file(directory, name, *, expect_json: bool = True):
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
    return done.returncode, (json.loads(done.stdout) if expect_json else done.stdout)


@pytest.mark.django_db(transaction=True)
def test_refresh_downloads_the_iaca_certificate_with_the_keys_and_the_status_list(live_server, tmp_path):
    written = tool.cache_refresh(live_server.url, str(tmp_path))

    names = sorted(path.rsplit("/", 1)[-1] for path in written)
    assert names == sorted([tool.CACHE_KEYS_FILE, tool.CACHE_STATUS_FILE, tool.CACHE_IACA_FILE])
    anchors = tool.trust_anchors_load((tmp_path / tool.CACHE_IACA_FILE).read_bytes())
    assert (
        anchors[0].public_bytes(signing.serialization.Encoding.DER) == settings.ONECARD_MDOC_SIGNER.iaca_certificate_der
    )
