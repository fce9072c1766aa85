#!/usr/bin/env python3
"""A small holder wallet for the OneCard mdoc: it keeps the device key and the mdoc and answers a reader.

ISO/IEC 18013-5 proximity presentation, holder side (the reader is onecard_mdoc.py):

1. ``engage()`` makes an ephemeral P-256 key and returns the ``mdoc:`` QR code text (DeviceEngagement);
2. ``respond(session_establishment)`` takes the reader's ephemeral key, derives the session keys from the
   SessionTranscript, decrypts the DeviceRequest, keeps only the requested elements the holder agrees to
   show, signs DeviceAuthentication over the SessionTranscript with the device key (deviceSignature, ES256
   or EdDSA; or deviceMac, HMAC-SHA256 under EMacKey) and returns the encrypted SessionData.

For OpenID4VCI issuance it signs the key proof (``oid4vci_proof``) with the same device key.

The device key is the key whose public half the wallet sent as ``holder_jwk`` when the card was issued;
the MSO names it in deviceKeyInfo. Needs Python 3.11 and ``cryptography``.

    python onecard_wallet.py init --dir wallet/             # device key; prints the public JWK to send
    python onecard_wallet.py store --dir wallet/ onecard.mdoc
    python onecard_wallet.py engage --dir wallet/           # prints the mdoc: QR code text
    python onecard_wallet.py respond --dir wallet/ @session-establishment.txt [--refuse portrait]
"""

import argparse
import hmac
import json
import os
import sys
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

if __package__:
    from . import onecard_card_verify as verify
    from . import onecard_mdoc as mdoc
else:  # run as a script, beside onecard_card_verify.py and onecard_mdoc.py
    import onecard_card_verify as verify
    import onecard_mdoc as mdoc

CborTag, cbor_encode, cbor_decode = verify.CborTag, verify.cbor_encode, verify.cbor_decode
CredentialRefused = verify.CredentialRefused


def device_key_generate() -> ec.EllipticCurvePrivateKey:
    """Return a new P-256 device key (ES256, and able to MAC)."""
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key) -> dict:
    """Return the public JWK of a device key, as sent in holder_jwk when the card is issued."""
    if isinstance(private_key, Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": verify.b64url_encode(raw)}
    numbers = private_key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": verify.b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": verify.b64url_encode(numbers.y.to_bytes(32, "big")),
    }


def _sign(private_key, data: bytes) -> tuple[int, bytes]:
    if isinstance(private_key, Ed25519PrivateKey):
        return verify.COSE_ALG_EDDSA, private_key.sign(data)
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    return verify.COSE_ALG_ES256, r.to_bytes(32, "big") + s.to_bytes(32, "big")


def oid4vci_proof(private_key, *, audience: str, nonce: str, now: float | None = None) -> str:
    """Return an OpenID4VCI key proof (openid4vci-proof+jwt) by the device key for the issuer's c_nonce."""
    import time

    alg = "EdDSA" if isinstance(private_key, Ed25519PrivateKey) else "ES256"
    header = {"typ": "openid4vci-proof+jwt", "alg": alg, "jwk": public_jwk(private_key)}
    payload = {"aud": audience, "iat": int(time.time() if now is None else now), "nonce": nonce}
    signing_input = ".".join(
        verify.b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    _, signature = _sign(private_key, signing_input.encode("ascii"))
    return signing_input + "." + verify.b64url_encode(signature)


def issued_mdoc_document(credential: str, doc_type: str = verify.MDOC_DOCTYPE) -> bytes:
    """Return the Document a wallet keeps from an OpenID4VCI mso_mdoc credential (base64url IssuerSigned)."""
    issuer_signed = cbor_decode(verify.b64url_decode(credential))
    return cbor_encode({"docType": doc_type, "issuerSigned": issuer_signed})


class MdocWallet:
    """Hold one OneCard mdoc and its device key; answer readers one session at a time."""

    def __init__(self, *, device_key, document: bytes):
        doc = cbor_decode(document)
        if not (isinstance(doc, dict) and isinstance(doc.get("issuerSigned"), dict)):
            raise CredentialRefused(verify.MALFORMED)
        self.device_key = device_key
        self.doc_type = doc["docType"]
        self.issuer_signed = doc["issuerSigned"]
        self._engagement: bytes | None = None
        self._ephemeral: ec.EllipticCurvePrivateKey | None = None
        self.cipher: mdoc.SessionCipher | None = None

    def elements(self) -> list[str]:
        """Return the names of the data elements this mdoc holds."""
        items = self.issuer_signed.get("nameSpaces", {}).get(verify.MDOC_NAMESPACE, [])
        return [cbor_decode(wrapped.value)["elementIdentifier"] for wrapped in items]

    def engage(self, *, ephemeral_key: ec.EllipticCurvePrivateKey | None = None) -> str:
        """Start a session: a fresh ephemeral key; return the QR code text (mdoc: URI) to show the reader."""
        self._ephemeral = ephemeral_key or ec.generate_private_key(ec.SECP256R1())
        self._engagement = mdoc.device_engagement_build(self._ephemeral.public_key())
        self.cipher = None
        return mdoc.device_engagement_uri(self._engagement)

    def respond(
        self,
        session_establishment: bytes,
        *,
        consent: Callable[[list[str]], set[str]] | None = None,
        device_auth: str = "signature",
    ) -> bytes:
        """Answer the reader's SessionEstablishment with the encrypted DeviceResponse (a CBOR SessionData).

        CONSENT gets the requested element names and returns those the holder agrees to show
        (all of them when None). A message that does not decrypt gets SessionData status 10.
        """
        if self._engagement is None:
            raise CredentialRefused(mdoc.SESSION_INVALID)
        try:
            establishment = cbor_decode(session_establishment)
            reader_key_bytes = establishment["eReaderKey"]
            if not (isinstance(reader_key_bytes, CborTag) and reader_key_bytes.tag == 24):
                raise CredentialRefused(mdoc.SESSION_INVALID)
            reader_key = mdoc.ec_public_key(cbor_decode(reader_key_bytes.value))
            encrypted = establishment["data"]
        except (CredentialRefused, KeyError, TypeError):
            return mdoc.session_data(status=mdoc.STATUS_DECODING_ERROR)
        session_transcript = mdoc.session_transcript_encode(self._engagement, reader_key_bytes.value)
        sk_reader, sk_device = mdoc.session_keys(self._ephemeral, reader_key, session_transcript)
        self.cipher = mdoc.SessionCipher(
            send_key=sk_device,
            receive_key=sk_reader,
            send_identifier=mdoc.DEVICE_IDENTIFIER,
            receive_identifier=mdoc.READER_IDENTIFIER,
        )
        try:
            request = cbor_decode(self.cipher.decrypt(encrypted))
        except CredentialRefused:
            return mdoc.session_data(status=mdoc.STATUS_ENCRYPTION_ERROR)
        response = self.device_response(
            request,
            session_transcript=session_transcript,
            reader_key=reader_key,
            consent=consent,
            device_auth=device_auth,
        )
        return mdoc.session_data(data=self.cipher.encrypt(response))

    def device_response(
        self,
        request,
        *,
        session_transcript: bytes,
        reader_key=None,
        consent: Callable[[list[str]], set[str]] | None = None,
        device_auth: str = "signature",
    ) -> bytes:
        """Return the CBOR DeviceResponse to a decoded DeviceRequest in the session of SESSION_TRANSCRIPT."""
        documents, document_errors = [], []
        doc_requests = request.get("docRequests") if isinstance(request, dict) else None
        if not isinstance(doc_requests, list):
            return cbor_encode({"version": "1.0", "status": 12})  # CBOR validation error
        for doc_request in doc_requests:
            items_request = doc_request.get("itemsRequest") if isinstance(doc_request, dict) else None
            try:
                items = cbor_decode(items_request.value)
                doc_type, requested = items["docType"], items["nameSpaces"].get(verify.MDOC_NAMESPACE, {})
                if not (isinstance(doc_type, str) and isinstance(requested, dict)):
                    raise TypeError
                asked = [name for name in requested if isinstance(name, str)]
            except (AttributeError, KeyError, TypeError, CredentialRefused):
                return cbor_encode({"version": "1.0", "status": 12})
            if doc_type != self.doc_type:
                document_errors.append({doc_type: mdoc.DATA_NOT_RETURNED})
                continue
            shown = set(asked) if consent is None else set(consent(asked)) & set(asked)
            documents.append(self._document(shown, asked, session_transcript, reader_key, device_auth))
        response = {"version": "1.0"}
        if documents:
            response["documents"] = documents
        if document_errors:
            response["documentErrors"] = document_errors
        response["status"] = mdoc.RESPONSE_OK
        return cbor_encode(response)

    def _document(self, shown: set[str], asked: list[str], session_transcript: bytes, reader_key, device_auth: str):
        held = self.issuer_signed.get("nameSpaces", {}).get(verify.MDOC_NAMESPACE, [])
        kept = [wrapped for wrapped in held if cbor_decode(wrapped.value)["elementIdentifier"] in shown]
        returned = {cbor_decode(wrapped.value)["elementIdentifier"] for wrapped in kept}
        device_name_spaces = CborTag(24, cbor_encode({}))
        data = verify.device_authentication_bytes(session_transcript, self.doc_type, device_name_spaces)
        if device_auth == "mac":
            if reader_key is None or not isinstance(self.device_key, ec.EllipticCurvePrivateKey):
                raise ValueError("a device MAC needs a P-256 device key and the reader's ephemeral key")
            protected = cbor_encode({verify.COSE_HEADER_ALG: verify.COSE_ALG_HMAC256})
            key = verify.device_mac_key(self.device_key, reader_key, session_transcript)
            tag = hmac.new(key, cbor_encode(["MAC0", protected, b"", data]), "sha256").digest()
            authentication = {"deviceMac": [protected, {}, None, tag]}
        else:
            alg = verify.COSE_ALG_EDDSA if isinstance(self.device_key, Ed25519PrivateKey) else verify.COSE_ALG_ES256
            protected = cbor_encode({verify.COSE_HEADER_ALG: alg})
            _, signature = _sign(self.device_key, cbor_encode(["Signature1", protected, b"", data]))
            authentication = {"deviceSignature": [protected, {}, None, signature]}
        document = {
            "docType": self.doc_type,
            "issuerSigned": {
                "nameSpaces": {verify.MDOC_NAMESPACE: kept},
                "issuerAuth": self.issuer_signed["issuerAuth"],
            },
            "deviceSigned": {"nameSpaces": device_name_spaces, "deviceAuth": authentication},
        }
        missing = [name for name in asked if name not in returned]
        if missing:
            document["errors"] = {verify.MDOC_NAMESPACE: {name: mdoc.DATA_NOT_RETURNED for name in missing}}
        return document


DEVICE_KEY_FILE, DOCUMENT_FILE, SESSION_FILE = "device-key.pem", "onecard.mdoc", "session.json"


def _write_secret(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _load(directory: str) -> MdocWallet:
    with open(os.path.join(directory, DEVICE_KEY_FILE), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    with open(os.path.join(directory, DOCUMENT_FILE), "rb") as handle:
        return MdocWallet(device_key=key, document=handle.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hold a OneCard mdoc and answer a reader (ISO/IEC 18013-5).")
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("init", help="make the device key; print its public JWK (send it as holder_jwk)")
    store = steps.add_parser("store", help="keep the mdoc issued for this device key")
    store.add_argument("file")
    steps.add_parser("engage", help="start a session: print the mdoc: QR code text")
    respond = steps.add_parser("respond", help="answer the reader's SessionEstablishment (base64url, hex or @FILE)")
    respond.add_argument("message")
    respond.add_argument("--refuse", default="", help="comma-separated elements not to show even if asked")
    respond.add_argument("--mac", action="store_true", help="authenticate with deviceMac instead of deviceSignature")
    for step in steps.choices.values():
        step.add_argument("--dir", required=True, help="the wallet's directory (secret)")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, mode=0o700, exist_ok=True)
    key_path = os.path.join(args.dir, DEVICE_KEY_FILE)
    try:
        if args.step == "init":
            if not os.path.exists(key_path):
                key = device_key_generate()
                _write_secret(
                    key_path,
                    key.private_bytes(
                        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                    ),
                )
            with open(key_path, "rb") as handle:
                key = serialization.load_pem_private_key(handle.read(), password=None)
            print(json.dumps(public_jwk(key)))
        elif args.step == "store":
            with open(args.file, "rb") as handle:
                document = handle.read()
            MdocWallet(device_key=None, document=document)  # it must decode before it replaces the old one
            _write_secret(os.path.join(args.dir, DOCUMENT_FILE), document)
        elif args.step == "engage":
            wallet = _load(args.dir)
            uri = wallet.engage()
            private = wallet._ephemeral.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _write_secret(os.path.join(args.dir, SESSION_FILE), json.dumps({"ephemeral": private.decode()}).encode())
            print(uri)
        else:
            wallet = _load(args.dir)
            with open(os.path.join(args.dir, SESSION_FILE), encoding="utf-8") as handle:
                state = json.load(handle)
            ephemeral = serialization.load_pem_private_key(state["ephemeral"].encode(), password=None)
            wallet.engage(ephemeral_key=ephemeral)
            refused = {name.strip() for name in args.refuse.split(",") if name.strip()}
            answer = wallet.respond(
                mdoc._read_message(args.message),
                consent=lambda asked: set(asked) - refused,
                device_auth="mac" if args.mac else "signature",
            )
            print(verify.b64url_encode(answer))
    except OSError as error:
        print(f"error: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    except (CredentialRefused, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
