"""Card signing keys: sealed storage, the current signer, the JWKS, and JWS signing.

Private keys are stored in the database sealed with AES-256-GCM under
ONECARD_CARD_KEY_ENCRYPTION_KEY, so a database dump alone cannot forge cards.
The first key is created on first use; ``manage.py cards rotate_keys`` adds a
newer one, which signs from then on while older keys keep verifying until
``manage.py cards retire_key KID``.
"""

import hashlib
import json
import os
import threading
import time

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction

from cards import mdoc_pki
from cards.lock_objects import signing_keys_lock
from cards.models import CardSigningKey
from cards.tools.onecard_card_verify import b64url_encode

# Another process's rotation or retirement is seen within this many seconds.
_CACHE_SECONDS = 30
_lock = threading.Lock()
_cache: dict = {"loaded_at": None, "signer": None, "verifiers": {}, "retired": set()}


class KeySealError(Exception):
    """A stored private key does not open under the configured key-encryption key."""


def _associated_data(kid: str) -> bytes:
    return b"onecard:card-signing-key:" + kid.encode()


def _kek() -> AESGCM:
    return AESGCM(settings.ONECARD_CARD_KEY_ENCRYPTION_KEY[:32])


def jwk_thumbprint(public_raw: bytes) -> str:
    """Return the RFC 7638 thumbprint of an Ed25519 public key, used as its kid."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(public_raw)}, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def _private_unseal(row: CardSigningKey) -> Ed25519PrivateKey:
    blob = bytes(row.private_key_ciphertext)
    try:
        raw = _kek().decrypt(blob[:12], blob[12:], _associated_data(row.kid))
    except InvalidTag as error:
        raise KeySealError(f"signing key {row.kid} does not open under ONECARD_CARD_KEY_ENCRYPTION_KEY") from error
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key_create() -> CardSigningKey:
    """Create a new signing key; being the newest, it signs from now on."""
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    private_raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    kid = jwk_thumbprint(public_raw)
    nonce = os.urandom(12)
    row = CardSigningKey(
        kid=kid,
        public_key=public_raw,
        private_key_ciphertext=nonce + _kek().encrypt(nonce, private_raw, _associated_data(kid)),
    )
    row.full_clean()
    row.save()
    keys_cache_clear()
    return row


def keys_cache_clear() -> None:
    """Forget the cached keys so the next use reads the database."""
    with _lock:
        # None, not 0.0: the monotonic clock counts from boot, so on a machine up for less
        # than _CACHE_SECONDS a zero would still look fresh and the clear would do nothing.
        _cache["loaded_at"] = None


def _load() -> dict:
    with _lock:
        loaded_at = _cache["loaded_at"]
        if loaded_at is not None and time.monotonic() - loaded_at < _CACHE_SECONDS and _cache["signer"] is not None:
            return _cache
    # Newest by id, not created_at: the wall clock can step back (a VM syncing its clock at
    # boot), and a rotated key must sign from the moment it exists.
    rows = list(CardSigningKey.objects.order_by("-id"))
    live = [row for row in rows if row.retired_at is None]
    if not live:
        with transaction.atomic():
            # Lock and look again: two first uses at once still make one key each at most.
            if not any(row.retired_at is None for row in signing_keys_lock()):
                signing_key_create()
        rows = list(CardSigningKey.objects.order_by("-id"))
        live = [row for row in rows if row.retired_at is None]
    newest = live[0]
    with _lock:
        _cache["signer"] = (newest.kid, _private_unseal(newest))
        _cache["verifiers"] = {row.kid: Ed25519PublicKey.from_public_bytes(bytes(row.public_key)) for row in live}
        _cache["retired"] = {row.kid for row in rows if row.retired_at is not None}
        _cache["loaded_at"] = time.monotonic()
        return _cache


def verification_keys() -> dict[str, Ed25519PublicKey]:
    """Return {kid: public key} for every key that is not retired."""
    return _load()["verifiers"]


def retired_kids() -> set[str]:
    """Return the kids of retired keys, to tell 'retired' from 'unknown'."""
    return _load()["retired"]


def jws_sign(claims: dict, *, typ: str = "JWT") -> str:
    """Sign CLAIMS as a compact JWS with the current key (EdDSA, header kid)."""
    kid, private = _load()["signer"]
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid, "typ": typ})


def raw_sign(data: bytes) -> tuple[str, bytes]:
    """Sign DATA with the current key (Ed25519); return (kid, signature), for COSE."""
    kid, private = _load()["signer"]
    return kid, private.sign(data)


def jwks_document() -> dict:
    """Return the JWKS of every key that is not retired, newest first."""
    rows = CardSigningKey.objects.filter(retired_at__isnull=True)
    if not rows.exists():
        _load()
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64url_encode(bytes(row.public_key)),
                "kid": row.kid,
                "use": "sig",
                "alg": "EdDSA",
            }
            for row in CardSigningKey.objects.filter(retired_at__isnull=True).order_by("-id")
        ]
    }


def mdoc_document_signer() -> tuple:
    """Return the mdoc document signer: (P-256 private key, its certificate, the IACA certificate)."""
    signer = settings.ONECARD_MDOC_SIGNER
    cached = _mdoc_cache.get("loaded")
    if cached is None or cached[0] is not signer:
        cached = (signer, mdoc_pki.document_signer_load(signer))
        _mdoc_cache["loaded"] = cached
    return cached[1]


_mdoc_cache: dict = {}
