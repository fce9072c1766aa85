"""The partner endpoint that checks an mdoc DeviceResponse a counter read in a proximity session."""

import io

import pytest
from PIL import Image

from cards.actions import card_credential_mdoc_issue, card_revoke, resident_photo_set
from cards.tools import onecard_card_verify as tool
from cards.tools import onecard_mdoc as mdoc
from cards.tools.onecard_wallet import MdocWallet, device_key_generate, public_jwk
from ledger.api import subject_pseudonym
from ledger.models import PendingEntry
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.factories.services import api

pytestmark = pytest.mark.django_db


@pytest.fixture
def verifier():
    _agency, key = agency_with_key(kind="pharmacy", scopes=["cards:verify"], purposes=["identity-verification"])
    return api(key, "identity-verification")


@pytest.fixture
def counter():
    """A pharmacy counter, whose key may see photos (for face-to-face identification)."""
    _agency, key = agency_with_key(
        kind="pharmacy", scopes=["cards:verify", "cards:photo"], purposes=["face-to-face-identification"]
    )
    return api(key, "face-to-face-identification")


def session(card, asked=("name", "portrait"), **respond) -> tuple[bytes, bytes]:
    """Run a session with CARD's wallet; return (the decrypted DeviceResponse, the SessionTranscript)."""
    key = device_key_generate()
    wallet = MdocWallet(
        device_key=key, document=card_credential_mdoc_issue(card=card, insured=True, holder_jwk=public_jwk(key))
    )
    reader = mdoc.MdocReader(wallet.engage())
    answer = wallet.respond(reader.establishment(dict.fromkeys(asked, False)), **respond)
    return reader.response(answer), reader.session_transcript


def post(verifier, device_response: bytes, session_transcript: bytes):
    return verifier.post(
        "/api/v1/cards/mdoc/verify",
        {
            "device_response": tool.b64url_encode(device_response),
            "session_transcript": tool.b64url_encode(session_transcript),
        },
        format="json",
    )


def test_a_counter_checks_a_device_response_and_sees_the_photo(counter, caseworker_context):
    card = CardFactory()
    image = io.BytesIO()
    Image.new("RGB", (480, 640), (1, 2, 3)).save(image, format="JPEG")
    resident_photo_set(resident=card.resident, data=image.getvalue())

    response = post(counter, *session(card))

    body = response.json()
    assert response.status_code == 200, body
    assert (body["valid"], body["format"], body["status"], body["holder_bound"]) == (
        True,
        "mdoc-device-response",
        "valid",
        True,
    )
    assert body["claims"]["name"] == card.resident.full_name
    assert body["claims"]["portrait"].startswith("data:image/jpeg;base64,/9j/")
    entry = PendingEntry.objects.filter(action="cards.credentials.verify").last()
    assert entry.object == f"card:{card.pk} v1 mdoc valid name,portrait"


def test_a_response_sent_with_another_sessions_transcript_is_refused(verifier, caseworker_context):
    card = CardFactory()
    device_response, _ = session(card)
    _, other_transcript = session(card)

    body = post(verifier, device_response, other_transcript).json()

    assert (body["valid"], body["reason"], body["claims"]) == (False, "device_auth_invalid", None)
    assert PendingEntry.objects.filter(
        action="cards.credentials.verify", subject=subject_pseudonym("cards:unresolved-credential")
    ).exists()


def test_the_status_is_the_cards_status_now(verifier, caseworker_context):
    card = CardFactory()
    device_response, transcript = session(card)
    card_revoke(card=card, reason="suspected-fraud")

    body = post(verifier, device_response, transcript).json()

    assert (body["valid"], body["status"], body["reason"]) == (False, "revoked", "revoked")


def test_a_device_mac_cannot_be_checked_online(verifier, caseworker_context):
    body = post(verifier, *session(CardFactory(), device_auth="mac")).json()

    assert (body["valid"], body["reason"]) == (False, "device_auth_invalid")


def test_garbage_is_a_reason_or_a_problem_not_a_500(verifier):
    body = post(verifier, b"\xff\x00", b"\x80").json()
    bad = verifier.post("/api/v1/cards/mdoc/verify", {"device_response": "!!", "session_transcript": ""}, format="json")

    assert (body["valid"], body["reason"]) == (False, "malformed")
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/problem+json")
