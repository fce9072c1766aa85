import datetime
import json
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
from django.utils import timezone

from cards.actions import card_reissue, card_report_lost, card_revoke, card_suspend, cards_expire
from cards.tools import onecard_card_verify as tool
from tests.cards.test_credentials import as_caseworker, dynamic_token, static_token
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db
TOOL = Path(tool.__file__)


def published(client) -> tuple[str, str]:
    jwks = client.get("/.well-known/jwks.json")
    status = client.get("/cards/status")
    assert jwks.status_code == status.status_code == 200
    return jwks.content.decode(), status.content.decode()


def offline(client, token):
    jwks, status = published(client)
    keys = tool.jwks_load(jwks)
    return tool.credential_verify(token, keys=keys, statuses=tool.status_list_load(status, keys, now=time.time()))


def test_jwks_is_public_and_lists_ed25519_keys(client):
    static_token(CardFactory())

    response = client.get("/.well-known/jwks.json")

    assert response["Content-Type"] == "application/jwk-set+json"
    (key,) = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in key


def test_status_list_lists_cards_that_must_not_verify_with_their_versions(client):
    active = CardFactory()
    lost = CardFactory(status="lost")
    replaced = CardFactory(status="replaced")
    CardFactory(resident=replaced.resident, number=replaced.number, version=2)

    _, status = published(client)
    payload = tool.status_list_load(status, tool.jwks_load(published(client)[0]), now=time.time())

    assert payload[lost.number] == {"1": "lost"}
    assert payload[replaced.number] == {"1": "replaced"}
    assert active.number not in payload


def test_status_list_with_a_forged_signature_is_refused(client):
    jwks, status = published(client)
    header, payload, signature = status.split(".")
    forged = f"{header}.{tool.b64url_encode(b'{}')}.{signature}"

    with pytest.raises(tool.CredentialRefused, match="bad_signature"):
        tool.status_list_load(forged, tool.jwks_load(jwks), now=time.time())


def test_stale_status_list_is_refused(client):
    jwks, status = published(client)

    with pytest.raises(tool.CredentialRefused, match="token_expired"):
        tool.status_list_load(status, tool.jwks_load(jwks), now=time.time() + 2 * 24 * 3600)


def test_offline_verification_accepts_an_active_card(client):
    card = CardFactory()

    verdict = offline(client, static_token(card))

    assert (verdict.valid, verdict.card_number, verdict.version, verdict.dynamic) == (True, card.number, 1, False)


def test_offline_verification_refuses_a_lost_card_once_the_list_is_refreshed(client):
    card = CardFactory()
    token = static_token(card)
    with as_caseworker():
        card_report_lost(card=card)

    verdict = offline(client, token)

    assert (verdict.valid, verdict.reason) == (False, "lost")


def test_offline_verification_refuses_an_old_version(client):
    card = CardFactory()
    token = static_token(card)
    with as_caseworker():
        card_reissue(card=card, reason="damaged", notify=False)

    assert offline(client, token).reason == "replaced"


def test_offline_verification_refuses_an_expired_dynamic_token(client):
    token = dynamic_token(CardFactory())
    jwks, status = published(client)
    keys = tool.jwks_load(jwks)
    later = time.time() + 61

    verdict = tool.credential_verify(token, keys=keys, statuses={}, now=later)

    assert (verdict.valid, verdict.reason) == (False, "token_expired")


def _run_tool(tmp_path, jwks, status, token, *extra):
    (tmp_path / "jwks.json").write_text(jwks)
    (tmp_path / "status.jwt").write_text(status)
    # Django is made unimportable: the tool must run with the standard library and cryptography alone.
    runner = (
        "import runpy, sys; sys.modules['django'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-I", "-c", runner, str(TOOL), "--jwks", "jwks.json", "--status-list", "status.jwt", token],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_standalone_tool_accepts_a_good_card_without_django(client, tmp_path):
    card = CardFactory()
    token = static_token(card)

    done = _run_tool(tmp_path, *published(client), token)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "valid": True,
        "card_number": card.number,
        "version": 1,
        "status": "active",
        "reason": None,
        "dynamic": False,
    }


def test_standalone_tool_refuses_a_tampered_token(client, tmp_path):
    token = static_token(CardFactory())
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")

    done = _run_tool(tmp_path, *published(client), tampered)

    assert done.returncode == 1
    assert json.loads(done.stdout)["reason"] == "bad_signature"


def test_standalone_tool_says_clearly_when_the_jwks_is_unreadable(client, tmp_path):
    _, status = published(client)

    done = _run_tool(tmp_path, "not json", status, "x.y.z")

    assert done.returncode == 2
    assert done.stderr.startswith("error: the JWKS is not usable") and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda card: card_suspend(card=card, reason="suspected-fraud"), "suspended"),
        (lambda card: card_revoke(card=card, reason="deceased"), "revoked"),
    ],
    ids=["suspended", "revoked"],
)
def test_offline_verification_refuses_a_card_taken_out_of_force(client, change, reason):
    card = CardFactory()
    token = static_token(card)
    with as_caseworker():
        change(card)

    verdict = offline(client, token)

    assert (verdict.valid, verdict.reason) == (False, reason)


def test_offline_verification_refuses_an_expired_card_while_its_token_still_runs(client, monkeypatch):
    # The card expires at the end of 1 June in Beijing; its credential's exp is the end of 1 June UTC,
    # eight hours later. At 02:00 on 2 June in Beijing the card is expired and only the list can say so.
    beijing = zoneinfo.ZoneInfo("Asia/Shanghai")
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2030, 6, 1, 10, 0, tzinfo=beijing))
    card = CardFactory(issued_on=datetime.date(2020, 6, 1), expires_on=datetime.date(2030, 6, 1))
    token = static_token(card)
    at = datetime.datetime(2030, 6, 2, 2, 0, tzinfo=beijing)
    monkeypatch.setattr(timezone, "now", lambda: at)
    with as_caseworker():
        assert cards_expire() == 1
    jwks, status = published(client)
    keys = tool.jwks_load(jwks)

    statuses = tool.status_list_load(status, keys, now=at.timestamp())

    verdict = tool.credential_verify(token, keys=keys, statuses=statuses, now=at.timestamp())

    assert (verdict.valid, verdict.reason) == (False, "expired")
