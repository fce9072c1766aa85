#!/usr/bin/env python3
"""Verify a OneCard credential offline: a QR code, an SD-JWT VC presentation or an mdoc.

Needs Python 3.11+ and the ``cryptography`` package; nothing from Django, no
network except ``--refresh``. docs/cards.md describes every option.

    python onecard_card_verify.py --refresh https://onecard.example --cache cache/   # while online
    python onecard_card_verify.py --cache cache/ @presentation.sd-jwt                # offline

The old form (``--jwks jwks.json --status-list status.jwt TOKEN``, the list of
/cards/status) still works for this release and prints
``{"valid", "card_number", "version", "status", "reason", "dynamic"}``.

Exit status: 0 valid, 1 refused, 2 keys or the old status list unusable,
3 signature and claims good but the status unknown (no list, or one older than
``--max-status-age-hours``). The server imports the parsing functions from
here, so online and offline verification give the same reasons.
"""

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import time
import zlib
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_TOKEN_LENGTH = 2048
DYNAMIC_LIFETIME_SECONDS = 60
CLOCK_LEEWAY_SECONDS = 5
STATUS_LIST_TYPE = "onecard-card-status+jwt"

# Reasons a credential is refused; stable strings that partners match on.
MALFORMED = "malformed"
OVERSIZED = "oversized"
UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
INVALID_CLAIMS = "invalid_claims"
WRONG_ISSUER = "wrong_issuer"
NOT_YET_VALID = "not_yet_valid"
TOKEN_EXPIRED = "token_expired"
LIFETIME_TOO_LONG = "lifetime_too_long"
INVALID_CARD_NUMBER = "invalid_card_number"

# The signature part may be empty so that an unsigned ("alg": "none") token is named as such.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class CredentialRefused(Exception):
    """The credential failed a check; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Claims:
    issuer: str
    card_number: str
    version: int
    issued_at: int
    expires_at: int
    jti: str | None
    kid: str

    @property
    def dynamic(self) -> bool:
        return self.jti is not None


@dataclass(frozen=True)
class Verdict:
    valid: bool
    card_number: str | None
    version: int | None
    status: str | None
    reason: str | None
    dynamic: bool | None


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url TEXT, refusing any other alphabet."""
    if len(text) % 4 == 1:
        raise CredentialRefused(MALFORMED)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CredentialRefused(MALFORMED) from None


def b64url_encode(data: bytes) -> str:
    """Encode DATA as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def luhn_is_valid(number: str) -> bool:
    """Return whether the digits of NUMBER pass the Luhn check."""
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = ord(digit) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _json_object(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CredentialRefused(MALFORMED) from None
    if not isinstance(value, dict):
        raise CredentialRefused(MALFORMED)
    return value


def jws_verify(
    token, keys: dict[str, Ed25519PublicKey], *, max_length: int | None = MAX_TOKEN_LENGTH
) -> tuple[dict, dict]:
    """Check the compact JWS TOKEN against KEYS by kid; return (header, payload)."""
    if not isinstance(token, str):
        raise CredentialRefused(MALFORMED)
    if max_length is not None and len(token) > max_length:
        raise CredentialRefused(OVERSIZED)
    token = token.strip()
    if not _COMPACT_JWS.fullmatch(token):
        raise CredentialRefused(MALFORMED)
    header_part, payload_part, signature_part = token.split(".")
    header = _header_parse(header_part)
    if header.get("alg") != "EdDSA":
        raise CredentialRefused(UNSUPPORTED_ALGORITHM)
    if "crit" in header:
        raise CredentialRefused(UNSUPPORTED_ALGORITHM)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise CredentialRefused(UNKNOWN_KEY)
    key = keys.get(kid)
    if key is None:
        raise CredentialRefused(UNKNOWN_KEY)
    signature = b64url_decode(signature_part)
    if len(signature) != 64:
        raise CredentialRefused(BAD_SIGNATURE)
    try:
        key.verify(signature, f"{header_part}.{payload_part}".encode("ascii"))
    except InvalidSignature:
        raise CredentialRefused(BAD_SIGNATURE) from None
    return header, _json_object(b64url_decode(payload_part))


_headers: dict[str, dict] = {}


def _header_parse(header_part: str) -> dict:
    # Every credential signed by one key has the same header, so parse each distinct one once.
    # The cache holds the decoded header only; the signature is still checked over the exact bytes.
    header = _headers.get(header_part)
    if header is None:
        header = _json_object(b64url_decode(header_part))
        if len(_headers) < 64:
            _headers[header_part] = header
    return dict(header)


def jws_kid(token) -> str | None:
    """Return the kid in TOKEN's header without checking anything else, or None."""
    try:
        header = _json_object(b64url_decode(token.split(".", 1)[0])) if isinstance(token, str) else {}
    except CredentialRefused:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def claims_check(header: dict, payload: dict, *, now: float, issuer: str | None = None) -> Claims:
    """Check the card claims in PAYLOAD at time NOW and return them."""
    sub, ver, iat, exp, iss = (payload.get(name) for name in ("sub", "ver", "iat", "exp", "iss"))
    jti = payload.get("jti")
    if not (isinstance(sub, str) and isinstance(iss, str) and _is_int(ver) and _is_int(iat) and _is_int(exp)):
        raise CredentialRefused(INVALID_CLAIMS)
    if jti is not None and not (isinstance(jti, str) and 0 < len(jti) <= 64):
        raise CredentialRefused(INVALID_CLAIMS)
    if not (len(sub) == 19 and sub.isascii() and sub.isdigit() and luhn_is_valid(sub)) or ver < 1:
        raise CredentialRefused(INVALID_CARD_NUMBER)
    if issuer is not None and iss != issuer:
        raise CredentialRefused(WRONG_ISSUER)
    if iat > now + CLOCK_LEEWAY_SECONDS:
        raise CredentialRefused(NOT_YET_VALID)
    if exp <= now:
        raise CredentialRefused(TOKEN_EXPIRED)
    if jti is not None and exp - iat > DYNAMIC_LIFETIME_SECONDS:
        raise CredentialRefused(LIFETIME_TOO_LONG)
    return Claims(issuer=iss, card_number=sub, version=ver, issued_at=iat, expires_at=exp, jti=jti, kid=header["kid"])


def jwks_load(document) -> dict[str, Ed25519PublicKey]:
    """Return {kid: public key} for the Ed25519 keys in a JWKS document (str, bytes or dict)."""
    if isinstance(document, str | bytes):
        document = json.loads(document)
    keys = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and isinstance(jwk.get("kid"), str):
            raw = b64url_decode(jwk["x"])
            if len(raw) == 32:
                keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def status_list_load(token: str, keys: dict[str, Ed25519PublicKey], *, now: float) -> dict[str, dict[str, str]]:
    """Verify the signed status list and return {card number: {version: status}}."""
    header, payload = jws_verify(token.strip(), keys, max_length=None)
    if header.get("typ") != STATUS_LIST_TYPE:
        raise CredentialRefused(MALFORMED)
    if not _is_int(payload.get("exp")) or payload["exp"] <= now:
        raise CredentialRefused(TOKEN_EXPIRED)
    cards = payload.get("cards")
    if not isinstance(cards, dict):
        raise CredentialRefused(MALFORMED)
    return cards


def credential_verify(
    token, *, keys: dict[str, Ed25519PublicKey], statuses: dict[str, dict[str, str]], now: float | None = None
) -> Verdict:
    """Verify a QR credential offline: signature, claims, then the status list."""
    now = time.time() if now is None else now
    try:
        header, payload = jws_verify(token, keys)
        claims = claims_check(header, payload, now=now)
    except CredentialRefused as refused:
        return Verdict(False, None, None, None, refused.reason, None)
    listed = statuses.get(claims.card_number, {}).get(str(claims.version))
    if listed is not None:
        return Verdict(False, claims.card_number, claims.version, listed, listed, claims.dynamic)
    return Verdict(True, claims.card_number, claims.version, "active", None, claims.dynamic)


# SD-JWT VC (RFC 9901, draft-ietf-oauth-sd-jwt-vc) and the Token Status List (draft-ietf-oauth-status-list).
SD_JWT_VC_TYPE = "dc+sd-jwt"
KB_JWT_TYPE = "kb+jwt"
TOKEN_STATUS_LIST_TYPE = "statuslist+jwt"
# The type of a card's SD-JWT VC: an https URL under the issuer, where its type metadata is served.
CARD_VCT_PATH = "/vct/card/1"
# The type credentials issued before it had, accepted while they last (30 days at most).
CARD_VCT = "urn:onecard:vct:card:1"


def card_vct(issuer: str) -> str:
    """Return the vct of a card's SD-JWT VC from ISSUER (the credential's iss)."""
    return issuer.rstrip("/") + CARD_VCT_PATH


SD_ALG = "sha-256"
# Token Status List values (draft-ietf-oauth-status-list section 7.1).
STATUS_VALID, STATUS_INVALID, STATUS_SUSPENDED = 0x00, 0x01, 0x02
STATUS_NAMES = {STATUS_VALID: "valid", STATUS_INVALID: "invalid", STATUS_SUSPENDED: "suspended"}
# An offline verifier treats a cached status list older than this as unknown, never as valid or revoked.
DEFAULT_STATUS_MAX_AGE_HOURS = 24
# A key binding JWT older than this is refused: the holder signs a fresh one for each presentation.
KB_JWT_MAX_AGE_SECONDS = 300
STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024

HOLDER_BINDING_MISSING = "holder_binding_missing"
HOLDER_BINDING_INVALID = "holder_binding_invalid"
DISCLOSURE_INVALID = "disclosure_invalid"
STATUS_UNKNOWN = "status_unknown"


def sd_digest(disclosure: str) -> str:
    """Return the RFC 9901 digest of a disclosure: base64url(SHA-256(its ASCII base64url text))."""
    return b64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def sd_jwt_split(text: str) -> tuple[str, list[str], str | None]:
    """Split an SD-JWT (or SD-JWT+KB) into the issuer-signed JWT, its disclosures and the KB-JWT or None."""
    if not isinstance(text, str) or "~" not in text:
        raise CredentialRefused(MALFORMED)
    parts = text.strip().split("~")
    issuer_jwt, disclosures, last = parts[0], parts[1:-1], parts[-1]
    if not issuer_jwt or any(not part for part in disclosures):
        raise CredentialRefused(MALFORMED)
    return issuer_jwt, disclosures, (last or None)


def _disclosure_decode(disclosure: str) -> list:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", disclosure):
        raise CredentialRefused(DISCLOSURE_INVALID)
    try:
        value = json.loads(b64url_decode(disclosure))
    except (UnicodeDecodeError, ValueError, RecursionError, CredentialRefused):
        raise CredentialRefused(DISCLOSURE_INVALID) from None
    if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
        raise CredentialRefused(DISCLOSURE_INVALID)
    if len(value) == 3 and (not isinstance(value[1], str) or value[1] in ("_sd", "...")):
        raise CredentialRefused(DISCLOSURE_INVALID)
    return value


def sd_jwt_disclose(payload: dict, disclosures: list[str]) -> dict:
    """Return PAYLOAD with each disclosure put back where its digest is, per RFC 9901 section 7.1.

    Refuses an unsupported _sd_alg, a digest seen twice, a disclosure given twice
    or referenced nowhere, a claim name that clashes, and a malformed disclosure.
    Digests without a disclosure (undisclosed claims, decoys) are dropped.
    """
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise CredentialRefused(UNSUPPORTED_ALGORITHM)
    by_digest: dict[str, list] = {}
    for disclosure in disclosures:
        digest = sd_digest(disclosure)
        if digest in by_digest:
            raise CredentialRefused(DISCLOSURE_INVALID)
        by_digest[digest] = _disclosure_decode(disclosure)
    seen: set[str] = set()
    used: set[str] = set()

    def claim(digest) -> list | None:
        if not isinstance(digest, str) or digest in seen:
            raise CredentialRefused(DISCLOSURE_INVALID)
        seen.add(digest)
        found = by_digest.get(digest)
        if found is not None:
            used.add(digest)
        return found

    def walk(node):
        if isinstance(node, dict):
            out = {key: walk(value) for key, value in node.items() if key != "_sd"}
            digests = node.get("_sd", [])
            if not isinstance(digests, list):
                raise CredentialRefused(DISCLOSURE_INVALID)
            for digest in digests:
                found = claim(digest)
                if found is None:
                    continue
                if len(found) != 3 or found[1] in out:
                    raise CredentialRefused(DISCLOSURE_INVALID)
                out[found[1]] = walk(found[2])
            return out
        if isinstance(node, list):
            out = []
            for item in node:
                if isinstance(item, dict) and set(item) == {"..."}:
                    found = claim(item["..."])
                    if found is None:
                        continue
                    if len(found) != 2:
                        raise CredentialRefused(DISCLOSURE_INVALID)
                    out.append(walk(found[1]))
                else:
                    out.append(walk(item))
            return out
        return node

    processed = walk(payload)
    processed.pop("_sd_alg", None)
    if used != set(by_digest):
        raise CredentialRefused(DISCLOSURE_INVALID)
    return processed


def jwk_public_key(jwk) -> tuple[str, object]:
    """Return (alg, public key) of an Ed25519 (EdDSA) or P-256 (ES256) JWK."""
    if not isinstance(jwk, dict):
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return "EdDSA", Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x, y = (int.from_bytes(b64url_decode(jwk[name]), "big") for name in ("x", "y"))
            numbers = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1())
            return "ES256", numbers.public_key()
    except (KeyError, TypeError, ValueError):
        pass
    raise CredentialRefused(HOLDER_BINDING_INVALID)


def _signature_check(alg: str, key, signature: bytes, signing_input: bytes) -> None:
    try:
        if alg == "EdDSA":
            key.verify(signature, signing_input)
        elif alg == "ES256" and len(signature) == 64:
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature
    except InvalidSignature:
        raise CredentialRefused(HOLDER_BINDING_INVALID) from None


def kb_jwt_check(kb_jwt: str, *, cnf: dict, sd_jwt_text: str, now: float, aud=None, nonce=None) -> dict:
    """Check a key binding JWT against the holder key in CNF and the presented SD-JWT; return its payload."""
    if not isinstance(cnf, dict) or "jwk" not in cnf:
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    alg, key = jwk_public_key(cnf["jwk"])
    if not _COMPACT_JWS.fullmatch(kb_jwt):
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    header_part, payload_part, signature_part = kb_jwt.split(".")
    try:
        header = _json_object(b64url_decode(header_part))
        payload = _json_object(b64url_decode(payload_part))
        signature = b64url_decode(signature_part)
    except CredentialRefused:
        raise CredentialRefused(HOLDER_BINDING_INVALID) from None
    if header.get("typ") != KB_JWT_TYPE or header.get("alg") != alg or "crit" in header:
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    _signature_check(alg, key, signature, f"{header_part}.{payload_part}".encode("ascii"))
    iat = payload.get("iat")
    if not _is_int(iat) or iat > now + CLOCK_LEEWAY_SECONDS or iat < now - KB_JWT_MAX_AGE_SECONDS:
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    if payload.get("sd_hash") != b64url_encode(hashlib.sha256(sd_jwt_text.encode("ascii")).digest()):
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    if not isinstance(payload.get("aud"), str) or not isinstance(payload.get("nonce"), str):
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    if (aud is not None and payload["aud"] != aud) or (nonce is not None and payload["nonce"] != nonce):
        raise CredentialRefused(HOLDER_BINDING_INVALID)
    return payload


@dataclass(frozen=True)
class TokenStatusList:
    uri: str
    bits: int
    statuses: bytes
    issued_at: int
    expires_at: int | None
    ttl: int | None

    def status(self, index: int) -> int | None:
        """Return the status at INDEX, or None when the list does not reach it."""
        per_byte = 8 // self.bits
        byte, slot = divmod(index, per_byte)
        if index < 0 or byte >= len(self.statuses):
            return None
        return (self.statuses[byte] >> (slot * self.bits)) & ((1 << self.bits) - 1)


def status_list_pack(statuses: dict[int, int], *, bits: int = 2) -> str:
    """Return the "lst" of a Token Status List: index 0 in the lowest bits of byte 0, zlib, base64url."""
    per_byte = 8 // bits
    size = (max(statuses, default=-1) // per_byte) + 1
    packed = bytearray(max(size, 1))
    for index, value in statuses.items():
        byte, slot = divmod(index, per_byte)
        packed[byte] |= (value & ((1 << bits) - 1)) << (slot * bits)
    # zlib's default level, not 9: on a 2**24-entry list with 1,000,000 entries set, level 9 took 6.1 s and
    # level 6 0.40 s for 9 % more bytes (docs/cards.md); the list is rebuilt up to once a second.
    return b64url_encode(zlib.compress(bytes(packed), 6))


def token_status_list_load(token: str, keys: dict[str, Ed25519PublicKey]) -> TokenStatusList:
    """Verify a Token Status List JWT (typ statuslist+jwt) and return it; its age is judged by the caller."""
    header, payload = jws_verify(token.strip(), keys, max_length=None)
    if header.get("typ") != TOKEN_STATUS_LIST_TYPE:
        raise CredentialRefused(MALFORMED)
    sub, iat, exp, ttl, status_list = (payload.get(name) for name in ("sub", "iat", "exp", "ttl", "status_list"))
    if not (isinstance(sub, str) and _is_int(iat) and isinstance(status_list, dict)):
        raise CredentialRefused(MALFORMED)
    if (exp is not None and not _is_int(exp)) or (ttl is not None and not _is_int(ttl)):
        raise CredentialRefused(MALFORMED)
    bits, lst = status_list.get("bits"), status_list.get("lst")
    if bits not in (1, 2, 4, 8) or not isinstance(lst, str):
        raise CredentialRefused(MALFORMED)
    inflater = zlib.decompressobj()
    try:
        statuses = inflater.decompress(b64url_decode(lst), STATUS_LIST_MAX_BYTES)
    except zlib.error:
        raise CredentialRefused(MALFORMED) from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise CredentialRefused(MALFORMED)
    return TokenStatusList(uri=sub, bits=bits, statuses=statuses, issued_at=iat, expires_at=exp, ttl=ttl)


def status_check(
    reference, status_list: TokenStatusList | None, *, now: float, max_age_hours: float
) -> tuple[str, str]:
    """Return (status, detail) of a credential's status reference: valid, invalid, suspended or unknown."""
    if status_list is None:
        return "unknown", "status unknown: no status list cached"
    entry = reference.get("status_list") if isinstance(reference, dict) else None
    if not isinstance(entry, dict) or not _is_int(entry.get("idx")) or not isinstance(entry.get("uri"), str):
        return "unknown", "status unknown: the credential names no status list entry"
    if entry["uri"] != status_list.uri:
        return "unknown", f"status unknown: the credential's list is {entry['uri']}, the cached one {status_list.uri}"
    if now - status_list.issued_at > max_age_hours * 3600:
        return "unknown", f"status unknown: list older than {max_age_hours:g} hours"
    if status_list.expires_at is not None and status_list.expires_at <= now:
        return "unknown", "status unknown: the cached list has expired"
    value = status_list.status(entry["idx"])
    if value is None:
        return "unknown", "status unknown: the list does not reach this credential's index"
    if value not in STATUS_NAMES:
        # 0x03 and up are application-specific or unassigned: OneCard gives them no meaning, so neither may this.
        return "unknown", f"status unknown: the list gives the value 0x{value:02x}, which OneCard does not assign"
    name = STATUS_NAMES[value]
    return name, name


@dataclass(frozen=True)
class PresentationVerdict:
    valid: bool
    format: str
    reason: str | None
    status: str | None
    status_detail: str | None
    issuer: str | None = None
    claims: dict | None = None
    holder_bound: bool | None = None
    photo: str | None = None
    status_reference: dict | None = None


def sd_jwt_vc_verify(
    presentation: str,
    *,
    keys: dict[str, Ed25519PublicKey],
    status_list: TokenStatusList | None,
    now: float | None = None,
    max_status_age_hours: float = DEFAULT_STATUS_MAX_AGE_HOURS,
    issuer: str | None = None,
    aud: str | None = None,
    nonce: str | None = None,
) -> PresentationVerdict:
    """Verify an SD-JWT VC presentation: issuer signature, disclosures, key binding, validity and status."""
    now = time.time() if now is None else now

    def refused(reason: str) -> PresentationVerdict:
        return PresentationVerdict(False, "sd-jwt-vc", reason, None, None)

    try:
        issuer_jwt, disclosures, kb_jwt = sd_jwt_split(presentation)
        header, payload = jws_verify(issuer_jwt, keys, max_length=None)
        if header.get("typ") != SD_JWT_VC_TYPE:
            raise CredentialRefused(INVALID_CLAIMS)
        claims = sd_jwt_disclose(payload, disclosures)
        vct, iss, iat, exp = (claims.get(name) for name in ("vct", "iss", "iat", "exp"))
        if not (isinstance(vct, str) and isinstance(iss, str) and _is_int(iat) and _is_int(exp)):
            raise CredentialRefused(INVALID_CLAIMS)
        if vct not in (CARD_VCT, card_vct(iss)):
            raise CredentialRefused(INVALID_CLAIMS)
        if "vct#integrity" in claims and not isinstance(claims["vct#integrity"], str):
            raise CredentialRefused(INVALID_CLAIMS)
        if issuer is not None and iss != issuer:
            raise CredentialRefused(WRONG_ISSUER)
        if iat > now + CLOCK_LEEWAY_SECONDS:
            raise CredentialRefused(NOT_YET_VALID)
        if exp <= now:
            raise CredentialRefused(TOKEN_EXPIRED)
        cnf = claims.get("cnf")
        if cnf is not None and kb_jwt is None:
            raise CredentialRefused(HOLDER_BINDING_MISSING)
        if kb_jwt is not None:
            if cnf is None:
                raise CredentialRefused(HOLDER_BINDING_INVALID)
            sd_jwt_text = presentation.strip()[: -len(kb_jwt)]
            kb_jwt_check(kb_jwt, cnf=cnf, sd_jwt_text=sd_jwt_text, now=now, aud=aud, nonce=nonce)
    except CredentialRefused as error:
        return refused(error.reason)
    status, detail = status_check(claims.get("status"), status_list, now=now, max_age_hours=max_status_age_hours)
    disclosed = {name: value for name, value in claims.items() if name not in _SD_JWT_VC_FRAME}
    reason = None if status == "valid" else (STATUS_UNKNOWN if status == "unknown" else status)
    return PresentationVerdict(
        valid=reason is None,
        format="sd-jwt-vc",
        reason=reason,
        status=status,
        status_detail=detail,
        issuer=claims["iss"],
        claims=disclosed,
        holder_bound=kb_jwt is not None,
        status_reference=claims.get("status") if isinstance(claims.get("status"), dict) else None,
    )


# The always-visible claims of an SD-JWT VC; everything else was selectively disclosed.
_SD_JWT_VC_FRAME = ("vct", "vct#integrity", "iss", "iat", "exp", "nbf", "cnf", "status", "sub")


CACHE_KEYS_FILE = "jwt-vc-issuer.json"
CACHE_STATUS_FILE = "status-list.jwt"
CACHE_IACA_FILE = "mdoc-iaca.pem"
EXIT_VALID, EXIT_REFUSED, EXIT_UNUSABLE, EXIT_STATUS_UNKNOWN = 0, 1, 2, 3


def cache_refresh(base_url: str, directory: str, *, timeout: float = 10) -> list[str]:
    """Download the issuer metadata (with its JWKS), the Token Status List and the mdoc IACA certificate into DIRECTORY.

    This is the tool's only use of the network.
    """
    import os
    import urllib.request

    written = []
    base = base_url.rstrip("/")
    for path, name in (
        ("/.well-known/jwt-vc-issuer", CACHE_KEYS_FILE),
        ("/cards/status-list", CACHE_STATUS_FILE),
        ("/cards/mdoc/iaca.pem", CACHE_IACA_FILE),
    ):
        with urllib.request.urlopen(base + path, timeout=timeout) as response:
            body = response.read()
        target = os.path.join(directory, name)
        with open(target + ".tmp", "wb") as handle:
            handle.write(body)
        os.replace(target + ".tmp", target)
        written.append(target)
    return written


def _keys_from_file(path: str) -> tuple[dict[str, Ed25519PublicKey], str | None]:
    """Return the keys in PATH, and the issuer it names when it is SD-JWT VC issuer metadata (else None)."""
    with open(path, encoding="utf-8") as handle:
        document = json.loads(handle.read())
    # Either a JWKS or SD-JWT VC issuer metadata holding one under "jwks".
    if isinstance(document, dict) and "jwks" in document:
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("the issuer metadata names no issuer")
        return jwks_load(document["jwks"]), issuer
    return jwks_load(document), None


def _presented(argument: str) -> str:
    if argument == "-":
        return sys.stdin.read().strip()
    if argument.startswith("@"):
        with open(argument[1:], "rb") as handle:
            data = handle.read()
        try:
            return data.decode("ascii").strip()
        except UnicodeDecodeError:
            # A binary file: an mdoc in CBOR.
            return b64url_encode(data)
    return argument.strip()


def _photo_write(data_url, directory: str) -> str | None:
    """Write a disclosed data:image/jpeg portrait to a file and return its path, or None."""

    prefix = "data:image/jpeg;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        return None
    try:
        jpeg = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return _jpeg_write(jpeg, directory)


def _jpeg_write(jpeg: bytes, directory: str) -> str | None:
    import os

    if not jpeg.startswith(b"\xff\xd8"):
        return None
    path = os.path.join(directory, f"onecard-photo-{hashlib.sha256(jpeg).hexdigest()[:16]}.jpg")
    with open(path, "wb") as handle:
        handle.write(jpeg)
    return path


def _qr_with_token_status(token, keys, status_list, *, now: float, max_age_hours: float) -> dict:
    try:
        header, payload = jws_verify(token, keys)
        claims = claims_check(header, payload, now=now)
    except CredentialRefused as refused:
        return {"valid": False, "format": "qr", "reason": refused.reason, "status": None, "status_detail": None}
    status, detail = status_check(payload.get("status"), status_list, now=now, max_age_hours=max_age_hours)
    reason = None if status == "valid" else (STATUS_UNKNOWN if status == "unknown" else status)
    return {
        "valid": reason is None,
        "format": "qr",
        "reason": reason,
        "status": status,
        "status_detail": detail,
        "card_number": claims.card_number,
        "version": claims.version,
        "dynamic": claims.dynamic,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify a OneCard credential offline: a QR code, an SD-JWT VC presentation or an mdoc."
    )
    parser.add_argument("--cache", help="directory of cached keys and Token Status List (see --refresh)")
    parser.add_argument("--refresh", metavar="URL", help="download keys and the status list from URL into --cache")
    parser.add_argument("--jwks", help="file holding /.well-known/jwks.json or /.well-known/jwt-vc-issuer")
    parser.add_argument("--status-list", help="file holding the old OneCard status list (/cards/status)")
    parser.add_argument("--token-status-list", help="file holding the Token Status List (/cards/status-list)")
    parser.add_argument(
        "--max-status-age-hours",
        type=float,
        default=DEFAULT_STATUS_MAX_AGE_HOURS,
        help=f"a status list older than this gives 'status unknown' (default {DEFAULT_STATUS_MAX_AGE_HOURS})",
    )
    parser.add_argument("--photo-dir", default=".", help="where to write a presented photo (default: here)")
    parser.add_argument("--aud", help="the audience a key binding JWT must name")
    parser.add_argument("--nonce", help="the nonce a key binding JWT must carry")
    parser.add_argument("--issuer", help="the issuer (iss) an SD-JWT VC must name")
    parser.add_argument("--iaca", help="file of the IACA certificates (PEM) an mdoc must chain to (default: cache)")
    parser.add_argument("token", nargs="?", help="the credential, - for standard input, or @FILE")
    args = parser.parse_args(argv)
    import os

    if args.refresh:
        if not args.cache:
            parser.error("--refresh needs --cache DIR")
        try:
            for path in cache_refresh(args.refresh, args.cache):
                print(f"saved {path}", file=sys.stderr)
        except OSError as error:
            print(f"error: cannot refresh the cache from {args.refresh}: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
        if not args.token:
            return EXIT_VALID
    if not args.token:
        parser.error("give the credential to check")
    keys_path = args.jwks or (os.path.join(args.cache, CACHE_KEYS_FILE) if args.cache else None)
    if keys_path is None:
        parser.error("give --jwks FILE or --cache DIR")
    token_list_path = args.token_status_list or (
        os.path.join(args.cache, CACHE_STATUS_FILE) if args.cache and not args.status_list else None
    )
    now = time.time()
    try:
        keys, metadata_issuer = _keys_from_file(keys_path)
        statuses = None
        if args.status_list:
            with open(args.status_list, encoding="utf-8") as handle:
                statuses = status_list_load(handle.read(), keys, now=now)
        token = _presented(args.token)
    except OSError as error:
        print(f"error: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_UNUSABLE
    except (ValueError, AttributeError, TypeError) as error:
        print(f"error: the JWKS is not usable: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except CredentialRefused as refused:
        print(f"error: the status list is not usable ({refused.reason}); fetch a fresh one", file=sys.stderr)
        return EXIT_UNUSABLE
    token_list = None
    if token_list_path is not None:
        # A missing or unreadable list never makes a credential valid or revoked: its status is reported unknown.
        try:
            with open(token_list_path, encoding="utf-8") as handle:
                token_list = token_status_list_load(handle.read(), keys)
        except OSError as error:
            print(f"warning: no usable status list ({error.strerror}); status will be unknown", file=sys.stderr)
        except CredentialRefused as refused:
            print(f"warning: the status list is not usable ({refused.reason}); status will be unknown", file=sys.stderr)
    if "~" in token:
        verdict = sd_jwt_vc_verify(
            token,
            keys=keys,
            status_list=token_list,
            now=now,
            max_status_age_hours=args.max_status_age_hours,
            # SD-JWT VC: the iss must be the issuer whose metadata gave the keys.
            issuer=args.issuer or metadata_issuer,
            aud=args.aud,
            nonce=args.nonce,
        )
        result = asdict(verdict)
        result.pop("status_reference", None)
        if verdict.claims and "portrait" in verdict.claims:
            result["photo"] = _photo_write(verdict.claims["portrait"], args.photo_dir)
            result["claims"]["portrait"] = "(written to photo)" if result["photo"] else verdict.claims["portrait"]
    elif _COMPACT_JWS.fullmatch(token) and statuses is not None:
        result = asdict(credential_verify(token, keys=keys, statuses=statuses, now=now))
    elif _COMPACT_JWS.fullmatch(token):
        result = _qr_with_token_status(token, keys, token_list, now=now, max_age_hours=args.max_status_age_hours)
    else:
        iaca_path = args.iaca or (os.path.join(args.cache, CACHE_IACA_FILE) if args.cache else None)
        try:
            with open(iaca_path or "", "rb") as handle:
                trust_anchors = trust_anchors_load(handle.read())
        except OSError as error:
            print(f"error: no IACA certificate to check an mdoc against ({error.strerror})", file=sys.stderr)
            return EXIT_UNUSABLE
        except CredentialRefused:
            print("error: the IACA certificate file is not usable", file=sys.stderr)
            return EXIT_UNUSABLE
        result = mdoc_verify_text(
            token,
            trust_anchors=trust_anchors,
            status_list=token_list,
            now=now,
            max_status_age_hours=args.max_status_age_hours,
            photo_dir=args.photo_dir,
        )
    print(json.dumps(result, ensure_ascii=False))
    if result["valid"]:
        return EXIT_VALID
    return EXIT_STATUS_UNKNOWN if result.get("reason") == STATUS_UNKNOWN else EXIT_REFUSED


# ISO/IEC 18013-5 mdoc: a minimal CBOR codec (RFC 8949), COSE_Sign1 and COSE_Mac0 (RFC 9052) and the X.509
# chain check, by hand so that this file still needs nothing beyond cryptography.
MDOC_DOCTYPE = "cn.onecard.card.1"
MDOC_NAMESPACE = "cn.onecard.card.1"
COSE_ALG_ES256, COSE_ALG_EDDSA, COSE_ALG_HMAC256 = -7, -8, 5
COSE_HEADER_ALG, COSE_HEADER_KID, COSE_HEADER_X5CHAIN = 1, 4, 33
# id-mdl-kp-mdlDS: the extended key usage of a document signer certificate (ISO/IEC 18013-5 Annex B).
MDOC_DOCUMENT_SIGNER_EKU = "1.0.18013.5.1.2"
MDOC_MAX_BYTES = 1024 * 1024
_CBOR_MAX_DEPTH = 16
UNTRUSTED_CERTIFICATE = "untrusted_certificate"
CERTIFICATE_EXPIRED = "certificate_expired"
DEVICE_AUTH_INVALID = "device_auth_invalid"


@dataclass(frozen=True)
class CborTag:
    tag: int
    value: object


@dataclass(frozen=True)
class CborRaw:
    """Already-encoded CBOR, written as it is (a SessionTranscript inside DeviceAuthentication)."""

    encoded: bytes


def cbor_encode(value) -> bytes:
    """Encode VALUE as CBOR with definite lengths and shortest heads (RFC 8949 section 4.2.1)."""

    def head(major: int, number: int) -> bytes:
        if number < 24:
            return bytes([major << 5 | number])
        for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if number < 1 << (8 * size):
                return bytes([major << 5 | extra]) + number.to_bytes(size, "big")
        raise ValueError("integer too large for CBOR")

    if value is False or value is True or value is None:
        return bytes([0xF4 if value is False else 0xF5 if value is True else 0xF6])
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return head(3, len(encoded)) + encoded
    if isinstance(value, list | tuple):
        return head(4, len(value)) + b"".join(cbor_encode(item) for item in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor_encode(k) + cbor_encode(v) for k, v in value.items())
    if isinstance(value, CborTag):
        return head(6, value.tag) + cbor_encode(value.value)
    if isinstance(value, CborRaw):
        return value.encoded
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def cbor_decode(data: bytes):
    """Decode one CBOR item filling DATA; refuse indefinite lengths, floats, and trailing bytes."""
    value, end = _cbor_item(data, 0, 0)
    if end != len(data):
        raise CredentialRefused(MALFORMED)
    return value


def _cbor_item(data: bytes, offset: int, depth: int):
    if depth > _CBOR_MAX_DEPTH or offset >= len(data):
        raise CredentialRefused(MALFORMED)
    initial = data[offset]
    major, info = initial >> 5, initial & 0x1F
    offset += 1
    if info < 24:
        number = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        if offset + size > len(data):
            raise CredentialRefused(MALFORMED)
        number = int.from_bytes(data[offset : offset + size], "big")
        offset += size
    else:
        raise CredentialRefused(MALFORMED)
    if major == 0:
        return number, offset
    if major == 1:
        return -1 - number, offset
    if major in (2, 3):
        if offset + number > len(data):
            raise CredentialRefused(MALFORMED)
        raw = data[offset : offset + number]
        if major == 2:
            return bytes(raw), offset + number
        try:
            return raw.decode("utf-8"), offset + number
        except UnicodeDecodeError:
            raise CredentialRefused(MALFORMED) from None
    if major == 4:
        items = []
        for _ in range(number):
            item, offset = _cbor_item(data, offset, depth + 1)
            items.append(item)
        return items, offset
    if major == 5:
        mapping = {}
        for _ in range(number):
            key, offset = _cbor_item(data, offset, depth + 1)
            if isinstance(key, list | dict) or key in mapping:
                raise CredentialRefused(MALFORMED)
            mapping[key], offset = _cbor_item(data, offset, depth + 1)
        return mapping, offset
    if major == 6:
        value, offset = _cbor_item(data, offset, depth + 1)
        return CborTag(number, value), offset
    if major == 7 and info < 24 and number in (20, 21, 22):
        return {20: False, 21: True, 22: None}[number], offset
    raise CredentialRefused(MALFORMED)


def cose_key_public(cose_key) -> tuple[int, object]:
    """Return (COSE alg, public key) of a COSE_Key: EC2 P-256 (ES256) or OKP Ed25519 (EdDSA)."""
    if not isinstance(cose_key, dict):
        raise CredentialRefused(MALFORMED)
    x, y = cose_key.get(-2), cose_key.get(-3)
    try:
        if cose_key.get(1) == 2 and cose_key.get(-1) == 1 and isinstance(x, bytes) and isinstance(y, bytes):
            if len(x) != 32 or len(y) != 32:
                raise ValueError
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1())
            return COSE_ALG_ES256, numbers.public_key()
        if cose_key.get(1) == 1 and cose_key.get(-1) == 6 and isinstance(x, bytes):
            return COSE_ALG_EDDSA, Ed25519PublicKey.from_public_bytes(x)
    except ValueError:
        pass
    raise CredentialRefused(MALFORMED)


def cose_signature_valid(alg: int, key, signature, data: bytes) -> bool:
    """Return whether SIGNATURE (COSE form: r || s for ES256) by KEY over DATA verifies under ALG."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        return False
    try:
        if alg == COSE_ALG_EDDSA and isinstance(key, Ed25519PublicKey):
            key.verify(signature, data)
        elif alg == COSE_ALG_ES256 and isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _cose_parts(cose, tag: int) -> tuple[bytes, dict, dict, object, bytes]:
    """Split a COSE_Sign1 (tag 18) or COSE_Mac0 (tag 17): protected bytes and map, unprotected, payload, signature."""
    if isinstance(cose, CborTag) and cose.tag == tag:
        cose = cose.value
    if not (isinstance(cose, list) and len(cose) == 4):
        raise CredentialRefused(MALFORMED)
    protected_bytes, unprotected, payload, signature = cose
    if not (isinstance(protected_bytes, bytes) and isinstance(unprotected, dict) and isinstance(signature, bytes)):
        raise CredentialRefused(MALFORMED)
    protected = cbor_decode(protected_bytes) if protected_bytes else {}
    if not isinstance(protected, dict) or "crit" in protected or 2 in protected:
        raise CredentialRefused(UNSUPPORTED_ALGORITHM)
    return protected_bytes, protected, unprotected, payload, signature


def trust_anchors_load(data: bytes) -> list:
    """Return the IACA certificates (trust anchors) in DATA: PEM, one or more, or a single DER certificate."""
    from cryptography import x509

    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CredentialRefused(MALFORMED) from None


def _certificate_current(certificate, now: float) -> bool:
    return certificate.not_valid_before_utc.timestamp() <= now <= certificate.not_valid_after_utc.timestamp()


def document_signer_check(x5chain, trust_anchors: list, *, now: float):
    """Return the document signer certificate of an x5chain header once it chains to a trusted IACA.

    ISO/IEC 18013-5 has no intermediate CA: the first certificate must be issued
    directly by one of TRUST_ANCHORS, be a document signer (extended key usage
    1.0.18013.5.1.2, digital signature), and both must be valid at NOW.
    """
    from cryptography import x509

    ders = [x5chain] if isinstance(x5chain, bytes) else x5chain
    if not (isinstance(ders, list) and ders and all(isinstance(der, bytes) for der in ders)):
        raise CredentialRefused(UNTRUSTED_CERTIFICATE)
    try:
        leaf = x509.load_der_x509_certificate(ders[0])
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        key_usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except (ValueError, x509.ExtensionNotFound):
        raise CredentialRefused(UNTRUSTED_CERTIFICATE) from None
    if x509.ObjectIdentifier(MDOC_DOCUMENT_SIGNER_EKU) not in usage or not key_usage.digital_signature:
        raise CredentialRefused(UNTRUSTED_CERTIFICATE)
    for anchor in trust_anchors:
        try:
            leaf.verify_directly_issued_by(anchor)
            constraints = anchor.extensions.get_extension_for_class(x509.BasicConstraints).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if not constraints.ca:
            continue
        if not (_certificate_current(leaf, now) and _certificate_current(anchor, now)):
            raise CredentialRefused(CERTIFICATE_EXPIRED)
        return leaf
    raise CredentialRefused(UNTRUSTED_CERTIFICATE)


def issuer_auth_check(issuer_auth, trust_anchors: list, *, now: float) -> tuple[dict, object]:
    """Check an mdoc's issuerAuth (COSE_Sign1 with x5chain) up to a trusted IACA; return (MSO, signer certificate)."""
    protected_bytes, protected, unprotected, payload, signature = _cose_parts(issuer_auth, 18)
    if not isinstance(payload, bytes):
        raise CredentialRefused(MALFORMED)
    alg = protected.get(COSE_HEADER_ALG)
    if alg not in (COSE_ALG_ES256, COSE_ALG_EDDSA):
        raise CredentialRefused(UNSUPPORTED_ALGORITHM)
    signer = document_signer_check(
        protected.get(COSE_HEADER_X5CHAIN, unprotected.get(COSE_HEADER_X5CHAIN)), trust_anchors, now=now
    )
    to_be_signed = cbor_encode(["Signature1", protected_bytes, b"", payload])
    if not cose_signature_valid(alg, signer.public_key(), signature, to_be_signed):
        raise CredentialRefused(BAD_SIGNATURE)
    return mso_decode(payload), signer


def mso_decode(payload: bytes) -> dict:
    """Decode the MobileSecurityObject from an issuerAuth payload: #6.24(bstr .cbor MSO)."""
    wrapped = cbor_decode(payload)
    if not (isinstance(wrapped, CborTag) and wrapped.tag == 24 and isinstance(wrapped.value, bytes)):
        raise CredentialRefused(MALFORMED)
    mso = cbor_decode(wrapped.value)
    if not isinstance(mso, dict):
        raise CredentialRefused(MALFORMED)
    return mso


def _tdate(value) -> float:
    import datetime

    if not (isinstance(value, CborTag) and value.tag == 0 and isinstance(value.value, str)):
        raise CredentialRefused(INVALID_CLAIMS)
    try:
        return datetime.datetime.fromisoformat(value.value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise CredentialRefused(INVALID_CLAIMS) from None


def mso_check(mso: dict, *, doc_type: str, now: float) -> None:
    """Check the MSO's version, docType, digest algorithm and validity at NOW."""
    if mso.get("version") != "1.0" or mso.get("docType") != doc_type or mso.get("digestAlgorithm") != "SHA-256":
        raise CredentialRefused(INVALID_CLAIMS)
    validity = mso.get("validityInfo")
    if not isinstance(validity, dict):
        raise CredentialRefused(INVALID_CLAIMS)
    if _tdate(validity.get("validFrom")) > now + CLOCK_LEEWAY_SECONDS:
        raise CredentialRefused(NOT_YET_VALID)
    if _tdate(validity.get("validUntil")) <= now:
        raise CredentialRefused(TOKEN_EXPIRED)


def issuer_items_check(name_spaces, mso: dict) -> dict[str, dict]:
    """Return {namespace: {element: value}} of the presented IssuerSignedItems, each checked against its MSO digest."""
    if name_spaces is None:
        return {}
    if not isinstance(name_spaces, dict):
        raise CredentialRefused(MALFORMED)
    all_digests = mso.get("valueDigests")
    if not isinstance(all_digests, dict):
        raise CredentialRefused(MALFORMED)
    checked: dict[str, dict] = {}
    for namespace, items in name_spaces.items():
        digests = all_digests.get(namespace)
        if not isinstance(digests, dict) or not isinstance(items, list):
            raise CredentialRefused(DISCLOSURE_INVALID)
        elements = checked.setdefault(namespace, {})
        for wrapped in items:
            if not (isinstance(wrapped, CborTag) and wrapped.tag == 24 and isinstance(wrapped.value, bytes)):
                raise CredentialRefused(DISCLOSURE_INVALID)
            item = cbor_decode(wrapped.value)
            if not isinstance(item, dict) or not isinstance(item.get("elementIdentifier"), str):
                raise CredentialRefused(DISCLOSURE_INVALID)
            digest_id = item.get("digestID")
            expected = digests.get(digest_id) if _is_int(digest_id) else None
            if expected is None or hashlib.sha256(cbor_encode(wrapped)).digest() != expected:
                raise CredentialRefused(DISCLOSURE_INVALID)
            name = item["elementIdentifier"]
            if name in elements:
                raise CredentialRefused(DISCLOSURE_INVALID)
            value = item.get("elementValue")
            elements[name] = value.value if isinstance(value, CborTag) and value.tag == 1004 else value
    return checked


def device_authentication_bytes(session_transcript: bytes, doc_type: str, device_name_spaces: CborTag) -> bytes:
    """Return DeviceAuthenticationBytes: #6.24(bstr .cbor ["DeviceAuthentication", SessionTranscript, DocType, ...])."""
    device_authentication = ["DeviceAuthentication", CborRaw(session_transcript), doc_type, device_name_spaces]
    return cbor_encode(CborTag(24, cbor_encode(device_authentication)))


def session_transcript_salt(session_transcript: bytes) -> bytes:
    """Return the HKDF salt of the session keys and EMacKey: SHA-256 of SessionTranscriptBytes (#6.24 of it)."""
    return hashlib.sha256(cbor_encode(CborTag(24, session_transcript))).digest()


def device_mac_key(private_key, public_key, session_transcript: bytes) -> bytes:
    """Return EMacKey: HKDF-SHA256 of the ECDH secret of the device key and the reader's ephemeral key."""
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    shared = private_key.exchange(ec.ECDH(), public_key)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=session_transcript_salt(session_transcript), info=b"EMacKey")
    return hkdf.derive(shared)


def device_signed_check(document: dict, *, device_key, session_transcript: bytes, reader_private_key=None) -> None:
    """Check deviceSigned: the device key's signature (or MAC) over DeviceAuthentication with this SessionTranscript."""
    import hmac as hmac_module

    device_signed = document.get("deviceSigned")
    if not isinstance(device_signed, dict):
        raise CredentialRefused(DEVICE_AUTH_INVALID)
    name_spaces, device_auth = device_signed.get("nameSpaces"), device_signed.get("deviceAuth")
    if not (isinstance(name_spaces, CborTag) and name_spaces.tag == 24 and isinstance(name_spaces.value, bytes)):
        raise CredentialRefused(DEVICE_AUTH_INVALID)
    if not isinstance(cbor_decode(name_spaces.value), dict) or not isinstance(device_auth, dict):
        raise CredentialRefused(DEVICE_AUTH_INVALID)
    alg, public_key = cose_key_public(device_key)
    data = device_authentication_bytes(session_transcript, document.get("docType"), name_spaces)
    if "deviceSignature" in device_auth:
        protected_bytes, protected, _, payload, signature = _cose_parts(device_auth["deviceSignature"], 18)
        if payload is not None or protected.get(COSE_HEADER_ALG) != alg:
            raise CredentialRefused(DEVICE_AUTH_INVALID)
        if not cose_signature_valid(
            alg, public_key, signature, cbor_encode(["Signature1", protected_bytes, b"", data])
        ):
            raise CredentialRefused(DEVICE_AUTH_INVALID)
        return
    if "deviceMac" in device_auth:
        protected_bytes, protected, _, payload, tag = _cose_parts(device_auth["deviceMac"], 17)
        if payload is not None or protected.get(COSE_HEADER_ALG) != COSE_ALG_HMAC256 or reader_private_key is None:
            raise CredentialRefused(DEVICE_AUTH_INVALID)
        if alg != COSE_ALG_ES256:
            raise CredentialRefused(DEVICE_AUTH_INVALID)
        key = device_mac_key(reader_private_key, public_key, session_transcript)
        expected = hmac_module.new(key, cbor_encode(["MAC0", protected_bytes, b"", data]), "sha256").digest()
        if not hmac_module.compare_digest(expected, tag):
            raise CredentialRefused(DEVICE_AUTH_INVALID)
        return
    raise CredentialRefused(DEVICE_AUTH_INVALID)


def _mdoc_document_check(doc, trust_anchors: list, *, now: float) -> tuple[dict, dict, object]:
    """Check an mdoc Document's issuerSigned part; return (its OneCard claims, the MSO, the signer certificate)."""
    if not isinstance(doc, dict) or doc.get("docType") != MDOC_DOCTYPE:
        raise CredentialRefused(INVALID_CLAIMS)
    issuer_signed = doc.get("issuerSigned")
    if not isinstance(issuer_signed, dict):
        raise CredentialRefused(MALFORMED)
    mso, signer = issuer_auth_check(issuer_signed.get("issuerAuth"), trust_anchors, now=now)
    mso_check(mso, doc_type=MDOC_DOCTYPE, now=now)
    checked = issuer_items_check(issuer_signed.get("nameSpaces"), mso)
    return checked.get(MDOC_NAMESPACE, {}), mso, signer


def _mdoc_verdict(claims: dict, mso: dict, signer, *, fmt: str, holder_bound, status_list, now, max_age_hours):
    from cryptography.x509.oid import NameOID

    status_reference = mso.get("status") if isinstance(mso.get("status"), dict) else None
    status, detail = status_check(status_reference, status_list, now=now, max_age_hours=max_age_hours)
    reason = None if status == "valid" else (STATUS_UNKNOWN if status == "unknown" else status)
    names = signer.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return PresentationVerdict(
        valid=reason is None,
        format=fmt,
        reason=reason,
        status=status,
        status_detail=detail,
        issuer=names[0].value if names else None,
        claims=claims,
        holder_bound=holder_bound,
        status_reference=status_reference,
    )


def mdoc_verify(
    document: bytes,
    *,
    trust_anchors: list,
    status_list: TokenStatusList | None,
    now: float | None = None,
    max_status_age_hours: float = DEFAULT_STATUS_MAX_AGE_HOURS,
) -> PresentationVerdict:
    """Verify an issuer-signed mdoc Document: the chain to the IACA, issuerAuth, each item's digest, validity, status.

    Nothing proves the holder here: a copied Document verifies too. At a counter,
    use a DeviceResponse from a session (mdoc_device_response_verify).
    """
    now = time.time() if now is None else now
    try:
        if len(document) > MDOC_MAX_BYTES:
            raise CredentialRefused(OVERSIZED)
        claims, mso, signer = _mdoc_document_check(cbor_decode(document), trust_anchors, now=now)
    except CredentialRefused as error:
        return PresentationVerdict(False, "mdoc", error.reason, None, None)
    return _mdoc_verdict(
        claims,
        mso,
        signer,
        fmt="mdoc",
        holder_bound=False,
        status_list=status_list,
        now=now,
        max_age_hours=max_status_age_hours,
    )


def mdoc_device_response_verify(
    device_response: bytes,
    *,
    session_transcript: bytes,
    trust_anchors: list,
    status_list: TokenStatusList | None,
    reader_private_key=None,
    now: float | None = None,
    max_status_age_hours: float = DEFAULT_STATUS_MAX_AGE_HOURS,
) -> PresentationVerdict:
    """Verify an ISO/IEC 18013-5 DeviceResponse received in the session whose SessionTranscript (CBOR) is given.

    Checks the chain to the IACA, the MSO signature, every item's digest, the
    validity, the device's signature or MAC over this session's transcript (so a
    response recorded in another session fails), then the status list.
    """
    now = time.time() if now is None else now
    fmt = "mdoc-device-response"
    try:
        if len(device_response) > MDOC_MAX_BYTES:
            raise CredentialRefused(OVERSIZED)
        response = cbor_decode(device_response)
        if not isinstance(response, dict) or response.get("version") != "1.0" or response.get("status") != 0:
            raise CredentialRefused(MALFORMED)
        documents = response.get("documents") or []
        if not isinstance(documents, list):
            raise CredentialRefused(MALFORMED)
        ours = [doc for doc in documents if isinstance(doc, dict) and doc.get("docType") == MDOC_DOCTYPE]
        if len(ours) != 1:
            raise CredentialRefused(INVALID_CLAIMS)
        claims, mso, signer = _mdoc_document_check(ours[0], trust_anchors, now=now)
        device_key_info = mso.get("deviceKeyInfo")
        if not isinstance(device_key_info, dict) or "deviceKey" not in device_key_info:
            raise CredentialRefused(DEVICE_AUTH_INVALID)
        device_signed_check(
            ours[0],
            device_key=device_key_info["deviceKey"],
            session_transcript=session_transcript,
            reader_private_key=reader_private_key,
        )
    except CredentialRefused as error:
        return PresentationVerdict(False, fmt, error.reason, None, None)
    return _mdoc_verdict(
        claims,
        mso,
        signer,
        fmt=fmt,
        holder_bound=True,
        status_list=status_list,
        now=now,
        max_age_hours=max_status_age_hours,
    )


def mdoc_verdict_printable(verdict: PresentationVerdict, photo_dir: str = ".") -> dict:
    """Return VERDICT as JSON-ready data: a presented portrait written to a file, other bytes as base64url."""
    result = asdict(verdict)
    result.pop("status_reference", None)
    portrait = (verdict.claims or {}).get("portrait")
    if isinstance(portrait, bytes):
        result["photo"] = _jpeg_write(portrait, photo_dir)
        result["claims"]["portrait"] = "(written to photo)"
    for name, value in (result.get("claims") or {}).items():
        if isinstance(value, bytes):
            result["claims"][name] = b64url_encode(value)
    return result


def mdoc_verify_text(
    token: str, *, trust_anchors, status_list, now: float, max_status_age_hours: float, photo_dir: str = "."
) -> dict:
    """Verify an issuer-signed mdoc given as base64url or hex text; write a presented portrait to a file."""
    try:
        text = token.strip()
        document = bytes.fromhex(text) if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text) else b64url_decode(text)
    except (CredentialRefused, ValueError):
        return {"valid": False, "format": "unknown", "reason": MALFORMED, "status": None, "status_detail": None}
    verdict = mdoc_verify(
        document,
        trust_anchors=trust_anchors,
        status_list=status_list,
        now=now,
        max_status_age_hours=max_status_age_hours,
    )
    return mdoc_verdict_printable(verdict, photo_dir)


if __name__ == "__main__":
    sys.exit(main())
