"""OneCard's credentials checked by code that knows only the standards, not OneCard's.

A verifier outside OneCard has the credential, the issuer's published
metadata and the published Token Status List. Here that verifier is the
OpenWallet Foundation's SD-JWT library (`sd-jwt`, with `jwcrypto` for JOSE),
and a Token Status List reader written in this file from the draft
(draft-ietf-oauth-status-list: zlib, base64url, index 0 in the lowest bits).
Nothing below imports OneCard's verifier or its offline tool. The other way
round, a presentation made by the library's holder (with its key binding JWT)
is checked by OneCard's verify endpoint.
"""

import base64
import json
import time
import zlib

import pytest
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier

from cards.actions import card_revoke
from cards.views import STATUS_LIST_CACHE_SECONDS
from ledger.api import Actor, access_context
from tests.factories.core import agency_with_key
from tests.factories.portal import resident_with_account, sign_in
from tests.factories.services import api

pytestmark = pytest.mark.django_db


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _issuer_key_finder(client):
    """What a verifier does from the credential alone: iss -> <iss origin>/.well-known/jwt-vc-issuer -> kid."""

    def find(issuer: str, header: dict) -> JWK:
        metadata = client.get("/.well-known/jwt-vc-issuer").json()
        assert metadata["issuer"] == issuer
        [key] = [key for key in metadata["jwks"]["keys"] if key["kid"] == header["kid"]]
        return JWK(**key)

    return find


def _presented(sd_jwt: str, keep: set[str]) -> str:
    """Keep the disclosures of the claims in KEEP: RFC 9901 section 4, by hand."""
    issuer_jwt, *disclosures, _kb = sd_jwt.split("~")
    kept = [d for d in disclosures if json.loads(_unb64(d))[1] in keep]
    return "~".join([issuer_jwt, *kept, ""])


@pytest.fixture
def holder(client):
    user, resident, card, device = resident_with_account()
    sign_in(client, user, device)
    return client, resident, card


def test_the_sd_jwt_library_verifies_a_presentation_and_sees_only_the_disclosed_claims(holder):
    client, resident, _card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()

    verified = SDJWTVerifier(_presented(sd_jwt, {"name", "age_over_18"}), _issuer_key_finder(client))
    payload = verified.get_verified_payload()

    assert payload["name"] == resident.full_name and payload["age_over_18"] in (True, False)
    assert not {"birthdate", "age_over_60", "card_status", "insured", "portrait"} & set(payload)
    assert payload["vct"].startswith(payload["iss"]) and payload["status"]["status_list"]["uri"]


def test_the_sd_jwt_library_refuses_a_changed_disclosure(holder):
    client, _resident, _card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    issuer_jwt, *disclosures, _ = _presented(sd_jwt, {"name"}).split("~")
    salt, _name, value = json.loads(_unb64(disclosures[0]))
    forged = base64.urlsafe_b64encode(json.dumps([salt, "name", value + " Jr"]).encode()).rstrip(b"=").decode()

    payload = SDJWTVerifier("~".join([issuer_jwt, forged, ""]), _issuer_key_finder(client)).get_verified_payload()

    # The library drops a disclosure no digest matches (RFC 9901 says to reject the whole SD-JWT, as OneCard's
    # verifier does): either way, the changed name is never taken as issued.
    assert "name" not in payload


def test_the_sd_jwt_library_verifies_the_key_binding_of_a_credential_bound_to_a_p256_wallet_key(holder):
    client, _resident, _card = holder
    wallet_key = JWK.generate(kty="EC", crv="P-256")
    public = json.loads(wallet_key.export_public())
    sd_jwt = client.post("/me/card/credential.sd-jwt", {"holder_jwk": json.dumps(public)}).content.decode()

    presentation = SDJWTHolder(sd_jwt)
    presentation.create_presentation({"age_over_18": True}, nonce="n-42", aud="pharmacy-7", holder_key=wallet_key)
    verified = SDJWTVerifier(
        presentation.sd_jwt_presentation, _issuer_key_finder(client), expected_aud="pharmacy-7", expected_nonce="n-42"
    )

    assert set(verified.get_verified_payload()) >= {"age_over_18", "cnf"}
    with pytest.raises(ValueError, match="nonce"):
        SDJWTVerifier(
            presentation.sd_jwt_presentation, _issuer_key_finder(client), expected_aud="pharmacy-7", expected_nonce="x"
        )


def test_onecard_verifies_a_presentation_the_librarys_holder_made(holder):
    client, _resident, _card = holder
    wallet_key = JWK.generate(kty="EC", crv="P-256")
    sd_jwt = client.post("/me/card/credential.sd-jwt", {"holder_jwk": wallet_key.export_public()}).content.decode()
    presentation = SDJWTHolder(sd_jwt)
    presentation.create_presentation({"age_over_60": True}, nonce="n-7", aud="pharmacy-7", holder_key=wallet_key)
    _agency, key = agency_with_key(kind="pharmacy", scopes=["cards:verify"], purposes=["identity-verification"])

    body = (
        api(key, "identity-verification")
        .post(
            "/api/v1/cards/presentations/verify",
            {"presentation": presentation.sd_jwt_presentation, "aud": "pharmacy-7", "nonce": "n-7"},
            format="json",
        )
        .json()
    )

    assert (body["valid"], body["holder_bound"], set(body["claims"])) == (True, True, {"age_over_60"})


def _status_from_the_draft(client, reference: dict) -> int:
    """Read a status as the draft says: check the statuslist+jwt, inflate lst, take idx's bits (LSB first)."""
    token = client.get("/" + reference["uri"].split("://", 1)[1].split("/", 1)[1]).content.decode()
    header = json.loads(_unb64(token.split(".")[0]))
    assert header["typ"] == "statuslist+jwt"
    keys = client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]
    [key] = [key for key in keys if key["kid"] == header["kid"]]
    jws = JWS()
    jws.deserialize(token)
    jws.verify(JWK(**key))
    payload = json.loads(jws.payload)
    assert payload["sub"] == reference["uri"]
    bits, raw = payload["status_list"]["bits"], zlib.decompress(_unb64(payload["status_list"]["lst"]))
    per_byte, index = 8 // bits, reference["idx"]
    return (raw[index // per_byte] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)


def test_a_token_status_list_reader_written_from_the_draft_sees_a_revoked_card(holder):
    client, _resident, card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    reference = json.loads(_unb64(sd_jwt.split("~")[0].split(".")[1]))["status"]["status_list"]

    time.sleep(STATUS_LIST_CACHE_SECONDS + 0.1)  # a list published before this card existed has expired
    assert _status_from_the_draft(client, reference) == 0x00  # VALID
    with access_context(
        actor=Actor(type="staff", id="cw"), role="card-officer", channel="admin", purpose="card-administration"
    ):
        card_revoke(card=card, reason="suspected-fraud")
    time.sleep(STATUS_LIST_CACHE_SECONDS + 0.1)  # the published list is regenerated at most once a second
    assert _status_from_the_draft(client, reference) == 0x01  # INVALID
