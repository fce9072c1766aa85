"""The completeness check on "Who accessed my data", in headless Chromium: accepted, and refused when doctored."""
# ruff: noqa: F811 (the fixtures imported from test_browser are the test arguments)

import json

import pytest

from tests.portal.test_browser import assert_accessible, browser, given_resident_signed_in, page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page, live_server) -> str:
    page.goto(f"{live_server.url}/me/access/")
    page.get_by_role("button", name="Check that I have seen all accesses").click()
    result = page.locator("#completeness-result")
    result.locator("strong").wait_for()
    return result.inner_text()


def test_the_browser_says_the_resident_has_seen_every_access(page, live_server):
    given_resident_signed_in(page, live_server)

    text = _check(page, live_server)

    assert text.startswith("You have seen all ")
    assert "accesses to your data up to" in text
    assert "cosigned by 1 witness" in text
    assert_accessible(page, "access-history-completeness")


def _doctor(change):
    def handle(route):
        response = route.fetch()
        bundle = response.json()
        change(bundle)
        route.fulfill(response=response, body=json.dumps(bundle))

    return handle


def _drop_middle(bundle):
    del bundle["entries"][len(bundle["entries"]) // 2]


def _reorder(bundle):
    bundle["entries"][0], bundle["entries"][1] = bundle["entries"][1], bundle["entries"][0]


def _old_map(bundle):
    # The map proof of a state without the newest entry: the count and the leaf one lower.
    subject = bundle["subjects"][0]
    subject["count"] -= 1
    subject["proof"]["leaf"]["count"] -= 1
    del bundle["entries"][-1]


@pytest.mark.parametrize(
    ("change", "reason"),
    [(_drop_middle, "missing link"), (_reorder, "reordered"), (_old_map, "bad map proof")],
    ids=["drop", "reorder", "old-map"],
)
def test_the_browser_refuses_a_doctored_bundle_and_says_why(page, live_server, change, reason):
    given_resident_signed_in(page, live_server)
    page.route("**/me/access/completeness.json", _doctor(change))

    text = _check(page, live_server)

    assert text.startswith(f"Completeness check FAILED: {reason}")
