#!/usr/bin/env python3
"""ISO/IEC 18013-5 proximity presentation of a OneCard mdoc: engagement, session encryption, request, response.

The messages are the standard's; carrying them (BLE, NFC, a website, a file) is
up to the caller. This module holds what both sides share and the reader:

- DeviceEngagement (section 8.2.1.1) with the holder's ephemeral P-256 key, shown as an ``mdoc:`` QR code;
- the SessionTranscript ``[DeviceEngagementBytes, EReaderKeyBytes, Handover]`` (9.1.5.1), Handover null for QR;
- SessionEstablishment and SessionData (9.1.1.4), encrypted with AES-256-GCM under SKReader and SKDevice,
  HKDF-SHA256 of the ECDH secret with salt SHA-256(SessionTranscriptBytes) (9.1.1.5);
- the reader (MdocReader): it answers a holder's QR code with a DeviceRequest and verifies the DeviceResponse
  with onecard_card_verify (the chain to the IACA, the MSO, the digests, validity, the device signature
  over this session, the status list).

The holder's side is onecard_wallet.py. Needs Python 3.11 and ``cryptography``.

    python onecard_mdoc.py request --cache cache/ --state reader.json "mdoc:owBjMS4wAYIB2BhYS6QBAiAB..."
    python onecard_mdoc.py response --cache cache/ --state reader.json @session-data.bin
"""

import argparse
import json
import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if __package__:
    from . import onecard_card_verify as verify
else:  # run as a script, beside onecard_card_verify.py
    import onecard_card_verify as verify

CborTag, cbor_encode, cbor_decode = verify.CborTag, verify.cbor_encode, verify.cbor_decode
CredentialRefused = verify.CredentialRefused

ENGAGEMENT_URI_PREFIX = "mdoc:"
# Cipher suite 1: ECDH with an ephemeral key, HKDF-SHA256, AES-256-GCM (ISO/IEC 18013-5 9.1.1.5).
CIPHER_SUITE = 1
# The first 8 bytes of the GCM nonce say who encrypted; the last 4 count that side's messages from 1.
READER_IDENTIFIER = bytes(8)
DEVICE_IDENTIFIER = bytes(7) + b"\x01"
# SessionData status codes (Table 20).
STATUS_ENCRYPTION_ERROR, STATUS_DECODING_ERROR, STATUS_TERMINATION = 10, 11, 20
# DeviceResponse status and the error code of an element not returned (Tables 8 and 9).
RESPONSE_OK, DATA_NOT_RETURNED = 0, 0
SESSION_INVALID = "session_invalid"
SESSION_TERMINATED = "session_terminated"


def cose_key_ec2(public_key: ec.EllipticCurvePublicKey) -> dict:
    """Return the COSE_Key of a P-256 public key: {1: 2 (EC2), -1: 1 (P-256), -2: x, -3: y}."""
    numbers = public_key.public_numbers()
    return {1: 2, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}


def ec_public_key(cose_key) -> ec.EllipticCurvePublicKey:
    """Return the P-256 public key of an ephemeral COSE_Key, or raise CredentialRefused(session_invalid)."""
    try:
        alg, key = verify.cose_key_public(cose_key)
    except CredentialRefused:
        raise CredentialRefused(SESSION_INVALID) from None
    if alg != verify.COSE_ALG_ES256:
        raise CredentialRefused(SESSION_INVALID)
    return key


def device_engagement_build(e_device_key: ec.EllipticCurvePublicKey, *, retrieval_methods: list | None = None) -> bytes:
    """Return the CBOR DeviceEngagement carrying the holder's ephemeral key (and any retrieval methods)."""
    engagement = {0: "1.0", 1: [CIPHER_SUITE, CborTag(24, cbor_encode(cose_key_ec2(e_device_key)))]}
    if retrieval_methods:
        engagement[2] = retrieval_methods
    return cbor_encode(engagement)


def device_engagement_uri(device_engagement: bytes) -> str:
    """Return the QR code text of a DeviceEngagement: 'mdoc:' and its base64url without padding (8.2.2.3)."""
    return ENGAGEMENT_URI_PREFIX + verify.b64url_encode(device_engagement)


def device_engagement_parse(engagement) -> tuple[bytes, ec.EllipticCurvePublicKey]:
    """Return (DeviceEngagement bytes, the holder's ephemeral key) from an 'mdoc:' URI or the CBOR bytes."""
    if isinstance(engagement, str):
        if not engagement.startswith(ENGAGEMENT_URI_PREFIX):
            raise CredentialRefused(SESSION_INVALID)
        try:
            engagement = verify.b64url_decode(engagement[len(ENGAGEMENT_URI_PREFIX) :].strip())
        except CredentialRefused:
            raise CredentialRefused(SESSION_INVALID) from None
    try:
        decoded = cbor_decode(engagement)
    except CredentialRefused:
        raise CredentialRefused(SESSION_INVALID) from None
    if not isinstance(decoded, dict):
        raise CredentialRefused(SESSION_INVALID)
    security = decoded.get(1)
    if not (isinstance(decoded.get(0), str) and decoded[0].startswith("1.")) or not isinstance(security, list):
        raise CredentialRefused(SESSION_INVALID)
    if len(security) != 2 or security[0] != CIPHER_SUITE:
        raise CredentialRefused(SESSION_INVALID)
    key_bytes = security[1]
    if not (isinstance(key_bytes, CborTag) and key_bytes.tag == 24 and isinstance(key_bytes.value, bytes)):
        raise CredentialRefused(SESSION_INVALID)
    return engagement, ec_public_key(cbor_decode(key_bytes.value))


def session_transcript_encode(device_engagement: bytes, e_reader_key: bytes, handover=None) -> bytes:
    """Return the CBOR SessionTranscript: [#6.24(DeviceEngagement), #6.24(EReaderKey), Handover] (null for QR)."""
    return cbor_encode([CborTag(24, device_engagement), CborTag(24, e_reader_key), handover])


def session_keys(private_key: ec.EllipticCurvePrivateKey, peer_key, session_transcript: bytes) -> tuple[bytes, bytes]:
    """Return (SKReader, SKDevice): HKDF-SHA256 of the ECDH secret, salted with SHA-256(SessionTranscriptBytes)."""
    shared = private_key.exchange(ec.ECDH(), peer_key)
    salt = verify.session_transcript_salt(session_transcript)
    return tuple(
        HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared)
        for info in (b"SKReader", b"SKDevice")
    )


class SessionCipher:
    """AES-256-GCM of one side of a session: its own key and counter to send, the peer's to receive."""

    def __init__(self, *, send_key: bytes, receive_key: bytes, send_identifier: bytes, receive_identifier: bytes):
        self._send, self._receive = AESGCM(send_key), AESGCM(receive_key)
        self._send_identifier, self._receive_identifier = send_identifier, receive_identifier
        self.sent = 0
        self.received = 0

    def encrypt(self, plaintext: bytes) -> bytes:
        """Encrypt the next message to the peer; the counter in the nonce starts at 1."""
        self.sent += 1
        return self._send.encrypt(self._send_identifier + self.sent.to_bytes(4, "big"), plaintext, None)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt the peer's next message; a replayed, reordered or altered one fails (session_invalid)."""
        nonce = self._receive_identifier + (self.received + 1).to_bytes(4, "big")
        try:
            plaintext = self._receive.decrypt(nonce, ciphertext, None)
        except (InvalidTag, ValueError, TypeError):
            raise CredentialRefused(SESSION_INVALID) from None
        self.received += 1
        return plaintext


def session_data(*, data: bytes | None = None, status: int | None = None) -> bytes:
    """Return a CBOR SessionData: {"data": ciphertext} and/or {"status": code}."""
    message = {}
    if data is not None:
        message["data"] = data
    if status is not None:
        message["status"] = status
    return cbor_encode(message)


def device_request_build(elements: dict[str, bool], *, doc_type: str = verify.MDOC_DOCTYPE) -> bytes:
    """Return a CBOR DeviceRequest for ELEMENTS of the OneCard namespace, each {name: intent to retain}."""
    items_request = {"docType": doc_type, "nameSpaces": {verify.MDOC_NAMESPACE: dict(elements)}}
    return cbor_encode({"version": "1.0", "docRequests": [{"itemsRequest": CborTag(24, cbor_encode(items_request))}]})


class MdocReader:
    """The reader's side of one session, started from the holder's engagement QR code."""

    def __init__(self, engagement, *, private_key: ec.EllipticCurvePrivateKey | None = None, sent: int = 0):
        self.device_engagement, device_key = device_engagement_parse(engagement)
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.e_reader_key = cbor_encode(cose_key_ec2(self.private_key.public_key()))
        self.session_transcript = session_transcript_encode(self.device_engagement, self.e_reader_key)
        sk_reader, sk_device = session_keys(self.private_key, device_key, self.session_transcript)
        self.cipher = SessionCipher(
            send_key=sk_reader,
            receive_key=sk_device,
            send_identifier=READER_IDENTIFIER,
            receive_identifier=DEVICE_IDENTIFIER,
        )
        self.cipher.sent = sent

    def establishment(self, elements: dict[str, bool]) -> bytes:
        """Return the SessionEstablishment asking for ELEMENTS: the reader's ephemeral key and the encrypted request."""
        request = self.cipher.encrypt(device_request_build(elements))
        return cbor_encode({"eReaderKey": CborTag(24, self.e_reader_key), "data": request})

    def response(self, message: bytes) -> bytes:
        """Return the DeviceResponse in the holder's SessionData, or raise CredentialRefused."""
        try:
            decoded = cbor_decode(message)
        except CredentialRefused:
            raise CredentialRefused(SESSION_INVALID) from None
        if not isinstance(decoded, dict):
            raise CredentialRefused(SESSION_INVALID)
        if not isinstance(decoded.get("data"), bytes):
            status = decoded.get("status")
            raise CredentialRefused(SESSION_TERMINATED if status == STATUS_TERMINATION else SESSION_INVALID)
        return self.cipher.decrypt(decoded["data"])

    def verify(self, message: bytes, *, trust_anchors: list, status_list, now: float | None = None, **options):
        """Decrypt the holder's SessionData and verify its DeviceResponse against this session's transcript."""
        try:
            device_response = self.response(message)
        except CredentialRefused as refused:
            return verify.PresentationVerdict(False, "mdoc-device-response", refused.reason, None, None)
        return verify.mdoc_device_response_verify(
            device_response,
            session_transcript=self.session_transcript,
            trust_anchors=trust_anchors,
            status_list=status_list,
            reader_private_key=self.private_key,
            now=now,
            **options,
        )

    def termination(self) -> bytes:
        """Return the SessionData that ends the session (status 20)."""
        return session_data(status=STATUS_TERMINATION)

    def state(self) -> dict:
        """Return what the reader must keep between its request and the holder's answer (secret: the private key)."""
        private = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return {
            "engagement": verify.b64url_encode(self.device_engagement),
            "reader_key": private.decode("ascii"),
            "sent": self.cipher.sent,
        }

    @classmethod
    def from_state(cls, state: dict) -> "MdocReader":
        """Resume a session from state()."""
        key = serialization.load_pem_private_key(state["reader_key"].encode("ascii"), password=None)
        return cls(verify.b64url_decode(state["engagement"]), private_key=key, sent=state["sent"])


# The elements a counter asks for by default: enough to identify the holder face to face.
DEFAULT_ELEMENTS = ("name", "portrait", "age_over_18", "card_number", "insured")


def _read_message(argument: str) -> bytes:
    if argument.startswith("@"):
        with open(argument[1:], "rb") as handle:
            data = handle.read()
    else:
        data = argument.encode("ascii")
    text = data.strip()
    try:
        # Text (base64url or hex) or the binary CBOR itself.
        text_value = text.decode("ascii")
        if text_value and all(c in "0123456789abcdefABCDEF" for c in text_value) and len(text_value) % 2 == 0:
            return bytes.fromhex(text_value)
        return verify.b64url_decode(text_value)
    except (UnicodeDecodeError, CredentialRefused):
        return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Read a OneCard mdoc at a counter (ISO/IEC 18013-5, QR engagement).")
    steps = parser.add_subparsers(dest="step", required=True)
    request = steps.add_parser("request", help="answer the holder's mdoc: QR code with a SessionEstablishment")
    request.add_argument("engagement", help="the text of the holder's QR code (mdoc:...)")
    request.add_argument("--elements", default=",".join(DEFAULT_ELEMENTS), help="comma-separated data elements")
    response = steps.add_parser("response", help="verify the holder's SessionData (base64url, hex, or @FILE)")
    response.add_argument("message")
    response.add_argument("--photo-dir", default=".", help="where to write a presented photo (default: here)")
    response.add_argument("--max-status-age-hours", type=float, default=verify.DEFAULT_STATUS_MAX_AGE_HOURS)
    for step in (request, response):
        step.add_argument("--state", required=True, help="file keeping the session between the two steps (secret)")
        step.add_argument("--cache", help="directory filled by onecard_card_verify.py --refresh")
    args = parser.parse_args(argv)
    if args.step == "request":
        try:
            reader = MdocReader(args.engagement.strip())
        except CredentialRefused as refused:
            print(f"error: not an mdoc engagement QR code ({refused.reason})", file=sys.stderr)
            return verify.EXIT_REFUSED
        elements = {name.strip(): False for name in args.elements.split(",") if name.strip()}
        message = reader.establishment(elements)
        fd = os.open(args.state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(reader.state(), handle)
        print(verify.b64url_encode(message))
        return verify.EXIT_VALID
    if not args.cache:
        parser.error("response needs --cache DIR (IACA certificate and Token Status List)")
    try:
        with open(args.state, encoding="utf-8") as handle:
            reader = MdocReader.from_state(json.load(handle))
        with open(os.path.join(args.cache, verify.CACHE_IACA_FILE), "rb") as handle:
            trust_anchors = verify.trust_anchors_load(handle.read())
        with open(os.path.join(args.cache, verify.CACHE_KEYS_FILE), encoding="utf-8") as handle:
            keys = verify.jwks_load(json.load(handle).get("jwks", {}))
    except OSError as error:
        print(f"error: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return verify.EXIT_UNUSABLE
    except (ValueError, KeyError, CredentialRefused) as error:
        print(f"error: the session state or cache is not usable: {error}", file=sys.stderr)
        return verify.EXIT_UNUSABLE
    status_list = None
    try:
        with open(os.path.join(args.cache, verify.CACHE_STATUS_FILE), encoding="utf-8") as handle:
            status_list = verify.token_status_list_load(handle.read(), keys)
    except (OSError, CredentialRefused):
        print("warning: no usable status list; status will be unknown", file=sys.stderr)
    verdict = reader.verify(
        _read_message(args.message),
        trust_anchors=trust_anchors,
        status_list=status_list,
        max_status_age_hours=args.max_status_age_hours,
    )
    result = verify.mdoc_verdict_printable(verdict, args.photo_dir)
    print(json.dumps(result, ensure_ascii=False))
    if result["valid"]:
        return verify.EXIT_VALID
    return verify.EXIT_STATUS_UNKNOWN if result.get("reason") == verify.STATUS_UNKNOWN else verify.EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
