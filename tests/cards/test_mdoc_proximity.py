"""ISO/IEC 18013-5 proximity presentation: QR engagement, session encryption, request, device-signed response.

The holder's wallet (cards/tools/onecard_wallet.py) and the reader (cards/tools/onecard_mdoc.py) talk
through the standard's messages only; each attack is played as an attacker would play it.
"""

import datetime
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from PIL import Image

from cards import mdoc_pki
from cards.actions import card_credential_mdoc_issue, card_revoke, resident_photo_set, token_status_list_token
from cards.credentials import es256_sign
from cards.signing import verification_keys
from cards.tools import onecard_card_verify as tool
from cards.tools import onecard_mdoc as mdoc
from cards.tools.onecard_wallet import MdocWallet, device_key_generate, public_jwk
from tests.cards import iso18013_5_annex_d as annex_d
from tests.cards.test_offline_counter import RUNNER, cache_fill
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db
ASKED = {"name": False, "portrait": False, "age_over_18": False}


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (90, 40, 160)).save(buffer, format="JPEG")
    return buffer.getvalue()


def trust_anchors() -> list:
    return [x509.load_der_x509_certificate(settings.ONECARD_MDOC_SIGNER.iaca_certificate_der)]


def status_list():
    return tool.token_status_list_load(token_status_list_token(), verification_keys())


def wallet_for(card, *, device_key=None) -> MdocWallet:
    """Issue CARD's mdoc to a new wallet holding DEVICE_KEY (a fresh P-256 key by default)."""
    device_key = device_key or device_key_generate()
    document = card_credential_mdoc_issue(card=card, insured=True, holder_jwk=public_jwk(device_key))
    return MdocWallet(device_key=device_key, document=document)


def present(wallet: MdocWallet, asked=ASKED, **respond) -> tuple[mdoc.MdocReader, bytes]:
    """Run one session: the wallet shows its QR code, the reader asks, the wallet answers; return both ends."""
    reader = mdoc.MdocReader(wallet.engage())
    return reader, wallet.respond(reader.establishment(asked), **respond)


def checked(reader: mdoc.MdocReader, device_response: bytes):
    """Verify a DeviceResponse the reader already decrypted, in the reader's session."""
    return tool.mdoc_device_response_verify(
        device_response,
        session_transcript=reader.session_transcript,
        trust_anchors=trust_anchors(),
        status_list=status_list(),
        reader_private_key=reader.private_key,
    )


@pytest.fixture
def card(caseworker_context):
    card = CardFactory()
    resident_photo_set(resident=card.resident, data=jpeg())
    return card


def test_a_full_session_gives_exactly_the_asked_elements_with_the_photo(card):
    reader, answer = present(wallet_for(card))

    verdict = reader.verify(answer, trust_anchors=trust_anchors(), status_list=status_list())

    assert (verdict.valid, verdict.format, verdict.status, verdict.holder_bound) == (
        True,
        "mdoc-device-response",
        "valid",
        True,
    )
    assert set(verdict.claims) == {"name", "portrait", "age_over_18"}
    assert verdict.claims["name"] == card.resident.full_name
    assert Image.open(io.BytesIO(verdict.claims["portrait"])).format == "JPEG"


def test_the_engagement_qr_code_is_an_mdoc_uri_with_the_ephemeral_key(card):
    wallet = wallet_for(card)

    uri = wallet.engage()
    engagement, key = mdoc.device_engagement_parse(uri)

    decoded = tool.cbor_decode(engagement)
    assert uri.startswith("mdoc:") and decoded[0] == "1.0" and decoded[1][0] == 1
    assert key.public_numbers() == wallet._ephemeral.public_key().public_numbers()
    assert wallet.engage() != uri  # a fresh ephemeral key for every session


def test_the_holder_may_refuse_an_element_and_the_response_says_so(card):
    reader, answer = present(wallet_for(card), consent=lambda asked: set(asked) - {"portrait"})

    device_response = reader.response(answer)
    verdict = checked(reader, device_response)
    document = tool.cbor_decode(device_response)["documents"]

    assert verdict.valid and set(verdict.claims) == {"name", "age_over_18"}
    assert document[0]["errors"] == {tool.MDOC_NAMESPACE: {"portrait": 0}}


def test_a_device_mac_instead_of_a_signature_verifies(card):
    reader, answer = present(wallet_for(card), device_auth="mac")

    device_response = reader.response(answer)
    verdict = checked(reader, device_response)
    response = tool.cbor_decode(device_response)

    assert verdict.valid
    assert "deviceMac" in response["documents"][0]["deviceSigned"]["deviceAuth"]


def test_an_ed25519_device_key_signs_with_eddsa(card):
    reader, answer = present(wallet_for(card, device_key=Ed25519PrivateKey.generate()))

    assert reader.verify(answer, trust_anchors=trust_anchors(), status_list=status_list()).valid


def test_a_response_replayed_into_a_new_session_fails_the_device_signature(card):
    wallet = wallet_for(card)
    first_reader, answer = present(wallet)
    recorded = first_reader.response(answer)  # a dishonest reader keeps the decrypted DeviceResponse
    # Later, the attacker plays the holder to another reader with an ephemeral key of their own.
    attacker_key = ec.generate_private_key(ec.SECP256R1())
    engagement = mdoc.device_engagement_build(attacker_key.public_key())
    reader = mdoc.MdocReader(mdoc.device_engagement_uri(engagement))
    establishment = tool.cbor_decode(reader.establishment(ASKED))
    transcript = mdoc.session_transcript_encode(engagement, establishment["eReaderKey"].value)
    sk_reader, sk_device = mdoc.session_keys(attacker_key, reader.private_key.public_key(), transcript)
    cipher = mdoc.SessionCipher(
        send_key=sk_device,
        receive_key=sk_reader,
        send_identifier=mdoc.DEVICE_IDENTIFIER,
        receive_identifier=mdoc.READER_IDENTIFIER,
    )

    verdict = reader.verify(
        mdoc.session_data(data=cipher.encrypt(recorded)), trust_anchors=trust_anchors(), status_list=status_list()
    )

    assert (verdict.valid, verdict.reason, verdict.claims) == (False, "device_auth_invalid", None)


def test_a_response_for_another_reader_does_not_decrypt(card):
    wallet = wallet_for(card)
    uri = wallet.engage()
    meant_for, eavesdropper = mdoc.MdocReader(uri), mdoc.MdocReader(uri)
    answer = wallet.respond(meant_for.establishment(ASKED))

    verdict = eavesdropper.verify(answer, trust_anchors=trust_anchors(), status_list=status_list())

    assert (verdict.valid, verdict.reason) == (False, "session_invalid")


def test_a_replayed_or_altered_session_message_is_refused(card):
    reader, answer = present(wallet_for(card))
    assert reader.verify(answer, trust_anchors=trust_anchors(), status_list=status_list()).valid
    altered = tool.cbor_decode(answer)
    altered["data"] = altered["data"][:-1] + bytes([altered["data"][-1] ^ 1])

    replayed = reader.verify(answer, trust_anchors=trust_anchors(), status_list=status_list())
    fresh_reader, answer = present(wallet_for(card))
    tampered = fresh_reader.verify(tool.cbor_encode(altered), trust_anchors=trust_anchors(), status_list=status_list())

    assert replayed.reason == "session_invalid"  # the counter moved on: the same ciphertext no longer opens
    assert tampered.reason == "session_invalid"


def test_a_swapped_element_value_fails_its_digest(card):
    wallet = wallet_for(card)
    items = wallet.issuer_signed["nameSpaces"][tool.MDOC_NAMESPACE]
    for index, wrapped in enumerate(items):
        item = tool.cbor_decode(wrapped.value)
        if item["elementIdentifier"] == "name":
            item["elementValue"] = "王芳"
            items[index] = tool.CborTag(24, tool.cbor_encode(item))
    reader, answer = present(wallet)

    verdict = reader.verify(answer, trust_anchors=trust_anchors(), status_list=status_list())

    assert (verdict.valid, verdict.reason) == (False, "disclosure_invalid")


def test_a_forged_chain_under_a_look_alike_iaca_is_untrusted(card):
    wallet = wallet_for(card)
    iaca_key, iaca = mdoc_pki.iaca_create(common_name="OneCard IACA", country="CN", issuer_url="https://evil.example")
    forged = mdoc_pki.document_signer_create(
        iaca_key=iaca_key, iaca_certificate=iaca, common_name="OneCard document signer", issuer_url="https://x"
    )
    forger_key = serialization.load_der_private_key(forged.key_der, None)
    auth = wallet.issuer_signed["issuerAuth"]
    auth[1] = {33: forged.certificate_der}
    auth[3] = es256_sign(forger_key, tool.cbor_encode(["Signature1", auth[0], b"", auth[2]]))
    reader, answer = present(wallet)

    verdict = reader.verify(answer, trust_anchors=trust_anchors(), status_list=status_list())
    trusting_the_forger = reader.verify(answer, trust_anchors=[iaca], status_list=status_list())

    assert (verdict.valid, verdict.reason) == (False, "untrusted_certificate")
    assert trusting_the_forger.reason == "session_invalid"  # the session moved on; the chain itself was the point


def test_a_reader_trusting_another_iaca_refuses_a_genuine_mdoc(card):
    _, stranger = mdoc_pki.iaca_create(common_name="Other IACA", country="CN", issuer_url="https://other.example")
    reader, answer = present(wallet_for(card))

    assert reader.verify(answer, trust_anchors=[stranger], status_list=status_list()).reason == "untrusted_certificate"


def test_the_document_signer_certificate_alone_is_no_trust_anchor(card):
    signer = x509.load_der_x509_certificate(settings.ONECARD_MDOC_SIGNER.certificate_der)
    reader, answer = present(wallet_for(card))

    assert reader.verify(answer, trust_anchors=[signer], status_list=status_list()).reason == "untrusted_certificate"


def test_an_expired_mso_is_refused(card):
    reader, answer = present(wallet_for(card))

    verdict = reader.verify(
        answer, trust_anchors=trust_anchors(), status_list=status_list(), now=time.time() + 31 * 24 * 3600
    )

    assert (verdict.valid, verdict.reason) == (False, "token_expired")


def test_an_expired_document_signer_certificate_is_refused(card):
    reader, answer = present(wallet_for(card))

    verdict = reader.verify(answer, trust_anchors=trust_anchors(), status_list=None, now=time.time() + 400 * 24 * 3600)

    assert (verdict.valid, verdict.reason) == (False, "certificate_expired")


def test_a_revoked_card_is_invalid(card):
    wallet = wallet_for(card)
    card_revoke(card=card, reason="suspected-fraud")
    reader, answer = present(wallet)

    verdict = reader.verify(answer, trust_anchors=trust_anchors(), status_list=status_list())

    assert (verdict.valid, verdict.status, verdict.reason) == (False, "invalid", "invalid")


def test_without_a_status_list_the_status_is_unknown_never_valid(card):
    reader, answer = present(wallet_for(card))

    verdict = reader.verify(answer, trust_anchors=trust_anchors(), status_list=None)

    assert (verdict.valid, verdict.status, verdict.reason) == (False, "unknown", "status_unknown")


def test_the_wallet_answers_a_request_it_cannot_decrypt_with_status_10(card):
    wallet = wallet_for(card)
    mdoc.MdocReader(wallet.engage())
    other = mdoc.MdocReader(
        mdoc.device_engagement_uri(mdoc.device_engagement_build(device_key_generate().public_key()))
    )

    answer = tool.cbor_decode(wallet.respond(other.establishment(ASKED)))

    assert answer == {"status": mdoc.STATUS_ENCRYPTION_ERROR}


def test_garbage_engagement_and_messages_are_refused_not_crashes(card):
    wallet = wallet_for(card)
    reader = mdoc.MdocReader(wallet.engage())

    with pytest.raises(tool.CredentialRefused):
        mdoc.MdocReader("mdoc:not-cbor!")
    assert reader.verify(b"\xff\x00", trust_anchors=trust_anchors(), status_list=None).reason == "session_invalid"
    assert tool.cbor_decode(wallet.respond(b"\xa0")) == {"status": mdoc.STATUS_DECODING_ERROR}
    assert reader.verify(reader.termination(), trust_anchors=trust_anchors(), status_list=None).reason == (
        "session_terminated"
    )


# ISO/IEC 18013-5 Annex D: the standard's own worked example, byte for byte.
def _private(hex_d: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(hex_d, 16), ec.SECP256R1())


def _annex_transcript() -> bytes:
    return tool.cbor_decode(bytes.fromhex(annex_d.SESSION_TRANSCRIPT_BYTES)).value


def test_annex_d_reader_session_encryption_reproduces_the_standard():
    reader_key = _private(annex_d.EPHEMERAL_READER_KEY_D)
    _, device_key = mdoc.device_engagement_parse(bytes.fromhex(annex_d.DEVICE_ENGAGEMENT))
    sk_reader, sk_device = mdoc.session_keys(reader_key, device_key, _annex_transcript())
    cipher = mdoc.SessionCipher(
        send_key=sk_reader,
        receive_key=sk_device,
        send_identifier=mdoc.READER_IDENTIFIER,
        receive_identifier=mdoc.DEVICE_IDENTIFIER,
    )
    establishment = tool.cbor_decode(bytes.fromhex(annex_d.SESSION_ESTABLISHMENT))

    encrypted = cipher.encrypt(bytes.fromhex(annex_d.DEVICE_REQUEST))
    rebuilt = tool.cbor_encode({"eReaderKey": establishment["eReaderKey"], "data": encrypted})
    session_data = tool.cbor_decode(bytes.fromhex(annex_d.SESSION_DATA))

    assert rebuilt.hex() == annex_d.SESSION_ESTABLISHMENT
    assert cipher.decrypt(session_data["data"]).hex() == annex_d.DEVICE_RESPONSE
    assert mdoc.session_data(status=mdoc.STATUS_TERMINATION).hex() == annex_d.SESSION_TERMINATION


def test_annex_d_device_session_encryption_reproduces_the_standard():
    device_key = _private(annex_d.EPHEMERAL_DEVICE_KEY_D)
    establishment = tool.cbor_decode(bytes.fromhex(annex_d.SESSION_ESTABLISHMENT))
    reader_key = mdoc.ec_public_key(tool.cbor_decode(establishment["eReaderKey"].value))
    sk_reader, sk_device = mdoc.session_keys(device_key, reader_key, _annex_transcript())
    cipher = mdoc.SessionCipher(
        send_key=sk_device,
        receive_key=sk_reader,
        send_identifier=mdoc.DEVICE_IDENTIFIER,
        receive_identifier=mdoc.READER_IDENTIFIER,
    )

    assert cipher.decrypt(establishment["data"]).hex() == annex_d.DEVICE_REQUEST
    assert mdoc.session_data(data=cipher.encrypt(bytes.fromhex(annex_d.DEVICE_RESPONSE))).hex() == annex_d.SESSION_DATA


def test_annex_d_device_mac_and_issuer_signature_verify_and_fail_in_another_session():
    document = tool.cbor_decode(bytes.fromhex(annex_d.DEVICE_RESPONSE))["documents"][0]
    auth = document["issuerSigned"]["issuerAuth"]
    mso = tool.mso_decode(auth[2])
    signer = x509.load_der_x509_certificate(bytes.fromhex(annex_d.DS_CERT))
    reader_key = _private(annex_d.EPHEMERAL_READER_KEY_D)
    device_key = mso["deviceKeyInfo"]["deviceKey"]

    tool.device_signed_check(
        document, device_key=device_key, session_transcript=_annex_transcript(), reader_private_key=reader_key
    )
    with pytest.raises(tool.CredentialRefused, match="device_auth_invalid"):
        tool.device_signed_check(
            document,
            device_key=device_key,
            session_transcript=_annex_transcript()[:-1] + b"\x00",
            reader_private_key=reader_key,
        )
    assert auth[1][33] == bytes.fromhex(annex_d.DS_CERT)
    assert tool.cose_signature_valid(
        -7, signer.public_key(), auth[3], tool.cbor_encode(["Signature1", auth[0], b"", auth[2]])
    )
    items = tool.issuer_items_check(document["issuerSigned"]["nameSpaces"], mso)
    assert items["org.iso.18013.5.1"]["family_name"] == "Doe"
    assert items["org.iso.18013.5.1"]["expiry_date"] == "2024-10-20"
    assert device_key[-2].hex() == annex_d.STATIC_DEVICE_KEY_X


def test_annex_d_is_refused_by_a_reader_that_does_not_trust_its_iaca():
    document = tool.cbor_decode(bytes.fromhex(annex_d.DEVICE_RESPONSE))["documents"][0]
    signed_at = datetime.datetime(2020, 10, 1, 14, tzinfo=datetime.UTC).timestamp()

    with pytest.raises(tool.CredentialRefused, match="untrusted_certificate"):
        tool.issuer_auth_check(document["issuerSigned"]["issuerAuth"], trust_anchors(), now=signed_at)


# The two programs, as a counter and a phone run them: files in, files out, the reader with no network.
WALLET_TOOL = Path(mdoc.__file__).with_name("onecard_wallet.py")
READER_TOOL = Path(mdoc.__file__)
SCRIPT_RUNNER = RUNNER.replace(
    "sys.argv = sys.argv[1:]\n",
    "sys.argv = sys.argv[1:]\nsys.path.insert(0, __import__('os').path.dirname(sys.argv[0]))\n",
)


def run(tool_path: Path, *args: str, cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-I", "-c", SCRIPT_RUNNER, str(tool_path), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.strip()


def test_the_wallet_and_reader_programs_run_a_session_offline(client, card, tmp_path):
    cache_fill(client, tmp_path)
    (tmp_path / tool.CACHE_IACA_FILE).write_bytes(client.get("/cards/mdoc/iaca.pem").content)
    code, jwk = run(WALLET_TOOL, "init", "--dir", "wallet", cwd=tmp_path)
    assert code == 0, jwk
    (tmp_path / "card.mdoc").write_bytes(
        card_credential_mdoc_issue(card=card, insured=True, holder_jwk=json.loads(jwk))
    )
    assert run(WALLET_TOOL, "store", "--dir", "wallet", "card.mdoc", cwd=tmp_path)[0] == 0

    _, qr = run(WALLET_TOOL, "engage", "--dir", "wallet", cwd=tmp_path)
    code, request = run(
        READER_TOOL, "request", "--state", "reader.json", "--elements", "name,portrait,insured", qr, cwd=tmp_path
    )
    assert code == 0, request
    (tmp_path / "request.txt").write_text(request)
    _, answer = run(WALLET_TOOL, "respond", "--dir", "wallet", "--refuse", "insured", "@request.txt", cwd=tmp_path)
    (tmp_path / "answer.txt").write_text(answer)
    code, result = run(READER_TOOL, "response", "--state", "reader.json", "--cache", ".", "@answer.txt", cwd=tmp_path)

    verdict = json.loads(result)
    assert code == 0, verdict
    assert (verdict["valid"], verdict["status"], verdict["claims"]["name"]) == (True, "valid", card.resident.full_name)
    assert "insured" not in verdict["claims"]
    assert Image.open(tmp_path / verdict["photo"]).format == "JPEG"
