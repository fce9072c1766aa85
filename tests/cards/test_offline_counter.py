"""The pharmacy counter's offline check: cached keys and Token Status List, no network, photo written to a file."""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from cards.actions import card_revoke, resident_photo_set
from cards.tools import onecard_card_verify as tool
from ledger.api import Actor, access_context
from tests.cards.test_credentials import static_token
from tests.factories.portal import resident_with_account, sign_in

pytestmark = pytest.mark.django_db
TOOL = Path(tool.__file__)
# Django and every socket are made unusable: the tool must work with the network unplugged.
RUNNER = (
    "import runpy, socket, sys\n"
    "sys.modules['django'] = None\n"
    "def refuse(*a, **k): raise OSError('network is unplugged')\n"
    "socket.socket = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def cache_fill(client, directory: Path) -> None:
    """Save what --refresh downloads, as a counter does while it is online."""
    (directory / tool.CACHE_KEYS_FILE).write_bytes(client.get("/.well-known/jwt-vc-issuer").content)
    (directory / tool.CACHE_STATUS_FILE).write_bytes(client.get("/cards/status-list").content)


def run(directory: Path, credential: str, *extra: str) -> tuple[int, dict]:
    (directory / "credential.txt").write_text(credential)
    done = subprocess.run(
        [sys.executable, "-I", "-c", RUNNER, str(TOOL), "--cache", ".", *extra, "@credential.txt"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (20, 160, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def holder(client):
    user, resident, card, device = resident_with_account()
    with access_context(actor=Actor(type="staff", id="cw"), role="registrar", channel="admin", purpose="registration"):
        resident_photo_set(resident=resident, data=jpeg())
    sign_in(client, user, device)
    return client, card


def test_an_sd_jwt_presentation_with_the_photo_checks_offline(holder, tmp_path):
    client, card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    cache_fill(client, tmp_path)
    from tests.cards.test_sd_jwt import present

    code, result = run(tmp_path, present(sd_jwt, {"name", "portrait", "age_over_18"}))

    assert code == 0, result
    assert (result["valid"], result["status"], result["format"]) == (True, "valid", "sd-jwt-vc")
    assert set(result["claims"]) == {"name", "portrait", "age_over_18"}
    photo = Path(result["photo"]) if Path(result["photo"]).is_absolute() else tmp_path / result["photo"]
    assert Image.open(photo).format == "JPEG"


def test_a_revoked_card_is_revoked_offline_once_the_list_is_cached(holder, tmp_path):
    client, card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    with access_context(
        actor=Actor(type="staff", id="cw"), role="card-officer", channel="admin", purpose="card-administration"
    ):
        card_revoke(card=card, reason="suspected-fraud")
    cache_fill(client, tmp_path)

    code, result = run(tmp_path, sd_jwt)

    assert code == 1
    assert (result["valid"], result["status"], result["reason"]) == (False, "invalid", "invalid")


def test_a_stale_list_gives_status_unknown_not_revoked_or_valid(holder, tmp_path):
    client, _card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    cache_fill(client, tmp_path)

    time.sleep(0.5)  # 0.0001 hours is 0.36 s

    code, result = run(tmp_path, sd_jwt, "--max-status-age-hours", "0.0001")

    assert code == 3
    assert (result["valid"], result["status"], result["reason"]) == (False, "unknown", "status_unknown")
    assert result["status_detail"] == "status unknown: list older than 0.0001 hours"


def test_a_damaged_cached_list_never_becomes_valid_or_revoked(holder, tmp_path):
    client, _card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    cache_fill(client, tmp_path)
    (tmp_path / tool.CACHE_STATUS_FILE).write_text("eyJhbGciOiJFZERTQSJ9.garbage.sig")

    code, result = run(tmp_path, sd_jwt)

    assert code == 3 and result["status"] == "unknown"


def test_a_static_qr_is_checked_against_the_token_status_list(holder, tmp_path):
    client, card = holder
    token = static_token(card)
    cache_fill(client, tmp_path)

    code, result = run(tmp_path, token)

    assert code == 0, result
    assert (result["format"], result["status"], result["card_number"]) == ("qr", "valid", card.number)


def test_a_tampered_presentation_is_refused_offline(holder, tmp_path):
    client, _card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    cache_fill(client, tmp_path)
    issuer_jwt, disclosures, _ = tool.sd_jwt_split(sd_jwt)

    code, result = run(tmp_path, issuer_jwt + "~" + disclosures[0][:-2] + "AA~")

    assert code == 1 and result["reason"] == "disclosure_invalid"


def test_an_sd_jwt_from_another_issuer_than_the_cached_metadata_is_refused(holder, tmp_path):
    client, _card = holder
    sd_jwt = client.get("/me/card/credential.sd-jwt").content.decode()
    cache_fill(client, tmp_path)
    # The same keys published under another issuer: SD-JWT VC says iss must be the metadata's issuer.
    metadata = json.loads((tmp_path / tool.CACHE_KEYS_FILE).read_text())
    metadata["issuer"] = "https://elsewhere.example"
    (tmp_path / tool.CACHE_KEYS_FILE).write_text(json.dumps(metadata))
    from tests.cards.test_sd_jwt import present

    code, result = run(tmp_path, present(sd_jwt, {"age_over_18"}))

    assert (code, result["valid"], result["reason"]) == (tool.EXIT_REFUSED, False, "wrong_issuer")
