"""The resident's Verify, in real Chromium, proving an access from the tiles of a mirror process instead of the log."""

import os
from pathlib import Path

import pytest

from ledger.sequencer import log_verifier_key, sequence
from ledger.witnessing import checkpoints_push
from tests.ledger.test_mirror import Mirror
from tests.portal.test_browser import ARGS, CHROMIUM, given_resident_signed_in_by_keyboard, partner_verifies_card

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed; the browser tests run in CI")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    yield context.new_page()
    context.close()


@pytest.fixture
def mirror(live_server, tmp_path, settings):
    """A mirror process following the live log, configured as the portal's one mirror (and allowed by the CSP)."""
    started = Mirror(log=live_server.url + "/log", key=log_verifier_key(), directory=tmp_path / "mirror")
    settings.ONECARD_LEDGER_MIRROR_URLS = [started.url]
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "DIRECTIVES": {**directives, "connect-src": ["'self'", started.url]},
    }
    yield started
    started.stop()


def _verify_row(page, row):
    result = row.locator(".verify-result")
    row.get_by_role("button", name="Verify").click()
    page.wait_for_function(
        "el => /ok|fail|unwitnessed/.test(el.className) && el.querySelector('strong')",
        arg=result.element_handle(),
        timeout=20_000,
    )
    return result


def test_verify_reads_the_published_log_from_the_mirror_the_resident_chose(page, live_server, mirror):
    _resident, card = given_resident_signed_in_by_keyboard(page, live_server)
    partner_verifies_card(live_server, card)
    size = sequence().tree_size
    checkpoints_push()
    mirror.wait_for_size(size)
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/me/access/?mirror={mirror.url}")
    assert page.locator("#verify-source").input_value() == mirror.url
    row = page.locator("tr", has_text="Riverside Pharmacy")
    result = _verify_row(page, row)

    assert "verify-result ok" in result.get_attribute("class"), result.inner_text()
    assert f"read from {mirror.url}" in result.inner_text()
    assert any(url.startswith(mirror.url + "/tile/0/") for url in requested)
    assert not any(url.startswith(f"{live_server.url}/log/") for url in requested)


def test_verify_fails_when_the_mirror_serves_a_tile_that_does_not_hold_the_entry(page, live_server, mirror):
    _resident, card = given_resident_signed_in_by_keyboard(page, live_server)
    partner_verifies_card(live_server, card)
    size = sequence().tree_size
    checkpoints_push()
    mirror.wait_for_size(size)

    def forged(route):
        tile = bytearray(route.fetch().body())
        tile[0] ^= 0xFF  # another first leaf hash: the tiles no longer hash to the signed root
        route.fulfill(status=200, content_type="application/octet-stream", body=bytes(tile))

    page.route(f"{mirror.url}/tile/**", forged)
    page.goto(f"{live_server.url}/me/access/?mirror={mirror.url}")
    result = _verify_row(page, page.locator("tr", has_text="Riverside Pharmacy"))

    assert "verify-result fail" in result.get_attribute("class")
    assert "the inclusion proof does not lead to the signed checkpoint" in result.inner_text()


def test_a_mirror_not_configured_is_not_offered(page, live_server, settings):
    given_resident_signed_in_by_keyboard(page, live_server)

    page.goto(f"{live_server.url}/me/access/?mirror=https://evil.example")

    assert page.locator("#verify-source").input_value() == "/log/"
    assert page.locator("#verify-source option").count() == 1
