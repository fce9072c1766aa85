import base64
import datetime
import io
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from cards.actions import (
    card_reissue,
    card_report_lost,
    card_revoke,
    card_suspend,
    card_token_dynamic,
    card_token_static,
    card_token_verify,
)
from cards.api.serializers import CardVerifyRequestSerializer
from cards.errors import CardTransitionRefused
from cards.models import CardRedemption, CardSigningKey
from cards.numbers import card_number_generate
from cards.signing import jwks_document, jws_sign
from ledger.api import Actor, access_context, subject_pseudonym
from ledger.models import PendingEntry
from tests.factories.cards import CardFactory
from tests.ledger.database import pending_discard

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def as_caseworker():
    return access_context(
        actor=Actor(type="staff", id="test-caseworker"),
        role="caseworker",
        channel="admin",
        purpose="card-administration",
    )


def as_pharmacy():
    return access_context(
        actor=Actor(type="agency", id="PHARM01"), role="pharmacy", channel="api", purpose="identity-verification"
    )


def static_token(card) -> str:
    with as_caseworker():
        return card_token_static(card=card)


def dynamic_token(card) -> str:
    with as_caseworker():
        return card_token_dynamic(card=card)


def verify(token):
    with as_pharmacy():
        return card_token_verify(token=token)


def claims_of(card, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": "onecard", "sub": card.number, "ver": card.version, "iat": now, "exp": now + 3600}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def current_kid() -> str:
    return jwks_document()["keys"][0]["kid"]


def test_static_token_round_trips():
    card = CardFactory()

    result = verify(static_token(card))

    assert (result.valid, result.card_number, result.status, result.reason) == (True, card.number, "active", None)


def test_static_token_has_the_documented_header_and_claims():
    card = CardFactory()
    token = static_token(card)
    header = json.loads(unb64(token.split(".")[0]))
    key = jwt.PyJWK(jwks_document()["keys"][0])

    claims = jwt.decode(token, key.key, algorithms=["EdDSA"])

    assert header["alg"] == "EdDSA" and header["kid"] == key.key_id
    assert set(claims) == {"iss", "sub", "ver", "iat", "exp", "status"}
    assert (claims["sub"], claims["ver"]) == (card.number, 1)
    assert claims["exp"] >= int(time.mktime(card.expires_on.timetuple()))


def test_dynamic_token_lives_at_most_60_seconds_and_has_a_jti():
    token = dynamic_token(CardFactory())
    claims = json.loads(unb64(token.split(".")[1]))

    assert claims["exp"] - claims["iat"] <= 60
    assert len(claims["jti"]) >= 16


def test_dynamic_token_is_good_for_one_use():
    token = dynamic_token(CardFactory())

    first, second = verify(token), verify(token)

    assert first.valid is True
    assert (second.valid, second.reason) == (False, "already_used")
    assert CardRedemption.objects.count() == 1


def test_only_an_active_card_gets_a_credential():
    with pytest.raises(CardTransitionRefused):
        static_token(CardFactory(status="suspended"))


def _forged(header: dict, claims: dict, *, key: Ed25519PrivateKey | None = None, signature: bytes | None = None):
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if signature is None:
        signature = key.sign(signing_input.encode()) if key else b""
    return f"{signing_input}.{b64(signature)}"


def tampering_cases(card) -> dict[str, tuple[str, str]]:
    good = static_token(card)
    header_part, payload_part, signature_part = good.split(".")
    kid = current_kid()
    other_key = Ed25519PrivateKey.generate()
    payload = json.loads(unb64(payload_part))
    return {
        "malformed": ("not a token", "malformed"),
        "empty": ("", "malformed"),
        "two_parts": (f"{header_part}.{payload_part}", "malformed"),
        "truncated": (good[: len(good) // 2], "malformed"),
        "truncated_signature": (good[:-4], "bad_signature"),
        "header_not_json": (f"{b64(b'{oops')}.{payload_part}.{signature_part}", "malformed"),
        "alg_none": (_forged({"alg": "none", "kid": kid}, payload), "unsupported_algorithm"),
        "alg_hs256": (
            jwt.encode(payload, "k" * 32, algorithm="HS256", headers={"kid": kid}),
            "unsupported_algorithm",
        ),
        "wrong_signature": (_forged({"alg": "EdDSA", "kid": kid}, payload, key=other_key), "bad_signature"),
        "unknown_kid": (_forged({"alg": "EdDSA", "kid": "nobody"}, payload, key=other_key), "unknown_key"),
        "no_kid": (_forged({"alg": "EdDSA"}, payload, key=other_key), "unknown_key"),
        "tampered_version": (
            f"{header_part}.{b64(json.dumps({**payload, 'ver': 2}).encode())}.{signature_part}",
            "bad_signature",
        ),
        "tampered_number": (
            f"{header_part}.{b64(json.dumps({**payload, 'sub': card_number_generate()}).encode())}.{signature_part}",
            "bad_signature",
        ),
        "expired": (jws_sign(claims_of(card, iat=int(time.time()) - 120, exp=int(time.time()) - 60)), "token_expired"),
        "issued_in_future": (jws_sign(claims_of(card, iat=int(time.time()) + 600)), "not_yet_valid"),
        "dynamic_too_long": (jws_sign(claims_of(card, jti="abc", exp=int(time.time()) + 120)), "lifetime_too_long"),
        "wrong_issuer": (jws_sign(claims_of(card, iss="elsewhere")), "wrong_issuer"),
        "missing_claim": (jws_sign(claims_of(card, exp=None)), "invalid_claims"),
        "string_version": (jws_sign(claims_of(card, ver="1")), "invalid_claims"),
        "not_luhn": (
            jws_sign(claims_of(card, sub=card.number[:-1] + str((int(card.number[-1]) + 1) % 10))),
            "invalid_card_number",
        ),
        "unknown_card": (jws_sign(claims_of(card, sub=card_number_generate())), "unknown_card"),
        "oversized": (good + "A" * 3000, "oversized"),
        "non_ascii": (good[:-2] + "é" + good[-1], "malformed"),
    }


CASES = [
    "malformed",
    "empty",
    "two_parts",
    "truncated",
    "truncated_signature",
    "header_not_json",
    "alg_none",
    "alg_hs256",
    "wrong_signature",
    "unknown_kid",
    "no_kid",
    "tampered_version",
    "tampered_number",
    "expired",
    "issued_in_future",
    "dynamic_too_long",
    "wrong_issuer",
    "missing_claim",
    "string_version",
    "not_luhn",
    "unknown_card",
    "oversized",
    "non_ascii",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_tokens_are_refused_with_a_clear_reason(case):
    card = CardFactory()
    token, reason = tampering_cases(card)[case]

    result = verify(token)

    assert (result.valid, result.reason) == (False, reason)
    assert result.card_number in (None, card.number) or case == "unknown_card"


@pytest.mark.parametrize(("status", "reason"), [("suspended", "suspended"), ("lost", "lost"), ("revoked", "revoked")])
def test_a_card_that_is_not_in_force_fails_online(status, reason):
    card = CardFactory()
    token = static_token(card)
    card.status = status
    card.save()

    result = verify(token)

    assert (result.valid, result.status, result.reason) == (False, status, reason)


def test_reported_lost_card_fails_at_once():
    card = CardFactory()
    token = static_token(card)
    with as_caseworker():
        card_report_lost(card=card)

    assert verify(token).reason == "lost"


def test_old_version_after_a_reissue_gives_replaced():
    card = CardFactory()
    token = static_token(card)
    with as_caseworker():
        successor = card_reissue(card=card, reason="damaged", notify=False)

    result = verify(token)

    assert (result.valid, result.status, result.reason) == (False, "replaced", "replaced")
    assert successor.number == card.number and successor.version == 2


def test_verification_is_recorded_with_agency_and_purpose():
    card = CardFactory()
    token = static_token(card)
    pending_discard()

    verify(token)

    row = PendingEntry.objects.get()
    assert (row.action, row.actor_type, row.actor_id, row.role, row.channel, row.purpose, row.outcome) == (
        "cards.credentials.verify",
        "agency",
        "PHARM01",
        "pharmacy",
        "api",
        "identity-verification",
        "ok",
    )
    assert row.subject == subject_pseudonym(card.resident)
    assert row.object == f"card:{card.pk} v1 static valid"


def test_a_refused_token_is_recorded_without_a_resident():
    verify("garbage")

    row = PendingEntry.objects.get()
    assert (row.outcome, row.object) == ("invalid", "unparsed malformed")
    assert row.subject == subject_pseudonym("cards:unresolved-credential")


def test_key_rotation_keeps_old_tokens_until_the_key_is_retired():
    card = CardFactory()
    old_token = static_token(card)
    old_kid = current_kid()

    call_command("cards", "rotate_keys", stdout=None)
    new_token = static_token(card)

    new_kid = json.loads(unb64(new_token.split(".")[0]))["kid"]
    assert new_kid != old_kid
    assert {key["kid"] for key in jwks_document()["keys"]} == {old_kid, new_kid}
    assert verify(old_token).valid and verify(new_token).valid

    call_command("cards", "retire_key", old_kid, stdout=None)

    assert (verify(old_token).valid, verify(old_token).reason) == (False, "key_retired")
    assert verify(new_token).valid
    assert [key["kid"] for key in jwks_document()["keys"]] == [new_kid]


def kid_of(token: str) -> str:
    return json.loads(unb64(token.split(".")[0]))["kid"]


def test_a_rotated_key_signs_even_if_the_wall_clock_stepped_back():
    card = CardFactory()
    old_kid = kid_of(static_token(card))
    # The first key was stamped before the clock stepped back (a VM syncing its clock at boot).
    CardSigningKey.objects.filter(kid=old_kid).update(created_at=timezone.now() + datetime.timedelta(hours=1))

    call_command("cards", "rotate_keys", stdout=None)

    new_kid = CardSigningKey.objects.exclude(kid=old_kid).get().kid
    assert kid_of(static_token(card)) == new_kid
    assert current_kid() == new_kid


def test_a_cleared_key_cache_is_read_again_on_a_machine_booted_seconds_ago(monkeypatch):
    # time.monotonic() counts from boot: on a fresh VM it is below the cache's 30 s lifetime.
    monkeypatch.setattr(time, "monotonic", lambda: 5.0)
    card = CardFactory()
    old_kid = kid_of(static_token(card))

    call_command("cards", "rotate_keys", stdout=None)

    assert kid_of(static_token(card)) != old_kid


def test_retiring_an_unknown_key_is_a_clear_command_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no signing key"):
        call_command("cards", "retire_key", "nope")


def test_private_keys_are_stored_sealed():
    static_token(CardFactory())
    row = CardSigningKey.objects.get()

    assert len(bytes(row.private_key_ciphertext)) == 12 + 32 + 16


@pytest.mark.parametrize(
    "data", [{}, {"token": ""}, {"token": ["a"]}, {"token": {"a": 1}}, {"token": None}, {"token": "x" * 9000}]
)
def test_serializer_refuses_missing_non_string_and_oversized_input(data):
    assert not CardVerifyRequestSerializer(data=data).is_valid()


def test_serializer_accepts_a_token():
    serializer = CardVerifyRequestSerializer(data={"token": "  abc.def.ghi  "})

    assert serializer.is_valid() and serializer.validated_data["token"] == "abc.def.ghi"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_verifications_of_one_dynamic_token_accept_exactly_one():
    if connection.vendor != "postgresql":
        pytest.skip("one use under concurrency is checked on PostgreSQL (set DATABASE_URL)")
    token = dynamic_token(CardFactory())
    barrier = threading.Barrier(20)
    results, errors = [], []

    def attempt():
        try:
            barrier.wait()
            results.append(verify(token))
        except Exception as error:  # surfaced below: a thread must not fail silently
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(result.valid for result in results) == [False] * 19 + [True]
    assert {result.reason for result in results if not result.valid} == {"already_used"}
    assert CardRedemption.objects.count() == 1


def test_suspension_then_revocation_each_fail_with_their_reason():
    card = CardFactory()
    token = static_token(card)
    with as_caseworker():
        card_suspend(card=card, reason="suspected-fraud")
    assert verify(token).reason == "suspended"
    with as_caseworker():
        card_revoke(card=card, reason="suspected-fraud")

    assert verify(token).reason == "revoked"


@pytest.mark.parametrize("prefix", ["-", "-h", "--"])
def test_a_kid_that_begins_with_a_dash_can_be_retired(prefix):
    """One thumbprint in 64 begins with "-": argparse took it for an option and the rotation test flaked."""
    CardFactory()
    call_command("cards", "rotate_keys", stdout=None)
    old = CardSigningKey.objects.order_by("id").first()
    dashed = prefix + old.kid[len(prefix) :]
    CardSigningKey.objects.filter(pk=old.pk).update(kid=dashed)

    out = io.StringIO()
    call_command("cards", "retire_key", dashed, stdout=out)

    assert out.getvalue().strip() == f"retired {dashed}"
    assert CardSigningKey.objects.get(pk=old.pk).retired_at is not None


def test_retire_key_without_a_kid_says_what_it_needs():
    with pytest.raises(CommandError, match="needs the kid"):
        call_command("cards", "retire_key")


def test_a_dashed_kid_given_after_the_kid_option_is_taken_as_it_is():
    CardFactory()
    call_command("cards", "rotate_keys", stdout=None)
    old = CardSigningKey.objects.order_by("id").first()
    dashed = "-" + old.kid[1:]
    CardSigningKey.objects.filter(pk=old.pk).update(kid=dashed)

    call_command("cards", "retire_key", "--kid", dashed, stdout=io.StringIO())

    assert CardSigningKey.objects.get(pk=old.pk).retired_at is not None
