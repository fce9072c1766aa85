"""Drive the resident portal in headless Chromium: activation, OTP, pages, verification, language, axe-core."""

import base64
import contextlib
import hashlib
import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # pytest-django's live_server with Playwright's sync API

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "lantern-orchid-91"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _chromium_available() -> bool:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return True
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {CHROMIUM} is missing: .ci/run installs it with apt")
    pytest.skip(f"{CHROMIUM} is not installed; the browser tests run in CI (apt-get install chromium)")
    return False


@pytest.fixture(scope="module")
def browser():
    _chromium_available()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_accessible(page, name: str) -> None:
    """Run axe-core on the page: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    screenshot(page, name)
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(
        f"{v['id']}: {v['help']} ({len(v['nodes'])}: {[node['target'] for node in v['nodes'][:3]]})" for v in bad
    )


def totp_code(secret_base32: str) -> str:
    from django_otp.oath import totp

    return f"{totp(base64.b32decode(secret_base32)):06d}"


def given_pending_card():
    from cards.actions import card_activation_code_create
    from cards.models import Card
    from ledger.api import Actor, access_context
    from tests.factories import ResidentFactory
    from tests.factories.cards import CardFactory

    resident = ResidentFactory(email="new.resident@example.org", full_name="李新")
    card = CardFactory(resident=resident, status=Card.Status.PENDING)
    with access_context(actor=Actor(type="system", id="test"), role="issuer", channel="task", purpose="registration"):
        code = card_activation_code_create(card=card)
    return resident, card, code


def given_resident_signed_in(page, live_server):
    """Sign an enrolled resident in with national ID, password and a backup code; return (resident, card, codes)."""
    from portal.actions import backup_codes_regenerate
    from tests.factories.portal import resident_with_account

    user, resident, card, _device = resident_with_account()
    codes = backup_codes_regenerate(user=user)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("National ID or username").fill(resident.national_id)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app, or a backup code").fill(codes.pop())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/me/")
    return resident, card, codes


def test_activation_then_otp_enrolment_then_dashboard(page, live_server):
    resident, _card, code = given_pending_card()

    page.goto(f"{live_server.url}/activate/")
    assert_accessible(page, "activate")
    page.get_by_label("National ID").fill(resident.national_id)
    page.get_by_label("Activation code").fill(code)
    page.get_by_label("Choose a username").fill("li.xin")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(f"{live_server.url}/account/otp/enrol/")
    assert_accessible(page, "otp-enrol")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from your authenticator app, or a backup code").fill(totp_code(secret))
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("#backup-codes li").count() == 10
    assert_accessible(page, "backup-codes")
    page.get_by_role("link", name="I have saved my codes").click()

    page.wait_for_url(f"{live_server.url}/me/")
    assert page.get_by_role("heading", name="My OneCard").is_visible()
    assert page.locator(".status").inner_text() == "active"
    assert_accessible(page, "dashboard")


def test_login_page_is_accessible(page, live_server):
    page.goto(f"{live_server.url}/login/")

    assert_accessible(page, "login")


def given_service_records(resident) -> None:
    """Give RESIDENT employment, contributions, a claim, a visit and a prescription, so every table renders."""
    import datetime

    from services.social_security.models import UnemploymentClaim
    from tests.factories.health import hospital, prescription, visit
    from tests.factories.services import contribute, employ, employer

    firm = employer(name_en="Harbour Logistics")
    employ(resident, firm, started_on=datetime.date(2020, 1, 1))
    contribute(resident, firm, datetime.date(2024, 1, 1), 14)
    UnemploymentClaim.objects.create(resident=resident, unemployed_since=datetime.date(2025, 6, 1))
    clinic = hospital(name_en="Riverside General")
    visit(resident, clinic)
    prescription(resident, clinic, repeats_allowed=2, min_fill_interval_days=7)


def test_every_resident_page_passes_axe(page, live_server):
    resident, _card, _codes = given_resident_signed_in(page, live_server)
    given_service_records(resident)

    for path, name in [
        ("/me/", "dashboard-signed-in"),
        ("/me/card/", "card"),
        ("/me/pharmacy/", "pharmacy"),
        ("/me/consents/", "consents"),
        ("/me/access/?actor=all", "access-history"),
        ("/me/services/health/", "health"),
        ("/me/services/social-security/", "social-security"),
        ("/me/services/social-security/claims/apply/", "social-security-claim-apply"),
        ("/me/services/grants/", "grants"),
        ("/account/otp/enrol/", "otp-enrolled"),
        ("/password-reset/", "password-reset"),
    ]:
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page, name)


def test_pharmacy_qr_shows_a_countdown(page, live_server):
    given_resident_signed_in(page, live_server)

    page.goto(f"{live_server.url}/me/pharmacy/")

    page.wait_for_function("document.getElementById('qr-countdown').textContent.startsWith('New code in')")
    assert page.locator("#dynamic-qr-image").evaluate("image => image.complete && image.naturalWidth > 0")


def test_partner_access_appears_in_who_accessed_my_data(page, live_server):
    from cards.actions import card_token_static
    from ledger.api import Actor, access_context
    from tests.factories.core import agency_with_key

    resident, card, _codes = given_resident_signed_in(page, live_server)
    _agency, key = agency_with_key(
        scopes=["cards:verify"], purposes=["identity-verification"], name_en="Riverside Pharmacy", code="riverside"
    )
    with access_context(
        actor=Actor(type="system", id="test"), role="test", channel="task", purpose="identity-verification"
    ):
        token = card_token_static(card=card)
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/cards/verify",
        data=json.dumps({"token": token}).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "X-Purpose": "identity-verification",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["valid"] is True

    page.goto(f"{live_server.url}/me/access/")

    row = page.locator("li.access-entry", has_text="Riverside Pharmacy")
    assert row.count() == 1
    assert "Riverside Pharmacy checked that your card is valid to check who you are." in row.inner_text()
    screenshot(page, "access-history-partner")


def test_language_switch_to_chinese(page, live_server):
    given_resident_signed_in(page, live_server)

    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()

    assert page.get_by_role("heading", name="我的一卡通").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert_accessible(page, "dashboard-zh-hans")


def test_reporting_the_card_lost_with_the_keyboard(page, live_server):
    _resident, card, _codes = given_resident_signed_in(page, live_server)

    page.goto(f"{live_server.url}/me/card/")
    page.get_by_role("link", name="Report my card lost").focus()
    # The one-time password entered at sign-in is still fresh, so no step-up prompt comes in between.
    page.keyboard.press("Enter")
    page.get_by_label("I have lost my card and want it blocked now.").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Block my card").focus()
    page.keyboard.press("Enter")

    page.wait_for_url(f"{live_server.url}/me/card/")
    card.refresh_from_db()
    assert card.status == "lost"
    assert page.locator(".status").inner_text() == "reported lost"
    assert_accessible(page, "card-lost")


def test_activating_a_replacement_card_from_my_card(page, live_server):
    from cards.actions import card_activation_code_create, card_reissue
    from ledger.api import Actor, access_context

    _resident, card, _codes = given_resident_signed_in(page, live_server)
    with access_context(actor=Actor(type="system", id="test"), role="issuer", channel="task", purpose="registration"):
        successor = card_reissue(card=card, reason="damaged", notify=False)
        code = card_activation_code_create(card=successor)

    page.goto(f"{live_server.url}/me/card/")
    page.get_by_role("link", name="Activate this card").click()
    # The one-time password entered at sign-in is still fresh, so no step-up prompt comes in between.
    page.wait_for_url(f"{live_server.url}/me/card/activate/")
    assert_accessible(page, "card-activate")
    page.get_by_label("Activation code").fill(code)
    page.get_by_role("button", name="Activate").click()

    page.wait_for_url(f"{live_server.url}/me/card/")
    successor.refresh_from_db()
    card.refresh_from_db()
    assert (successor.status, card.status) == ("active", "replaced")
    assert page.locator(".status").inner_text() == "active"


# A proof bundle built here, independently of the server, checks the in-browser verifier.
def _h(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return _h(b"\x01", _mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _key_id(name: str, algorithm: int, public: bytes) -> bytes:
    return _h(name.encode() + b"\n" + bytes([algorithm]) + public)[:4]


def _verifier_key(name: str, algorithm: int, public: bytes) -> str:
    return f"{name}+{_key_id(name, algorithm, public).hex()}+{base64.b64encode(bytes([algorithm]) + public).decode()}"


def proof_bundle(index: int = 5, size: int = 11) -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    entries = [
        json.dumps({"index": i, "action": "cards.cards.read"}, separators=(",", ":")).encode() for i in range(size)
    ]
    leaves = [_h(b"\x00", entry) for entry in entries]
    body = f"onecard.test/log\n{size}\n{base64.b64encode(_mth(leaves)).decode()}\n"
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    log_public, witness_public = log.public_key().public_bytes_raw(), witness.public_key().public_bytes_raw()
    signature = base64.b64encode(_key_id("onecard.test/log", 1, log_public) + log.sign(body.encode())).decode()
    timestamp = 1_700_000_000
    cosigned = witness.sign(f"cosignature/v1\ntime {timestamp}\n{body}".encode())
    cosignature = base64.b64encode(
        _key_id("witness.test", 4, witness_public) + timestamp.to_bytes(8, "big") + cosigned
    ).decode()
    return {
        "format": "onecard-proof-bundle/v1",
        "index": index,
        "entry_bytes": base64.b64encode(entries[index]).decode(),
        "tree_size": size,
        "path": [base64.b64encode(node).decode() for node in _path(index, leaves)],
        "checkpoint": f"{body}\n\u2014 onecard.test/log {signature}\n\u2014 witness.test {cosignature}\n",
        "verifier_key": _verifier_key("onecard.test/log", 1, log_public),
        "witness_keys": [_verifier_key("witness.test", 4, witness_public)],
    }


def _verify_in_browser(page, bundle: dict) -> dict:
    return page.evaluate("bundle => window.OneCardVerify.verifyBundle(bundle)", bundle)


def test_in_browser_verification_accepts_a_good_proof_for_every_index(page, live_server):
    given_resident_signed_in(page, live_server)
    page.goto(f"{live_server.url}/me/access/")

    for index in range(11):
        assert _verify_in_browser(page, proof_bundle(index=index)) == {
            "ok": True,
            "state": "witnessed",
            "witnesses": 1,
            "witnessNames": ["witness.test"],
            "treeSize": 11,
            "logKeyChecked": False,
        }


def test_in_browser_verification_refuses_a_tampered_proof(page, live_server):
    given_resident_signed_in(page, live_server)
    page.goto(f"{live_server.url}/me/access/")
    good = proof_bundle()
    tampered_entry = dict(good, entry_bytes=base64.b64encode(b'{"action":"x","index":5}').decode())
    tampered_path = dict(good, path=[good["path"][1], good["path"][0], *good["path"][2:]])
    body, _, signatures = good["checkpoint"].partition("\n\n")
    tampered_root = dict(
        good, checkpoint=body.replace(body.split("\n")[2], base64.b64encode(b"\0" * 32).decode()) + "\n\n" + signatures
    )
    other_log_key = proof_bundle()["verifier_key"]

    results = [_verify_in_browser(page, bundle) for bundle in (tampered_entry, tampered_path, tampered_root)]
    pinned = page.evaluate("([b, k]) => window.OneCardVerify.verifyBundle(b, k)", [good, other_log_key])

    assert [(result["ok"], result["code"]) for result in results] == [(False, "inclusion")] * 3
    assert (pinned["ok"], pinned["code"]) == (False, "log-key")


def test_in_browser_verification_without_witnesses_is_valid_but_says_unwitnessed(page, live_server):
    given_resident_signed_in(page, live_server)
    page.goto(f"{live_server.url}/me/access/")
    good = proof_bundle()

    result = page.evaluate(
        "([b, k]) => window.OneCardVerify.verifyBundle(b, k)", [dict(good, witness_keys=[]), good["verifier_key"]]
    )

    assert result["ok"] is True
    assert result["state"] == "unwitnessed"
    assert result["witnesses"] == 0
    assert result["logKeyChecked"] is True


def given_resident_signed_in_by_keyboard(page, live_server):
    """Sign an enrolled resident in typing only: national ID, password, then a one-time password."""
    from portal.actions import backup_codes_regenerate
    from tests.factories.portal import resident_with_account

    user, resident, card, _device = resident_with_account()
    codes = backup_codes_regenerate(user=user)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("National ID or username").focus()
    page.keyboard.type(resident.national_id)
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")
    page.get_by_label("Code from your authenticator app, or a backup code").focus()
    page.keyboard.type(codes.pop())
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/me/")
    return resident, card


def partner_verifies_card(live_server, card) -> None:
    """Call POST /api/v1/cards/verify through the gateway as a pharmacy, with the resident's static token."""
    from cards.actions import card_token_static
    from ledger.api import Actor, access_context
    from tests.factories.core import agency_with_key

    _agency, key = agency_with_key(
        scopes=["cards:verify"], purposes=["identity-verification"], name_en="Riverside Pharmacy", code="riverside"
    )
    with access_context(
        actor=Actor(type="system", id="test"), role="test", channel="task", purpose="identity-verification"
    ):
        token = card_token_static(card=card)
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/cards/verify",
        data=json.dumps({"token": token}).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "X-Purpose": "identity-verification",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["valid"] is True


@contextlib.contextmanager
def witness_cosigns_over_http(tmp_path, settings, name: str):
    """Start ledger/tools/onecard_witness.py as its own process, make it the policy's quorum, and push to it."""
    import subprocess
    import sys

    from ledger.api import checkpoints_push, verifier_key_get

    tool = Path(__file__).resolve().parents[2] / "ledger" / "tools" / "onecard_witness.py"
    key_file = tmp_path / "witness.key"
    generated = subprocess.run(
        [sys.executable, str(tool), "generate-key", "--name", name, "--key-file", str(key_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, str(tool), "serve", "--name", name, "--key-file", str(key_file)]
        + ["--state-dir", str(tmp_path / "witness-state"), "--log-key", verifier_key_get(), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = json.loads(server.stdout.readline())["listening"]
        settings.ONECARD_LEDGER_WITNESS_POLICY = f"witness w {generated.stdout.strip()} {url}\nquorum w\n"
        assert [outcome.status for outcome in checkpoints_push()] == ["cosigned"]
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_partner_access_is_sequenced_witnessed_and_verifies_in_the_browser_then_a_tampered_proof_fails(
    page, live_server, tmp_path, settings
):
    from ledger.sequencer import sequence

    _resident, card = given_resident_signed_in_by_keyboard(page, live_server)
    partner_verifies_card(live_server, card)
    sequence()  # what the beat sweep does twice a second
    with witness_cosigns_over_http(tmp_path, settings, "witness.test/riverside-audit"):
        page.goto(f"{live_server.url}/me/access/")
        row = page.locator("li.access-entry", has_text="Riverside Pharmacy")
        assert row.count() == 1
        row.locator("summary").click()  # each access opens on its details and its proof
        row.get_by_role("button", name="Verify").focus()
        page.keyboard.press("Enter")
        result = row.locator(".verify-result")
        result.locator("strong").wait_for()

        assert "verify-result ok" in result.get_attribute("class")
        assert result.inner_text().startswith("Verified and witnessed")
        assert "Inclusion proof: the entry is in the log" in result.inner_text()
        assert "made with the key the log publishes" in result.inner_text()
        assert "witness.test/riverside-audit" in result.inner_text()
        assert page.locator("#verify-live").inner_text().startswith("Verified and witnessed")
        screenshot(page, "access-history-verified-witnessed")

        def tampered(route):
            bundle = route.fetch().json()
            entry = json.loads(base64.b64decode(bundle["entry_bytes"]))
            entry["purpose"] = "medical-treatment"
            bundle["entry_bytes"] = base64.b64encode(json.dumps(entry, separators=(",", ":")).encode()).decode()
            route.fulfill(status=200, content_type="application/json", body=json.dumps(bundle))

        page.route("**/me/access/*/proof.json", tampered)
        row.get_by_role("button", name="Verify").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("el => el.className.includes('fail')", arg=result.element_handle(), timeout=10_000)

        assert result.inner_text().startswith("Verification FAILED: the entry does not open its public leaf")
        screenshot(page, "access-history-tampered-proof")
