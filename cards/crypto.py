"""Encrypt national IDs and other secrets at rest (resident data, TOTP keys); compute keyed hashes."""

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from cards.national_id import normalize_national_id

_VERSION = b"\x01"
_ASSOCIATED_DATA = b"onecard:resident.national_id"


class DecryptionError(Exception):
    """The stored ciphertext does not decrypt under the configured key."""


def national_id_encrypt(number: str) -> bytes:
    """Return version || nonce || AES-256-GCM ciphertext of NUMBER."""
    return resident_data_seal(number.encode(), label=_ASSOCIATED_DATA)


def national_id_decrypt(blob: bytes) -> str:
    """Return the plaintext number sealed in BLOB."""
    return resident_data_open(blob, label=_ASSOCIATED_DATA).decode()


def resident_data_seal(data: bytes, *, label: bytes) -> bytes:
    """Return version || nonce || AES-256-GCM ciphertext of DATA, bound to LABEL (what the data is)."""
    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(settings.ONECARD_NATIONAL_ID_KEY[:32]).encrypt(nonce, data, label)


def resident_data_open(blob: bytes, *, label: bytes) -> bytes:
    """Return the data sealed in BLOB under LABEL, or raise DecryptionError."""
    blob = bytes(blob)
    if blob[:1] != _VERSION:
        raise DecryptionError("unknown ciphertext version")
    try:
        return AESGCM(settings.ONECARD_NATIONAL_ID_KEY[:32]).decrypt(blob[1:13], blob[13:], label)
    except InvalidTag as error:
        raise DecryptionError("ciphertext does not authenticate") from error


def national_id_lookup_hash(number: str) -> str:
    """Return the keyed HMAC-SHA256 index of a national ID, in hex, normalising it first."""
    return hmac.new(settings.ONECARD_LOOKUP_KEY, normalize_national_id(number).encode(), hashlib.sha256).hexdigest()


def secret_keyed_hash(value: str, *, context: str) -> str:
    """Return the keyed HMAC-SHA256 of VALUE in hex, separated from other uses of the key by CONTEXT."""
    message = f"onecard:{context}\x00{value}".encode()
    return hmac.new(settings.ONECARD_LOOKUP_KEY, message, hashlib.sha256).hexdigest()
