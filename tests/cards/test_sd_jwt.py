"""SD-JWT VC of a card (RFC 9901, draft-ietf-oauth-sd-jwt-vc), checked with the offline verifier's code."""

import base64
import datetime
import hashlib
import io
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from cards import signing
from cards.actions import card_credential_sd_jwt_issue, card_revoke, card_suspend, resident_photo_set
from cards.credentials import disclosure_make, status_list_uri
from cards.errors import HolderKeyInvalid
from cards.tools import onecard_card_verify as tool
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.idnumbers import make_national_id

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issued(card, **kwargs) -> str:
    return card_credential_sd_jwt_issue(card=card, insured=True, **kwargs)


def present(sd_jwt: str, keep: set[str]) -> str:
    """Keep only the disclosures of the claims named in KEEP, as a holder does."""
    issuer_jwt, disclosures, _ = tool.sd_jwt_split(sd_jwt)
    kept = [d for d in disclosures if json.loads(unb64(d))[1] in keep]
    return issuer_jwt + "~" + "".join(d + "~" for d in kept)


def verify(presentation: str, **kwargs) -> tool.PresentationVerdict:
    kwargs.setdefault("status_list", None)
    return tool.sd_jwt_vc_verify(presentation, keys=signing.verification_keys(), **kwargs)


def payload_of(sd_jwt: str) -> dict:
    return json.loads(unb64(sd_jwt.split("~")[0].split(".")[1]))


def header_of(sd_jwt: str) -> dict:
    return json.loads(unb64(sd_jwt.split("~")[0].split(".")[0]))


class Wallet:
    """A holder's device: an Ed25519 key, and KB-JWTs over what it presents."""

    def __init__(self):
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}

    def bind(self, sd_jwt: str, *, aud="pharmacy-1", nonce="n-123", iat=None, sd_hash=None) -> str:
        claims = {
            "iat": int(time.time()) if iat is None else iat,
            "aud": aud,
            "nonce": nonce,
            "sd_hash": sd_hash or b64(hashlib.sha256(sd_jwt.encode()).digest()),
        }
        return sd_jwt + jwt.encode(claims, self.key, algorithm="EdDSA", headers={"typ": "kb+jwt"})


def test_the_issuer_jwt_has_the_sd_jwt_vc_header_and_frame(caseworker_context):
    card = CardFactory()

    sd_jwt = issued(card)

    assert header_of(sd_jwt)["typ"] == "dc+sd-jwt" and header_of(sd_jwt)["alg"] == "EdDSA"
    payload = payload_of(sd_jwt)
    assert payload["vct"] == payload["iss"] + tool.CARD_VCT_PATH and payload["iss"].startswith("http")
    assert payload["status"] == {"status_list": {"idx": card.status_index, "uri": status_list_uri()}}
    assert payload["_sd_alg"] == "sha-256" and payload["_sd"] == sorted(payload["_sd"])
    assert "cnf" not in payload
    # No personal data in clear in the signed part: only digests.
    assert card.resident.full_name not in json.dumps(payload, ensure_ascii=False)
    assert sd_jwt.endswith("~")


def test_each_digest_is_sha256_of_the_disclosure_text(caseworker_context):
    sd_jwt = issued(CardFactory())

    _, disclosures, kb = tool.sd_jwt_split(sd_jwt)

    assert kb is None
    for disclosure in disclosures:
        salt, name, _value = json.loads(unb64(disclosure))
        assert len(unb64(salt)) >= 16
        assert b64(hashlib.sha256(disclosure.encode("ascii")).digest()) in payload_of(sd_jwt)["_sd"]


def test_all_disclosures_verify_and_give_every_claim(caseworker_context):
    card = CardFactory(resident=ResidentFactory(national_id_value=make_national_id(birth="19400101", sequence=7)))
    resident_photo_set(resident=card.resident, data=_jpeg())

    verdict = verify(issued(card))

    assert verdict.reason == "status_unknown" and verdict.status == "unknown"  # no list given: never "valid"
    assert set(verdict.claims) == {
        "name",
        "birthdate",
        "age_over_18",
        "age_over_60",
        "card_number",
        "card_status",
        "insured",
        "portrait",
    }
    assert verdict.claims["birthdate"] == "1940-01-01" and verdict.claims["age_over_60"] is True
    assert verdict.claims["portrait"].startswith("data:image/jpeg;base64,")


def test_undisclosed_claims_are_absent(caseworker_context):
    card = CardFactory()

    verdict = verify(present(issued(card), {"age_over_18", "card_status"}))

    assert set(verdict.claims) == {"age_over_18", "card_status"}
    assert verdict.claims["age_over_18"] is True


def test_a_tampered_disclosure_fails(caseworker_context):
    sd_jwt = present(issued(CardFactory()), {"age_over_18"})
    issuer_jwt, (disclosure,), _ = tool.sd_jwt_split(sd_jwt)
    salt, name, _value = json.loads(unb64(disclosure))
    forged = b64(json.dumps([salt, name, False]).encode())

    verdict = verify(f"{issuer_jwt}~{forged}~")

    assert (verdict.valid, verdict.reason, verdict.claims) == (False, "disclosure_invalid", None)


def test_an_added_disclosure_fails(caseworker_context):
    sd_jwt = present(issued(CardFactory()), {"age_over_18"})

    verdict = verify(sd_jwt + disclosure_make("age_over_60", True) + "~")

    assert (verdict.valid, verdict.reason) == (False, "disclosure_invalid")


def test_the_same_disclosure_twice_fails(caseworker_context):
    sd_jwt = present(issued(CardFactory()), {"age_over_18"})
    disclosure = tool.sd_jwt_split(sd_jwt)[1][0]

    assert verify(sd_jwt + disclosure + "~").reason == "disclosure_invalid"


def test_a_disclosure_of_a_reserved_or_clashing_name_fails():
    payload_reserved = {"_sd": [tool.sd_digest(d := disclosure_make("_sd", ["x"]))]}
    with pytest.raises(tool.CredentialRefused):
        tool.sd_jwt_disclose(payload_reserved, [d])
    payload_clash = {"iss": "a", "_sd": [tool.sd_digest(d := disclosure_make("iss", "b"))]}
    with pytest.raises(tool.CredentialRefused):
        tool.sd_jwt_disclose(payload_clash, [d])


def test_a_digest_listed_twice_fails():
    disclosure = disclosure_make("name", "x")
    payload = {"_sd": [tool.sd_digest(disclosure), tool.sd_digest(disclosure)]}

    with pytest.raises(tool.CredentialRefused):
        tool.sd_jwt_disclose(payload, [disclosure])


def test_an_unknown_sd_alg_fails():
    disclosure = disclosure_make("name", "x")

    with pytest.raises(tool.CredentialRefused) as refused:
        tool.sd_jwt_disclose({"_sd": [tool.sd_digest(disclosure)], "_sd_alg": "md5"}, [disclosure])

    assert refused.value.reason == "unsupported_algorithm"


def test_nested_and_array_disclosures_are_processed():
    inner = disclosure_make("region", "Beijing")
    element = tool.b64url_encode(json.dumps(["c2FsdHNhbHRzYWx0", "FR"]).encode())
    payload = {"address": {"_sd": [tool.sd_digest(inner)]}, "nationalities": [{"...": tool.sd_digest(element)}, "DE"]}

    assert tool.sd_jwt_disclose(payload, [inner, element]) == {
        "address": {"region": "Beijing"},
        "nationalities": ["FR", "DE"],
    }
    assert tool.sd_jwt_disclose(payload, []) == {"address": {}, "nationalities": ["DE"]}


def test_a_changed_issuer_signed_part_fails(caseworker_context):
    sd_jwt = issued(CardFactory())
    header, payload, signature = sd_jwt.split("~")[0].split(".")
    claims = json.loads(unb64(payload))
    claims["exp"] += 10 * 365 * 86400
    forged = ".".join([header, b64(json.dumps(claims).encode()), signature])

    assert verify(forged + sd_jwt[sd_jwt.index("~") :]).reason == "bad_signature"


def test_holder_binding_with_a_key_binding_jwt_verifies(caseworker_context):
    wallet = Wallet()
    sd_jwt = issued(CardFactory(), holder_jwk=wallet.jwk)
    assert payload_of(sd_jwt)["cnf"] == {"jwk": wallet.jwk}

    verdict = verify(wallet.bind(present(sd_jwt, {"age_over_18"})), aud="pharmacy-1", nonce="n-123")

    assert verdict.holder_bound is True and verdict.claims == {"age_over_18": True}


def test_a_bound_credential_without_key_binding_fails(caseworker_context):
    wallet = Wallet()
    sd_jwt = issued(CardFactory(), holder_jwk=wallet.jwk)

    assert verify(present(sd_jwt, {"age_over_18"})).reason == "holder_binding_missing"


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "another-verifier"},
        {"nonce": "replayed"},
        {"iat": int(time.time()) - 3600},
        {"sd_hash": "AAAA"},
    ],
)
def test_a_wrong_key_binding_fails(caseworker_context, change):
    wallet = Wallet()
    sd_jwt = issued(CardFactory(), holder_jwk=wallet.jwk)

    presentation = wallet.bind(present(sd_jwt, {"age_over_18"}), **change)

    assert verify(presentation, aud="pharmacy-1", nonce="n-123").reason == "holder_binding_invalid"


def test_a_key_binding_by_another_key_fails(caseworker_context):
    sd_jwt = issued(CardFactory(), holder_jwk=Wallet().jwk)

    assert verify(Wallet().bind(present(sd_jwt, {"age_over_18"}))).reason == "holder_binding_invalid"


def test_key_binding_covers_the_disclosures_presented(caseworker_context):
    wallet = Wallet()
    sd_jwt = issued(CardFactory(), holder_jwk=wallet.jwk)
    bound = wallet.bind(present(sd_jwt, {"age_over_18"}))
    extra = [d for d in tool.sd_jwt_split(sd_jwt)[1] if json.loads(unb64(d))[1] == "name"][0]
    issuer_jwt, disclosures, kb = tool.sd_jwt_split(bound)

    assert verify(f"{issuer_jwt}~{disclosures[0]}~{extra}~{kb}").reason == "holder_binding_invalid"


def test_a_private_or_unsupported_holder_key_is_refused(caseworker_context):
    with pytest.raises(HolderKeyInvalid):
        issued(CardFactory(), holder_jwk={"kty": "RSA", "n": "x", "e": "AQAB"})
    private = dict(Wallet().jwk, d="secret")
    sd_jwt = issued(CardFactory(), holder_jwk=private)
    assert "d" not in payload_of(sd_jwt)["cnf"]["jwk"]


def test_a_suspended_card_gets_no_credential(caseworker_context):
    from cards.errors import CardTransitionRefused

    card = card_suspend(card=CardFactory(), reason="suspected-fraud")

    with pytest.raises(CardTransitionRefused):
        issued(card)


def test_the_status_list_says_revoked_and_a_stale_one_says_unknown(caseworker_context):
    from cards.actions import token_status_list_token

    card = CardFactory()
    sd_jwt = issued(card)
    card_revoke(card=card, reason="suspected-fraud")
    keys = signing.verification_keys()
    status_list = tool.token_status_list_load(token_status_list_token(), keys)

    revoked = verify(sd_jwt, status_list=status_list)
    stale = verify(sd_jwt, status_list=status_list, now=time.time() + 25 * 3600, max_status_age_hours=24)

    assert (revoked.valid, revoked.status, revoked.reason) == (False, "invalid", "invalid")
    assert (stale.valid, stale.status, stale.reason) == (False, "unknown", "status_unknown")
    assert stale.status_detail == "status unknown: list older than 24 hours"


def test_the_sd_jwt_vc_expires_with_the_card_or_in_30_days(caseworker_context):
    card = CardFactory()

    payload = payload_of(issued(card))

    assert payload["exp"] - payload["iat"] <= 30 * 86400
    assert datetime.datetime.fromtimestamp(payload["exp"], tz=datetime.UTC).date() <= card.expires_on


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), "gray").save(buffer, format="JPEG")
    return buffer.getvalue()
