"""The Token Status List (draft-ietf-oauth-status-list), the issuer metadata, and the old list kept for one release."""

import base64
import datetime
import json
import zlib

import pytest
from django.utils import timezone

from cards import signing
from cards.actions import card_reissue, card_report_lost, card_revoke, card_suspend, cards_expire
from cards.credentials import status_list_uri
from cards.tools import onecard_card_verify as tool
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fetch_list(client) -> tool.TokenStatusList:
    response = client.get("/cards/status-list")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/statuslist+jwt"
    return tool.token_status_list_load(response.content.decode(), signing.verification_keys())


def test_the_list_is_a_signed_statuslist_jwt_with_zlib_bits(client, caseworker_context):
    CardFactory()

    token = client.get("/cards/status-list").content.decode()

    header, payload, _ = token.split(".")
    assert json.loads(unb64(header))["typ"] == "statuslist+jwt"
    claims = json.loads(unb64(payload))
    assert claims["sub"] == status_list_uri() and claims["status_list"]["bits"] == 2
    assert isinstance(claims["iat"], int) and claims["exp"] > claims["iat"] and claims["ttl"] > 0
    zlib.decompress(unb64(claims["status_list"]["lst"]))  # RFC 1950 zlib, base64url without padding
    assert "=" not in claims["status_list"]["lst"]


def test_revoked_lost_replaced_and_expired_are_invalid_and_suspended_is_suspended(client, caseworker_context):
    active = CardFactory()
    suspended = card_suspend(card=CardFactory(), reason="suspected-fraud")
    revoked = card_revoke(card=CardFactory(), reason="suspected-fraud")
    lost = card_report_lost(card=CardFactory())
    damaged = CardFactory()
    card_reissue(card=damaged, reason="damaged")
    expiring = CardFactory(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    cards_expire()

    status_list = fetch_list(client)

    assert status_list.status(active.status_index) == tool.STATUS_VALID
    assert status_list.status(suspended.status_index) == tool.STATUS_SUSPENDED
    for card in (revoked, lost, damaged, expiring):
        assert status_list.status(card.status_index) == tool.STATUS_INVALID, card


def test_a_resumed_card_is_valid_again(client, caseworker_context):
    from cards.actions import card_resume

    card = card_suspend(card=CardFactory(), reason="suspected-fraud")
    card_resume(card=card, reason="suspected-fraud")

    assert fetch_list(client).status(card.status_index) == tool.STATUS_VALID


def test_packing_puts_index_zero_in_the_lowest_bits():
    # draft-ietf-oauth-status-list section 4.1 example ordering: idx 0 in bits 0-1 of byte 0.
    lst = tool.status_list_pack({0: 1, 1: 2, 3: 1, 4: 2}, bits=2)

    assert zlib.decompress(unb64(lst)) == bytes([0b01_00_10_01, 0b00_00_00_10])


@pytest.mark.parametrize("value, expected", [(0, "valid"), (1, "invalid"), (2, "suspended"), (3, "unknown")])
def test_a_status_value_onecard_does_not_assign_is_unknown_not_refused(value, expected):
    now = 1_800_000_000
    statuses = tool.TokenStatusList(
        uri="https://onecard.example/cards/status-list",
        bits=2,
        statuses=zlib.decompress(unb64(tool.status_list_pack({5: value}))),
        issued_at=now - 60,
        expires_at=None,
        ttl=None,
    )
    reference = {"status_list": {"idx": 5, "uri": statuses.uri}}

    status, detail = tool.status_check(reference, statuses, now=now, max_age_hours=24)

    assert status == expected
    assert ("0x03" in detail) == (value == 3)


def test_a_status_list_that_does_not_inflate_is_refused_not_read_as_valid(caseworker_context):
    token = signing.jws_sign(
        {"sub": "x", "iat": 1, "status_list": {"bits": 2, "lst": "bm90LXpsaWI"}}, typ="statuslist+jwt"
    )

    with pytest.raises(tool.CredentialRefused):
        tool.token_status_list_load(token, signing.verification_keys())


def test_a_list_of_another_type_is_refused(caseworker_context):
    token = signing.jws_sign({"sub": "x", "iat": 1, "status_list": {"bits": 2, "lst": "eJwDAAAAAAE"}}, typ="JWT")

    with pytest.raises(tool.CredentialRefused):
        tool.token_status_list_load(token, signing.verification_keys())


def test_the_old_status_list_still_answers_for_this_release(client, caseworker_context):
    card_suspend(card=CardFactory(), reason="suspected-fraud")

    response = client.get("/cards/status")

    assert response.status_code == 200 and response["Content-Type"] == "application/jwt"


def test_issuer_metadata_has_the_issuer_and_its_jwks(client, caseworker_context):
    metadata = client.get("/.well-known/jwt-vc-issuer").json()
    jwks = client.get("/.well-known/jwks.json").json()

    assert metadata["issuer"].startswith("http")
    assert metadata["jwks"] == jwks and jwks["keys"]


def test_qr_credentials_carry_the_status_reference(caseworker_context):
    from cards.actions import card_token_static

    card = CardFactory()

    payload = json.loads(unb64(card_token_static(card=card).split(".")[1]))

    assert payload["status"] == {"status_list": {"idx": card.status_index, "uri": status_list_uri()}}


def test_the_list_covers_active_cards_issued_after_the_last_invalid_one(client, caseworker_context):
    card_revoke(card=CardFactory(), reason="suspected-fraud")
    newer = [CardFactory() for _ in range(5)]

    status_list = fetch_list(client)

    # An index past the list's end is an error for a verifier, so the newest active card must be inside it.
    for card in newer:
        assert status_list.status(card.status_index) == tool.STATUS_VALID, card
