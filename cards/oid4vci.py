"""OpenID for Verifiable Credential Issuance 1.0, issuer side: metadata, the credential offer and key proofs.

Pure functions: the writes (offers, tokens, nonces, issuing) are actions in
cards/actions.py, and the HTTP endpoints live in portal/web/oid4vci.py because
a credential carries the resident's insurance cover, which services know.
"""

import json
import time
import urllib.parse

from django.urls import reverse

from cards.credentials import CARD_DISPLAY, CLAIM_LABELS, SELECTIVELY_DISCLOSABLE, card_vct, issuer_url
from cards.tools import onecard_card_verify as offline

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYPE = "openid4vci-proof+jwt"
OFFER_URI_SCHEME = "openid-credential-offer://"
SD_JWT_CONFIGURATION = "onecard_sd_jwt_vc"
MDOC_CONFIGURATION = "onecard_mdoc"
# A key proof older than this, or dated more than the verifier's leeway ahead, is refused.
PROOF_MAX_AGE_SECONDS = 300
PROOF_SIGNING_ALGORITHMS = ["ES256", "EdDSA"]


def endpoint(name: str) -> str:
    """Return the absolute URL of one of the issuer's endpoints."""
    return issuer_url() + reverse(name)


def _claims_metadata(*, mdoc: bool) -> list[dict]:
    claims = []
    for name in SELECTIVELY_DISCLOSABLE:
        english, chinese = CLAIM_LABELS[name]
        element = "birth_date" if (mdoc and name == "birthdate") else name
        path = [offline.MDOC_NAMESPACE, element] if mdoc else [element]
        claims.append(
            {"path": path, "display": [{"name": english, "locale": "en"}, {"name": chinese, "locale": "zh-Hans"}]}
        )
    return claims


def credential_issuer_metadata() -> dict:
    """Return the Credential Issuer Metadata served at /.well-known/openid-credential-issuer (section 12.2)."""
    proof_types = {"jwt": {"proof_signing_alg_values_supported": PROOF_SIGNING_ALGORITHMS}}
    return {
        "credential_issuer": issuer_url(),
        "credential_endpoint": endpoint("portal:oid4vci-credential"),
        "nonce_endpoint": endpoint("portal:oid4vci-nonce"),
        "display": [{"name": "OneCard", "locale": "en"}, {"name": "一卡通", "locale": "zh-Hans"}],
        "credential_configurations_supported": {
            SD_JWT_CONFIGURATION: {
                "format": "dc+sd-jwt",
                "vct": card_vct(),
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["EdDSA"],
                "proof_types_supported": proof_types,
                "credential_metadata": {"display": CARD_DISPLAY, "claims": _claims_metadata(mdoc=False)},
            },
            MDOC_CONFIGURATION: {
                "format": "mso_mdoc",
                "doctype": offline.MDOC_DOCTYPE,
                "cryptographic_binding_methods_supported": ["cose_key"],
                "credential_signing_alg_values_supported": [offline.COSE_ALG_ES256],
                "proof_types_supported": proof_types,
                "credential_metadata": {"display": CARD_DISPLAY, "claims": _claims_metadata(mdoc=True)},
            },
        },
    }


def authorization_server_metadata() -> dict:
    """Return the OAuth Authorization Server Metadata (RFC 8414) of the pre-authorized code flow."""
    return {
        "issuer": issuer_url(),
        "token_endpoint": endpoint("portal:oid4vci-token"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
    }


def credential_offer(code: str) -> dict:
    """Return the Credential Offer (section 4.1.1) of a pre-authorized code: both configurations, no tx_code."""
    return {
        "credential_issuer": issuer_url(),
        "credential_configuration_ids": [SD_JWT_CONFIGURATION, MDOC_CONFIGURATION],
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": code}},
    }


def credential_offer_uri(code: str) -> str:
    """Return the offer as an openid-credential-offer:// URI with the offer by value, for a QR code or a link."""
    text = json.dumps(credential_offer(code), separators=(",", ":"))
    return OFFER_URI_SCHEME + "?" + urllib.parse.urlencode({"credential_offer": text})


class ProofInvalid(Exception):
    """A key proof fails; ``error`` is invalid_proof or invalid_nonce."""

    def __init__(self, error: str, description: str) -> None:
        self.error = error
        self.description = description
        super().__init__(description)


def proof_jwt_check(proof, *, now: float | None = None) -> tuple[dict, str]:
    """Check an openid4vci-proof+jwt (Appendix F.1); return (the holder's public JWK, the nonce it carries).

    The key is the header's ``jwk``, and the signature must verify under it: a
    proof naming one key and signed by another fails. ``aud`` must be this
    issuer, ``iat`` recent. The nonce is only returned; the caller consumes it.
    """
    now = time.time() if now is None else now
    if not isinstance(proof, str) or not offline._COMPACT_JWS.fullmatch(proof) or len(proof) > 8192:
        raise ProofInvalid("invalid_proof", "the proof is not a compact JWS")
    header_part, payload_part, signature_part = proof.split(".")
    try:
        header = offline._json_object(offline.b64url_decode(header_part))
        payload = offline._json_object(offline.b64url_decode(payload_part))
        signature = offline.b64url_decode(signature_part)
    except offline.CredentialRefused:
        raise ProofInvalid("invalid_proof", "the proof is not well-formed base64url JSON") from None
    if header.get("typ") != PROOF_TYPE:
        raise ProofInvalid("invalid_proof", f"the proof's typ must be {PROOF_TYPE}")
    if "crit" in header or "kid" in header or "x5c" in header or not isinstance(header.get("jwk"), dict):
        raise ProofInvalid("invalid_proof", "the proof must name its key as a jwk header and nothing else")
    jwk = header["jwk"]
    if "d" in jwk:
        raise ProofInvalid("invalid_proof", "the proof's jwk must be a public key")
    try:
        alg, key = offline.jwk_public_key(jwk)
    except offline.CredentialRefused:
        raise ProofInvalid("invalid_proof", "the proof's jwk must be an Ed25519 or P-256 key") from None
    if header.get("alg") != alg:
        raise ProofInvalid("invalid_proof", f"the proof's alg must be {alg} for its key")
    try:
        offline._signature_check(alg, key, signature, f"{header_part}.{payload_part}".encode("ascii"))
    except offline.CredentialRefused:
        raise ProofInvalid("invalid_proof", "the proof's signature does not verify under its jwk") from None
    audience = payload.get("aud")
    if audience != issuer_url() and not (isinstance(audience, list) and issuer_url() in audience):
        raise ProofInvalid("invalid_proof", "the proof's aud must be this credential issuer")
    iat = payload.get("iat")
    if not offline._is_int(iat) or iat > now + offline.CLOCK_LEEWAY_SECONDS or iat < now - PROOF_MAX_AGE_SECONDS:
        raise ProofInvalid("invalid_proof", "the proof's iat is missing, in the future or too old")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise ProofInvalid("invalid_nonce", "the proof carries no c_nonce")
    members = ("kty", "crv", "x") if jwk["kty"] == "OKP" else ("kty", "crv", "x", "y")
    return {name: jwk[name] for name in members}, nonce
