"""The X.509 chain of OneCard's mdocs (ISO/IEC 18013-5 Annex B): an IACA root and a document signer certificate.

The IACA (issuing authority certificate authority) is the trust anchor a reader
holds; its private key stays offline and is used only to certify a new document
signer. The document signer (DS) key signs every MSO; its certificate travels in
the x5chain header of each mdoc's issuerAuth. Both keys are ECDSA P-256 (ES256).

Only `cryptography` is imported here: the settings module loads the chain at start-up.
"""

import base64
import datetime
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# The environment variables of the chain, DER in standard base64: DS key (PKCS#8), DS certificate, IACA certificate.
ENVIRONMENT_NAMES = (
    "ONECARD_MDOC_DOCUMENT_SIGNER_KEY",
    "ONECARD_MDOC_DOCUMENT_SIGNER_CERTIFICATE",
    "ONECARD_MDOC_IACA_CERTIFICATE",
)
# id-mdl-kp-mdlDS, the extended key usage every document signer certificate carries (ISO/IEC 18013-5 B.1.4).
DOCUMENT_SIGNER_EKU = x509.ObjectIdentifier("1.0.18013.5.1.2")
# Annex B's upper bounds: an IACA certificate at most 20 years, a document signer at most 457 days.
IACA_LIFETIME = datetime.timedelta(days=9 * 365)
DOCUMENT_SIGNER_LIFETIME = datetime.timedelta(days=365)


class MdocPkiInvalid(ValueError):
    """The configured IACA certificate, document signer certificate or key do not belong together."""


@dataclass(frozen=True)
class DocumentSigner:
    """A document signer key (PKCS#8 DER), its certificate (DER) and the IACA certificate (DER) that issued it."""

    key_der: bytes
    certificate_der: bytes
    iaca_certificate_der: bytes


def _serial() -> int:
    # Positive, at most 20 octets, with at least 63 bits of randomness (Annex B, RFC 5280 4.1.2.2).
    return secrets.randbits(159) | 1


def _name(common_name: str, country: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def iaca_create(
    *, common_name: str, country: str, issuer_url: str, now: datetime.datetime | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """Create an IACA root key and its self-signed certificate (ISO/IEC 18013-5 B.1.2)."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, country)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + IACA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.IssuerAlternativeName([x509.UniformResourceIdentifier(issuer_url)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def document_signer_create(
    *,
    iaca_key: ec.EllipticCurvePrivateKey,
    iaca_certificate: x509.Certificate,
    common_name: str,
    issuer_url: str,
    now: datetime.datetime | None = None,
) -> DocumentSigner:
    """Create a document signer key and certify it with the IACA key (ISO/IEC 18013-5 B.1.4)."""
    now = now or datetime.datetime.now(datetime.UTC)
    if iaca_key.public_key().public_numbers() != iaca_certificate.public_key().public_numbers():
        raise MdocPkiInvalid("the IACA key does not belong to the IACA certificate")
    country = iaca_certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + DOCUMENT_SIGNER_LIFETIME, iaca_certificate.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, country))
        .issuer_name(iaca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNER_EKU]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(iaca_certificate.public_key()), critical=False
        )
        .add_extension(x509.IssuerAlternativeName([x509.UniformResourceIdentifier(issuer_url)]), critical=False)
        .sign(iaca_key, hashes.SHA256())
    )
    return DocumentSigner(
        key_der=key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        iaca_certificate_der=iaca_certificate.public_bytes(serialization.Encoding.DER),
    )


def document_signer_load(
    signer: DocumentSigner,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, x509.Certificate]:
    """Return (DS key, DS certificate, IACA certificate), or raise MdocPkiInvalid when they do not belong together."""
    try:
        key = serialization.load_der_private_key(signer.key_der, password=None)
        certificate = x509.load_der_x509_certificate(signer.certificate_der)
        iaca = x509.load_der_x509_certificate(signer.iaca_certificate_der)
    except ValueError as error:
        raise MdocPkiInvalid(f"cannot read the mdoc keys: {error}") from None
    if not (isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)):
        raise MdocPkiInvalid("the document signer key must be an ECDSA P-256 key")
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise MdocPkiInvalid("the document signer key does not belong to the document signer certificate")
    try:
        certificate.verify_directly_issued_by(iaca)
    except (ValueError, TypeError, InvalidSignature):
        raise MdocPkiInvalid("the document signer certificate was not issued by the IACA certificate") from None
    return key, certificate, iaca


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Return KEY as unencrypted PKCS#8 PEM, for the IACA key kept offline."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_key_from_pem(data: bytes) -> ec.EllipticCurvePrivateKey:
    """Read an IACA private key from PEM, or raise MdocPkiInvalid."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise MdocPkiInvalid(f"cannot read the IACA key: {error}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise MdocPkiInvalid("the IACA key must be an ECDSA key")
    return key


def document_signer_environment(signer: DocumentSigner) -> dict[str, str]:
    """Return the environment values (standard base64 of DER) of a document signer and its IACA certificate."""
    raw = (signer.key_der, signer.certificate_der, signer.iaca_certificate_der)
    return {name: base64.b64encode(value).decode() for name, value in zip(ENVIRONMENT_NAMES, raw, strict=True)}


def certificate_read(data: bytes) -> x509.Certificate:
    """Read one certificate from PEM or DER, or raise MdocPkiInvalid."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise MdocPkiInvalid(f"cannot read the certificate: {error}") from None
