"""The SD-JWT VC download in the portal and the partner endpoint that verifies a presentation."""

import base64
import json

import pytest

from cards.actions import card_suspend
from cards.tools import onecard_card_verify as tool
from ledger.api import Actor, access_context
from ledger.models import PendingEntry
from tests.cards.test_sd_jwt import Wallet, present
from tests.factories.core import agency_with_key
from tests.factories.portal import resident_with_account, sign_in
from tests.factories.services import api

pytestmark = pytest.mark.django_db


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def verifier():
    _agency, key = agency_with_key(kind="pharmacy", scopes=["cards:verify"], purposes=["identity-verification"])
    return api(key, "identity-verification")


def test_a_resident_downloads_their_sd_jwt_vc(client):
    user, resident, card, device = resident_with_account()
    sign_in(client, user, device)

    response = client.get("/me/card/credential.sd-jwt")

    assert response.status_code == 200 and response["Content-Type"] == "application/dc+sd-jwt"
    _jwt, disclosures, kb = tool.sd_jwt_split(response.content.decode())
    names = {json.loads(unb64(d))[1] for d in disclosures}
    assert {"name", "birthdate", "age_over_18", "age_over_60", "card_status", "insured"} <= names
    assert kb is None
    assert PendingEntry.objects.filter(action="cards.credentials.sd_jwt.issue", object__endswith="unbound").exists()


def test_a_wallet_gets_a_credential_bound_to_its_key(client):
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    wallet = Wallet()

    response = client.post("/me/card/credential.sd-jwt", {"holder_jwk": json.dumps(wallet.jwk)})

    payload = json.loads(unb64(response.content.decode().split(".")[1]))
    assert payload["cnf"] == {"jwk": wallet.jwk}


def test_a_bad_wallet_key_gets_a_clear_error(client):
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)

    response = client.post("/me/card/credential.sd-jwt", {"holder_jwk": '{"kty": "oct", "k": "c2VjcmV0"}'})

    assert response.status_code == 400 and b"Ed25519" in response.content


def test_the_api_reports_exactly_the_disclosed_claims(client, verifier):
    user, resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()

    response = verifier.post(
        "/api/v1/cards/presentations/verify", {"presentation": present(sd_jwt, {"age_over_18"})}, format="json"
    )

    body = response.json()
    assert response.status_code == 200, body
    assert (body["valid"], body["status"], body["claims"]) == (True, "valid", {"age_over_18": True})
    entry = PendingEntry.objects.filter(action="cards.credentials.verify").last()
    assert entry.object.endswith("sd-jwt-vc valid age_over_18")


def test_the_api_says_suspended_for_a_suspended_card(client, verifier):
    user, _resident, card, device = resident_with_account()
    sign_in(client, user, device)
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    with access_context(
        actor=Actor(type="staff", id="cw"), role="card-officer", channel="admin", purpose="card-administration"
    ):
        card_suspend(card=card, reason="suspected-fraud")

    body = verifier.post("/api/v1/cards/presentations/verify", {"presentation": sd_jwt}, format="json").json()

    assert (body["valid"], body["status"]) == (False, "suspended")


def test_the_api_refuses_an_added_disclosure(client, verifier):
    from cards.credentials import disclosure_make

    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()

    body = verifier.post(
        "/api/v1/cards/presentations/verify",
        {"presentation": present(sd_jwt, set()) + disclosure_make("age_over_60", True) + "~"},
        format="json",
    ).json()

    assert (body["valid"], body["reason"], body["claims"]) == (False, "disclosure_invalid", None)


def test_the_api_refuses_garbage_with_a_reason_not_a_500(verifier):
    body = verifier.post("/api/v1/cards/presentations/verify", {"presentation": "a~b~"}, format="json").json()

    assert (body["valid"], body["reason"]) == (False, "malformed")


def test_a_resident_downloads_their_mdoc_bound_to_the_wallet_device_key(client):
    from cards.tools.onecard_wallet import device_key_generate, public_jwk

    user, _resident, card, device = resident_with_account()
    sign_in(client, user, device)

    response = client.post("/me/card/credential.mdoc", {"holder_jwk": json.dumps(public_jwk(device_key_generate()))})

    assert response.status_code == 200 and response["Content-Type"] == "application/cbor"
    document = tool.cbor_decode(response.content)
    assert document["docType"] == tool.MDOC_DOCTYPE
    assert PendingEntry.objects.filter(action="cards.credentials.mdoc.issue").exists()


def test_an_mdoc_without_a_device_key_is_refused_in_the_residents_language(client):
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)

    english = client.get("/me/card/credential.mdoc")
    chinese = client.get("/me/card/credential.mdoc", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert english.status_code == 400 and b"device key" in english.content
    assert chinese.status_code == 400 and "设备密钥" in chinese.content.decode()
    assert not PendingEntry.objects.filter(action="cards.credentials.mdoc.issue").exists()


def _bound_presentation(client) -> str:
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    wallet = Wallet()
    sd_jwt = client.post("/me/card/credential.sd-jwt", {"holder_jwk": json.dumps(wallet.jwk)}).content.decode()
    return wallet.bind(present(sd_jwt, {"age_over_18"}), aud="pharmacy-1", nonce="n-123")


def _verify(verifier, presentation: str, **expected) -> dict:
    return verifier.post(
        "/api/v1/cards/presentations/verify", {"presentation": presentation, **expected}, format="json"
    ).json()


def test_a_bound_presentation_is_refused_unless_the_verifier_names_its_aud_and_nonce(client, verifier):
    presentation = _bound_presentation(client)

    unchecked = _verify(verifier, presentation)
    wrong = _verify(verifier, presentation, aud="pharmacy-1", nonce="n-999")

    assert (unchecked["valid"], unchecked["reason"], unchecked["claims"]) == (False, "holder_binding_unchecked", None)
    assert (wrong["valid"], wrong["reason"]) == (False, "holder_binding_invalid")


def test_a_bound_presentation_replayed_to_the_endpoint_is_refused(client, verifier):
    presentation = _bound_presentation(client)

    first = _verify(verifier, presentation, aud="pharmacy-1", nonce="n-123")
    # Whoever captured it (or the verifier itself) sends the same presentation again, with the same nonce.
    again = _verify(verifier, presentation, aud="pharmacy-1", nonce="n-123")

    assert (first["valid"], first["holder_bound"], first["claims"]) == (True, True, {"age_over_18": True})
    assert (again["valid"], again["reason"], again["claims"]) == (False, "holder_binding_replayed", None)
    assert PendingEntry.objects.filter(action="cards.credentials.verify", object__endswith="replayed").count() == 1
