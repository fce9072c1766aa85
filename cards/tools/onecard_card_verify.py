#!/usr/bin/env python3
"""Verify a OneCard QR credential offline, with only the published JWKS and status list.

Needs Python 3.11+ and the ``cryptography`` package; nothing from Django.

    python onecard_card_verify.py --jwks jwks.json --status-list status.jwt "eyJhbGciOi..."
    echo "eyJhbGciOi..." | python onecard_card_verify.py --jwks jwks.json --status-list status.jwt -

Prints one JSON object ``{"valid", "card_number", "version", "status", "reason", "dynamic"}``
and exits 0 when the credential is valid, 1 when it is not, 2 when the JWKS or
status list cannot be used. The server imports the parsing functions from here,
so online and offline verification give the same reasons.
"""

import argparse
import base64
import binascii
import json
import re
import sys
import time
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a OneCard QR credential offline.")
    parser.add_argument("--jwks", required=True, help="file holding /.well-known/jwks.json")
    parser.add_argument("--status-list", required=True, help="file holding the signed status list (/cards/status)")
    parser.add_argument("token", help="the QR text, or - to read it from standard input")
    args = parser.parse_args(argv)
    now = time.time()
    try:
        with open(args.jwks, encoding="utf-8") as handle:
            keys = jwks_load(handle.read())
        with open(args.status_list, encoding="utf-8") as handle:
            statuses = status_list_load(handle.read(), keys, now=now)
    except OSError as error:
        print(f"error: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    except (ValueError, AttributeError, TypeError) as error:
        print(f"error: the JWKS is not usable: {error}", file=sys.stderr)
        return 2
    except CredentialRefused as refused:
        print(f"error: the status list is not usable ({refused.reason}); fetch a fresh one", file=sys.stderr)
        return 2
    token = sys.stdin.read() if args.token == "-" else args.token
    verdict = credential_verify(token.strip(), keys=keys, statuses=statuses, now=now)
    print(json.dumps(asdict(verdict)))
    return 0 if verdict.valid else 1


if __name__ == "__main__":
    sys.exit(main())
