"""Build the standard credentials of a card: SD-JWT VC (RFC 9901), mdoc (ISO/IEC 18013-5), Token Status List.

The offline verifier (cards/tools/onecard_card_verify.py) holds the parsing
and checking side; this module only builds and signs. Nothing here records to
the ledger: the actions and selectors that call it do.
"""

import base64
import datetime
import hashlib
import json
import secrets

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from cards import signing
from cards.models import Card, status_list_size
from cards.tools import onecard_card_verify as offline

# A wallet re-fetches its credential within this time, so a changed name, photo or insurance shows soon.
SD_JWT_VC_LIFETIME = datetime.timedelta(days=30)
TOKEN_STATUS_LIST_LIFETIME_SECONDS = 24 * 60 * 60
# How long a verifier may cache the list before fetching it again (draft-ietf-oauth-status-list "ttl").
TOKEN_STATUS_LIST_TTL_SECONDS = 300
# Which Token Status List value each card status gets; cards not listed here (active) are 0x00 valid.
CARD_STATUS_VALUES = {
    Card.Status.PENDING: offline.STATUS_INVALID,
    Card.Status.SUSPENDED: offline.STATUS_SUSPENDED,
    Card.Status.LOST: offline.STATUS_INVALID,
    Card.Status.REVOKED: offline.STATUS_INVALID,
    Card.Status.REPLACED: offline.STATUS_INVALID,
    Card.Status.EXPIRED: offline.STATUS_INVALID,
}
# The claims a holder may disclose one by one, in this order in the disclosures.
SELECTIVELY_DISCLOSABLE = (
    "name",
    "birthdate",
    "age_over_18",
    "age_over_60",
    "card_number",
    "card_status",
    "insured",
    "portrait",
)


# How many digests every SD-JWT VC's _sd holds: the disclosable claims padded with decoys (RFC 9901 4.2.5),
# so a verifier cannot count the claims, e.g. tell whether the holder has a photo.
SD_DIGEST_COUNT = 12
# The name of each disclosable claim for wallets and verifiers, in English and Simplified Chinese.
CLAIM_LABELS = {
    "name": ("Name", "姓名"),
    "birthdate": ("Date of birth", "出生日期"),
    "age_over_18": ("Aged 18 or over", "年满18周岁"),
    "age_over_60": ("Aged 60 or over", "年满60周岁"),
    "card_number": ("Card number", "卡号"),
    "card_status": ("Card status", "卡片状态"),
    "insured": ("Covered by medical insurance", "享有医疗保险"),
    "portrait": ("Photo", "照片"),
}
CARD_DISPLAY = [
    {"locale": "en", "name": "OneCard", "description": "Resident card with social security and health cover"},
    {"locale": "zh-Hans", "name": "一卡通", "description": "居民社会保障卡，含医疗保险信息"},
]


def issuer_url() -> str:
    """Return the credential issuer identifier: an https URL, the 'iss' of SD-JWT VCs and mdocs."""
    return settings.ONECARD_CREDENTIAL_ISSUER_URL.rstrip("/")


def status_list_uri() -> str:
    """Return the URI of the Token Status List, the 'sub' of the list and the 'uri' in credentials."""
    return issuer_url() + reverse("cards:token-status-list")


def card_status_reference(card: Card) -> dict:
    """Return the 'status' claim of CARD's credentials: its index in the Token Status List."""
    # One random index per card (Card.status_index), the same in every credential of that card.
    return {"status_list": {"idx": card.status_index, "uri": status_list_uri()}}


def _age_at_least(birth_date: datetime.date, years: int, today: datetime.date) -> bool:
    try:
        birthday = birth_date.replace(year=birth_date.year + years)
    except ValueError:  # born on 29 February
        birthday = birth_date.replace(year=birth_date.year + years, day=28) + datetime.timedelta(days=1)
    return today >= birthday


def card_claims(*, card: Card, insured: bool, portrait: bytes | None, today: datetime.date) -> dict:
    """Return the personal claims of CARD, each selectively disclosable."""
    resident = card.resident
    claims = {
        "name": resident.full_name,
        "birthdate": resident.birth_date.isoformat(),
        "age_over_18": _age_at_least(resident.birth_date, 18, today),
        "age_over_60": _age_at_least(resident.birth_date, 60, today),
        "card_number": card.number,
        "card_status": card.status,
        "insured": insured,
    }
    if portrait is not None:
        claims["portrait"] = "data:image/jpeg;base64," + base64.b64encode(portrait).decode("ascii")
    return claims


def card_vct() -> str:
    """Return the vct of OneCard's SD-JWT VCs: an https URL under the issuer that serves the type metadata."""
    return offline.card_vct(issuer_url())


def card_type_metadata() -> bytes:
    """Return the SD-JWT VC type metadata document of the card (draft-ietf-oauth-sd-jwt-vc, Type Metadata), as served.

    The bytes are fixed for a deployment, so credentials can carry their hash as vct#integrity.
    """
    document = {
        "vct": card_vct(),
        "name": "OneCard resident card",
        "description": "A resident's OneCard: identity, age, photo, card number and medical insurance cover.",
        "display": CARD_DISPLAY,
        "claims": [
            {
                "path": [name],
                "display": [{"locale": "en", "label": english}, {"locale": "zh-Hans", "label": chinese}],
                "sd": "always",
                "mandatory": name != "portrait",
            }
            for name, (english, chinese) in CLAIM_LABELS.items()
        ],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def card_type_metadata_integrity() -> str:
    """Return the W3C SRI "integrity metadata" of the type metadata document: sha256-<base64 digest>."""
    return "sha256-" + base64.b64encode(hashlib.sha256(card_type_metadata()).digest()).decode("ascii")


def decoy_digest() -> str:
    """Return a decoy digest (RFC 9901 4.2.5): the hash of a random number, like a digest no disclosure matches."""
    return offline.b64url_encode(hashlib.sha256(secrets.token_bytes(32)).digest())


def disclosure_make(name: str, value) -> str:
    """Return an RFC 9901 object-property disclosure: base64url of [salt, name, value] in JSON."""
    salt = offline.b64url_encode(secrets.token_bytes(16))
    return offline.b64url_encode(json.dumps([salt, name, value], ensure_ascii=False).encode("utf-8"))


def sd_jwt_vc_build(
    *, card: Card, claims: dict, holder_jwk: dict | None, now: datetime.datetime
) -> tuple[str, list[str]]:
    """Sign an SD-JWT VC of CARD; return the SD-JWT with every disclosure (ending in '~') and the disclosures."""
    disclosures = [disclosure_make(name, claims[name]) for name in SELECTIVELY_DISCLOSABLE if name in claims]
    end_of_card = datetime.datetime.combine(card.expires_on, datetime.time.max, tzinfo=datetime.UTC)
    payload = {
        "iss": issuer_url(),
        "vct": card_vct(),
        "vct#integrity": card_type_metadata_integrity(),
        "iat": int(now.timestamp()),
        "exp": int(min(now + SD_JWT_VC_LIFETIME, end_of_card).timestamp()),
        "status": card_status_reference(card),
        # Padded with decoys to a fixed count and sorted, so the digests say nothing about how many claims
        # there are, nor their order or names.
        "_sd": sorted(
            [offline.sd_digest(disclosure) for disclosure in disclosures]
            + [decoy_digest() for _ in range(SD_DIGEST_COUNT - len(disclosures))]
        ),
        "_sd_alg": offline.SD_ALG,
    }
    if holder_jwk is not None:
        payload["cnf"] = {"jwk": holder_jwk}
    issuer_jwt = signing.jws_sign(payload, typ=offline.SD_JWT_VC_TYPE)
    return issuer_jwt + "~" + "".join(disclosure + "~" for disclosure in disclosures), disclosures


def _cose_key(jwk: dict) -> dict:
    x = offline.b64url_decode(jwk["x"])
    if jwk["kty"] == "OKP":
        return {1: 1, -1: 6, -2: x}  # OKP, Ed25519
    return {1: 2, -1: 1, -2: x, -3: offline.b64url_decode(jwk["y"])}  # EC2, P-256


def _tdate(moment: datetime.datetime) -> offline.CborTag:
    return offline.CborTag(0, moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))


def mdoc_build(*, card: Card, claims: dict, holder_jwk: dict, now: datetime.datetime) -> bytes:
    """Sign an ISO/IEC 18013-5 issuer-signed mdoc Document of CARD bound to the wallet's device key (CBOR).

    The MSO is signed ES256 by the document signer, whose certificate is the
    x5chain of issuerAuth; readers check it up to the IACA certificate.
    """
    wrapped_items = []
    digests = {}
    for digest_id, name in enumerate(name for name in SELECTIVELY_DISCLOSABLE if name in claims):
        value = claims[name]
        if name == "birthdate":
            name, value = "birth_date", offline.CborTag(1004, value)
        elif name == "portrait":
            value = base64.b64decode(value.split(",", 1)[1])
        item = {
            "digestID": digest_id,
            "random": secrets.token_bytes(16),
            "elementIdentifier": name,
            "elementValue": value,
        }
        wrapped = offline.CborTag(24, offline.cbor_encode(item))
        wrapped_items.append(wrapped)
        digests[digest_id] = hashlib.sha256(offline.cbor_encode(wrapped)).digest()
    signer_key, signer_certificate, _ = signing.mdoc_document_signer()
    end_of_card = datetime.datetime.combine(card.expires_on, datetime.time.max, tzinfo=datetime.UTC)
    # Never valid beyond the document signer's certificate: a reader would refuse it then anyway.
    valid_until = min(now + SD_JWT_VC_LIFETIME, end_of_card, signer_certificate.not_valid_after_utc)
    mso = {
        "version": "1.0",
        "digestAlgorithm": "SHA-256",
        "valueDigests": {offline.MDOC_NAMESPACE: digests},
        "deviceKeyInfo": {"deviceKey": _cose_key(holder_jwk)},
        "docType": offline.MDOC_DOCTYPE,
        "validityInfo": {"signed": _tdate(now), "validFrom": _tdate(now), "validUntil": _tdate(valid_until)},
        "status": card_status_reference(card),
    }
    protected = offline.cbor_encode({offline.COSE_HEADER_ALG: offline.COSE_ALG_ES256})
    payload = offline.cbor_encode(offline.CborTag(24, offline.cbor_encode(mso)))
    issuer_auth = [
        protected,
        {offline.COSE_HEADER_X5CHAIN: signer_certificate.public_bytes(serialization.Encoding.DER)},
        payload,
        es256_sign(signer_key, offline.cbor_encode(["Signature1", protected, b"", payload])),
    ]
    document = {
        "docType": offline.MDOC_DOCTYPE,
        "issuerSigned": {"nameSpaces": {offline.MDOC_NAMESPACE: wrapped_items}, "issuerAuth": issuer_auth},
    }
    return offline.cbor_encode(document)


def es256_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """Sign DATA with ECDSA P-256 and SHA-256; return the COSE form of the signature, r || s, 64 bytes."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def mdoc_iaca_pem() -> bytes:
    """Return the IACA certificate readers trust for OneCard mdocs, in PEM."""
    _, _, iaca = signing.mdoc_document_signer()
    return iaca.public_bytes(serialization.Encoding.PEM)


def holder_jwk_clean(jwk) -> dict:
    """Return the public members of a holder's Ed25519 or P-256 JWK, or raise CredentialRefused."""
    offline.jwk_public_key(jwk)
    members = ("kty", "crv", "x") if jwk["kty"] == "OKP" else ("kty", "crv", "x", "y")
    return {name: jwk[name] for name in members}


def token_status_list_claims(*, now: datetime.datetime) -> dict:
    """Return the claims of the Token Status List JWT: every card's status at its index, 2 bits each."""
    rows = Card.objects.exclude(status=Card.Status.ACTIVE).values_list("status_index", "status")
    statuses = {index: CARD_STATUS_VALUES[status] for index, status in rows}
    # The list always has its full size, so its length says nothing of how many cards exist; it also covers
    # any older card whose index (its row id, before indices were drawn) lies beyond that size.
    highest = Card.objects.aggregate(highest=Max("status_index"))["highest"]
    statuses.setdefault(max(status_list_size() - 1, highest or 0), 0)
    issued_at = int(now.timestamp())
    return {
        "sub": status_list_uri(),
        "iat": issued_at,
        "exp": issued_at + TOKEN_STATUS_LIST_LIFETIME_SECONDS,
        "ttl": TOKEN_STATUS_LIST_TTL_SECONDS,
        "status_list": {"bits": 2, "lst": offline.status_list_pack(statuses, bits=2)},
    }


def token_status_list_token(*, now: datetime.datetime) -> str:
    """Return the signed Token Status List (typ statuslist+jwt)."""
    return signing.jws_sign(token_status_list_claims(now=now), typ=offline.TOKEN_STATUS_LIST_TYPE)


def jwt_vc_issuer_metadata() -> dict:
    """Return the SD-JWT VC issuer metadata: the issuer identifier and its keys inline."""
    return {"issuer": issuer_url(), "jwks": signing.jwks_document()}
