"""SD-JWT VC extras: decoy digests that hide how many claims a credential holds, and the vct's type metadata."""

import base64
import hashlib
import io
import json
import time
import urllib.parse

import pytest
from PIL import Image

from cards import signing
from cards.actions import resident_photo_set
from cards.credentials import SD_DIGEST_COUNT, SELECTIVELY_DISCLOSABLE, card_vct, issuer_url
from cards.tools import onecard_card_verify as tool
from tests.cards.test_sd_jwt import issued, payload_of, present, verify
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (10, 90, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_with_or_without_a_photo_the_credential_holds_the_same_number_of_digests(caseworker_context):
    with_photo, without_photo = CardFactory(), CardFactory()
    resident_photo_set(resident=with_photo.resident, data=jpeg())

    first, second = issued(with_photo), issued(without_photo)

    assert len(tool.sd_jwt_split(first)[1]) == len(tool.sd_jwt_split(second)[1]) + 1
    assert len(payload_of(first)["_sd"]) == len(payload_of(second)["_sd"]) == SD_DIGEST_COUNT


def test_decoys_look_like_digests_and_match_no_disclosure(caseworker_context):
    sd_jwt = issued(CardFactory())
    _, disclosures, _ = tool.sd_jwt_split(sd_jwt)

    digests = payload_of(sd_jwt)["_sd"]
    real = {tool.sd_digest(disclosure) for disclosure in disclosures}
    decoys = [digest for digest in digests if digest not in real]

    assert len(decoys) == SD_DIGEST_COUNT - len(disclosures) > 0
    assert len(set(digests)) == len(digests)
    assert all(len(digest) == 43 and len(tool.b64url_decode(digest)) == 32 for digest in digests)


def test_the_verifier_accepts_a_credential_with_decoys_whatever_is_disclosed(caseworker_context):
    sd_jwt = issued(CardFactory())

    everything = verify(sd_jwt)
    nothing = verify(present(sd_jwt, set()))

    assert everything.reason == "status_unknown" and "name" in everything.claims
    assert nothing.reason == "status_unknown" and nothing.claims == {}


def test_the_vct_url_serves_type_metadata_whose_hash_the_credential_carries(client, caseworker_context):
    card = CardFactory()
    resident_photo_set(resident=card.resident, data=jpeg())
    payload = payload_of(issued(card))

    response = client.get(urllib.parse.urlsplit(payload["vct"]).path)

    assert payload["vct"] == card_vct() == issuer_url() + tool.CARD_VCT_PATH
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    integrity = "sha256-" + base64.b64encode(hashlib.sha256(response.content).digest()).decode()
    assert payload["vct#integrity"] == integrity
    assert json.loads(response.content)["vct"] == payload["vct"]


def test_the_type_metadata_names_exactly_the_disclosable_claims_in_english_and_chinese(client, caseworker_context):
    card = CardFactory()
    resident_photo_set(resident=card.resident, data=jpeg())
    disclosed = set(verify(issued(card)).claims)

    metadata = client.get(tool.CARD_VCT_PATH).json()

    assert [claim["path"] for claim in metadata["claims"]] == [[name] for name in SELECTIVELY_DISCLOSABLE]
    assert {claim["path"][0] for claim in metadata["claims"]} == disclosed
    assert all(claim["sd"] == "always" for claim in metadata["claims"])
    labels = {claim["path"][0]: {d["locale"]: d["label"] for d in claim["display"]} for claim in metadata["claims"]}
    assert labels["name"] == {"en": "Name", "zh-Hans": "姓名"}
    assert {display["locale"] for display in metadata["display"]} == {"en", "zh-Hans"}


def test_a_credential_of_the_earlier_urn_type_still_verifies_and_another_type_does_not(caseworker_context):
    now = int(time.time())
    frame = {"iss": issuer_url(), "iat": now, "exp": now + 60, "_sd": [], "_sd_alg": "sha-256"}

    earlier = signing.jws_sign(frame | {"vct": tool.CARD_VCT}, typ="dc+sd-jwt") + "~"
    other = signing.jws_sign(frame | {"vct": "https://other.example/vct/card/1"}, typ="dc+sd-jwt") + "~"

    assert verify(earlier).reason == "status_unknown"
    assert verify(other).reason == "invalid_claims"
