"""OpenID for Verifiable Credential Issuance 1.0: the pre-authorized code flow from the portal to a wallet's key."""

import json
import time
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone

from cards import signing
from cards.actions import card_suspend, token_status_list_token
from cards.credentials import SELECTIVELY_DISCLOSABLE, issuer_url
from cards.models import CredentialOffer
from cards.tools import onecard_card_verify as tool
from cards.tools import onecard_mdoc as mdoc
from cards.tools.onecard_wallet import MdocWallet, issued_mdoc_document, oid4vci_proof, public_jwk
from ledger.api import Actor, access_context
from ledger.models import PendingEntry
from tests.cards.test_sd_jwt import Wallet, present
from tests.factories.portal import resident_with_account, sign_in

pytestmark = pytest.mark.django_db
GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def offer_code(client) -> str:
    """Sign a resident in, have them ask for a wallet offer, and return the pre-authorized code from its URI."""
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    response = client.post("/me/card/wallet/")
    uri = response.context["offer_uri"]
    assert uri.startswith("openid-credential-offer://?credential_offer=")
    offer = json.loads(urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["credential_offer"][0])
    assert offer["credential_issuer"] == issuer_url()
    assert offer["credential_configuration_ids"] == ["onecard_sd_jwt_vc", "onecard_mdoc"]
    client.logout()  # the wallet is another device: nothing below uses the resident's session
    return offer["grants"][GRANT]["pre-authorized_code"]


def access_token(client, code: str) -> str:
    response = client.post("/oid4vci/token", {"grant_type": GRANT, "pre-authorized_code": code})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert response["Cache-Control"] == "no-store"
    return body["access_token"]


def c_nonce(client) -> str:
    return client.post("/oid4vci/nonce").json()["c_nonce"]


def request_credential(client, token: str, proof: str, configuration: str = "onecard_sd_jwt_vc"):
    return client.post(
        "/oid4vci/credential",
        {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_wallet_gets_an_sd_jwt_vc_bound_to_its_key_and_presents_it(client):
    wallet = Wallet()
    token = access_token(client, offer_code(client))

    response = request_credential(
        client, token, oid4vci_proof(wallet.key, audience=issuer_url(), nonce=c_nonce(client))
    )

    assert response.status_code == 200, response.json()
    sd_jwt = response.json()["credentials"][0]["credential"]
    presentation = wallet.bind(present(sd_jwt, {"age_over_18"}), aud="pharmacy-1", nonce="n-1")
    verdict = tool.sd_jwt_vc_verify(
        presentation, keys=signing.verification_keys(), status_list=None, aud="pharmacy-1", nonce="n-1"
    )
    assert (verdict.reason, verdict.holder_bound, verdict.claims) == ("status_unknown", True, {"age_over_18": True})
    entry = PendingEntry.objects.filter(action="cards.credentials.sd_jwt.issue").last()
    assert entry.object.endswith("bound oid4vci")
    assert PendingEntry.objects.filter(action="cards.credentials.offer.create").count() == 1


def test_the_wallet_gets_an_mdoc_and_presents_it_in_a_proximity_session(client):
    device_key = ec.generate_private_key(ec.SECP256R1())
    token = access_token(client, offer_code(client))

    first = request_credential(
        client, token, oid4vci_proof(device_key, audience=issuer_url(), nonce=c_nonce(client)), "onecard_mdoc"
    )
    second = request_credential(
        client, token, oid4vci_proof(device_key, audience=issuer_url(), nonce=c_nonce(client)), "onecard_sd_jwt_vc"
    )

    assert (first.status_code, second.status_code) == (200, 200)
    wallet = MdocWallet(
        device_key=device_key, document=issued_mdoc_document(first.json()["credentials"][0]["credential"])
    )
    reader = mdoc.MdocReader(wallet.engage())
    answer = wallet.respond(reader.establishment({"name": False, "age_over_18": False}))
    iaca = x509.load_der_x509_certificate(settings.ONECARD_MDOC_SIGNER.iaca_certificate_der)
    status_list = tool.token_status_list_load(token_status_list_token(), signing.verification_keys())
    verdict = reader.verify(answer, trust_anchors=[iaca], status_list=status_list)
    assert (verdict.valid, set(verdict.claims)) == (True, {"name", "age_over_18"})
    assert PendingEntry.objects.filter(action="cards.credentials.mdoc.issue", object__endswith="oid4vci").exists()


def test_a_reused_pre_authorized_code_is_refused_and_withdraws_the_first_token(client):
    code = offer_code(client)
    token = access_token(client, code)

    again = client.post("/oid4vci/token", {"grant_type": GRANT, "pre-authorized_code": code})
    after = request_credential(
        client, token, oid4vci_proof(Ed25519PrivateKey.generate(), audience=issuer_url(), nonce=c_nonce(client))
    )

    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert after.status_code == 401 and after.json()["error"] == "invalid_token"
    assert after["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_an_expired_offer_is_refused(client):
    code = offer_code(client)
    CredentialOffer.objects.update(expires_at=timezone.now())  # five minutes went by

    response = client.post("/oid4vci/token", {"grant_type": GRANT, "pre-authorized_code": code})

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "the pre-authorized code has expired"}


def test_an_unknown_code_and_another_grant_type_are_refused(client):
    unknown = client.post("/oid4vci/token", {"grant_type": GRANT, "pre-authorized_code": "guess"})
    other = client.post("/oid4vci/token", {"grant_type": "authorization_code", "code": "x"})

    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_grant")
    assert (other.status_code, other.json()["error"]) == (400, "unsupported_grant_type")


def test_a_nonce_the_issuer_never_gave_is_refused(client):
    token = access_token(client, offer_code(client))

    response = request_credential(
        client, token, oid4vci_proof(Ed25519PrivateKey.generate(), audience=issuer_url(), nonce="made-up")
    )

    assert (response.status_code, response.json()["error"]) == (400, "invalid_nonce")
    assert not PendingEntry.objects.filter(action="cards.credentials.sd_jwt.issue").exists()


def test_a_replayed_proof_and_nonce_are_refused(client):
    token = access_token(client, offer_code(client))
    proof = oid4vci_proof(Ed25519PrivateKey.generate(), audience=issuer_url(), nonce=c_nonce(client))
    assert request_credential(client, token, proof).status_code == 200

    replayed = request_credential(client, token, proof)

    assert (replayed.status_code, replayed.json()["error"]) == (400, "invalid_nonce")


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(client):
    token = access_token(client, offer_code(client))
    claimed, signer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    genuine = oid4vci_proof(signer, audience=issuer_url(), nonce=c_nonce(client))
    header, payload, signature = genuine.split(".")
    lying_header = tool.b64url_encode(
        json.dumps({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": public_jwk(claimed)}).encode()
    )
    forged = lying_header + "." + payload + "." + tool.b64url_encode(signer.sign(f"{lying_header}.{payload}".encode()))

    response = request_credential(client, token, forged)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_proof")


def test_a_proof_for_another_issuer_or_too_old_is_refused(client):
    token = access_token(client, offer_code(client))
    key = Ed25519PrivateKey.generate()

    elsewhere = request_credential(
        client, token, oid4vci_proof(key, audience="https://other.example", nonce=c_nonce(client))
    )
    old = request_credential(
        client, token, oid4vci_proof(key, audience=issuer_url(), nonce=c_nonce(client), now=time.time() - 600)
    )

    assert (elsewhere.status_code, elsewhere.json()["error"]) == (400, "invalid_proof")
    assert (old.status_code, old.json()["error"]) == (400, "invalid_proof")


def test_a_request_without_a_token_or_for_an_unknown_configuration_is_refused(client):
    token = access_token(client, offer_code(client))
    proof = oid4vci_proof(Ed25519PrivateKey.generate(), audience=issuer_url(), nonce=c_nonce(client))

    anonymous = client.post("/oid4vci/credential", {}, content_type="application/json")
    unknown = request_credential(client, token, proof, configuration="org.iso.18013.5.1.mDL")
    garbage = client.post(
        "/oid4vci/credential", "not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_token")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "unknown_credential_configuration")
    assert (garbage.status_code, garbage.json()["error"]) == (400, "invalid_credential_request")


def test_a_card_suspended_after_the_offer_gets_no_credential(client):
    token = access_token(client, offer_code(client))
    with access_context(
        actor=Actor(type="staff", id="cw"), role="card-officer", channel="admin", purpose="card-administration"
    ):
        card_suspend(card=CredentialOffer.objects.get().card, reason="suspected-fraud")

    response = request_credential(
        client, token, oid4vci_proof(Ed25519PrivateKey.generate(), audience=issuer_url(), nonce=c_nonce(client))
    )

    assert (response.status_code, response.json()["error"]) == (400, "credential_request_denied")


def test_the_metadata_names_the_endpoints_and_every_claim_in_both_languages(client):
    metadata = client.get("/.well-known/openid-credential-issuer").json()
    oauth = client.get("/.well-known/oauth-authorization-server").json()

    assert metadata["credential_issuer"] == issuer_url() == oauth["issuer"]
    assert metadata["credential_endpoint"] == issuer_url() + "/oid4vci/credential"
    assert metadata["nonce_endpoint"] == issuer_url() + "/oid4vci/nonce"
    assert oauth["token_endpoint"] == issuer_url() + "/oid4vci/token"
    sd_jwt = metadata["credential_configurations_supported"]["onecard_sd_jwt_vc"]
    assert (sd_jwt["format"], sd_jwt["vct"]) == ("dc+sd-jwt", issuer_url() + tool.CARD_VCT_PATH)
    assert [claim["path"] for claim in sd_jwt["credential_metadata"]["claims"]] == [
        [n] for n in SELECTIVELY_DISCLOSABLE
    ]
    mdoc_configuration = metadata["credential_configurations_supported"]["onecard_mdoc"]
    assert (mdoc_configuration["format"], mdoc_configuration["doctype"]) == ("mso_mdoc", tool.MDOC_DOCTYPE)
    for claim in sd_jwt["credential_metadata"]["claims"]:
        assert {display["locale"] for display in claim["display"]} == {"en", "zh-Hans"}


def test_the_offer_page_speaks_chinese_and_never_offers_a_blocked_card(client):
    user, _resident, card, device = resident_with_account(status="suspended")
    sign_in(client, user, device)

    page = client.post("/me/card/wallet/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert page.status_code == 200 and page.context["offer_uri"] is None
    assert "只有已激活的卡片才能添加到钱包应用" in page.content.decode()
    assert not CredentialOffer.objects.exists()
