"""Who accessed my data, in Chromium, in English and Chinese, on a 360-pixel phone and a desktop screen.

The summary of the last 30 days with its chart, an entry opened on its details and its proof, and the
notification a resident gets after a partner's access.
"""

import pytest

from tests.portal.test_browser import (  # noqa: F401 (fixtures)
    assert_accessible,
    browser,
    given_resident_signed_in,
    partner_verifies_card,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
HEADINGS = {"en": "Who accessed my data", "zh-hans": "谁访问了我的数据"}


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def in_language(page, live_server, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


def given_accesses(live_server, resident, card) -> None:
    """A pharmacy verifies the card through the API; an insurer reads the visits; OneCard does its own work."""
    from ledger.api import Actor, access_context, log_seal, record
    from tests.factories.core import AgencyFactory

    partner_verifies_card(live_server, card)
    AgencyFactory(code="ping-an", name_en="Ping An Insurance", name_zh_hans="平安保险")
    with access_context(
        actor=Actor(type="agency", id="ping-an"), role="insurer", channel="api", purpose="insurance-claims"
    ):
        for _ in range(3):
            record(action="health.visits.read", subject=resident)
    with access_context(
        actor=Actor(type="system", id="x"), role="system", channel="task", purpose="card-administration"
    ):
        record(action="cards.credentials.dynamic.issue", subject=resident)
    log_seal()


TEXT_BLOCKS = ", ".join(
    f"main {selector}"
    for selector in (
        "h1",
        "h2",
        "p",
        "summary",
        "dd",
        "li > strong",
        ".access-sentence",
        ".summary-what",
        ".summary-why",
    )
)


def pharmacy_name(language: str) -> str:
    from services.core.models import Agency

    pharmacy = Agency.objects.get(code="riverside")
    return pharmacy.name_zh_hans if language == "zh-hans" else pharmacy.name_en


def assert_no_one_character_lines(page) -> None:
    """Fail when a text block wraps into lines of a character or two, or the page scrolls sideways."""
    squeezed = page.evaluate(
        """(selector) => {
          const out = [];
          for (const el of document.querySelectorAll(selector)) {
            if (!el.offsetParent) continue;
            const text = el.textContent.trim();
            if (text.length < 8) continue;
            // Count the rendered lines of text themselves (not padding or markers): the distinct tops of the
            // boxes the text's characters are laid out in.
            const range = document.createRange();
            range.selectNodeContents(el);
            const tops = new Set();
            for (const rect of range.getClientRects()) if (rect.width > 0) tops.add(Math.round(rect.top));
            const lines = Math.max(1, tops.size);
            if (text.length / lines < 6) out.push([text.slice(0, 30), lines]);
          }
          return out;
        }""",
        TEXT_BLOCKS,
    )
    assert squeezed == [], squeezed
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_summary_of_the_last_30_days(page, live_server, language, size):
    resident, card, _codes = given_resident_signed_in(page, live_server)
    given_accesses(live_server, resident, card)
    page.set_viewport_size(SIZES[size])
    in_language(page, live_server, language)

    page.goto(f"{live_server.url}/me/access/")

    summary = page.locator(".access-summary")
    assert page.get_by_role("heading", name=HEADINGS[language]).is_visible()
    chart = summary.locator("svg.summary-chart")
    assert chart.is_visible()
    assert chart.bounding_box()["width"] <= SIZES[size]["width"]
    organisations = summary.locator(".summary-organisations li")
    if language == "en":
        assert organisations.first.locator(".summary-who").inner_text() == "Ping An Insurance"
        assert "3 times" in organisations.first.inner_text()
        assert "Riverside Pharmacy" in summary.inner_text()
        assert "To settle an insurance claim" in organisations.first.inner_text()
    else:
        assert organisations.first.locator(".summary-who").inner_text() == "平安保险"
        assert "3 次" in organisations.first.inner_text()
        assert "用于保险理赔" in organisations.first.inner_text()
    # OneCard's own work and the resident's are folded away until asked for.
    folded = page.locator("details.access-folded")
    assert folded.count() == 1 and folded.get_attribute("open") is None
    assert not folded.locator("li.access-entry").first.is_visible()
    assert_no_one_character_lines(page)
    assert_accessible(page, f"access-summary-{language}-{size}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_an_entry_opens_on_its_details_and_its_proof(page, live_server, language, size):
    resident, card, _codes = given_resident_signed_in(page, live_server)
    given_accesses(live_server, resident, card)
    page.set_viewport_size(SIZES[size])
    in_language(page, live_server, language)
    page.goto(f"{live_server.url}/me/access/")
    name = pharmacy_name(language)
    entry = page.locator(".access-list > ol > li.access-entry", has_text=name)
    assert entry.count() == 1
    verify = entry.locator("button.verify")
    assert not verify.is_visible()

    entry.locator("summary").focus()
    page.keyboard.press("Enter")
    verify.click()
    result = entry.locator(".verify-result")
    result.locator("strong").wait_for()

    details = entry.locator(".access-details").inner_text()
    if language == "en":
        assert (
            "Riverside Pharmacy checked that your card is valid to check who you are."
            in entry.locator("summary").inner_text()
        )
        assert "Through the interface for partner organisations" in details
        assert result.inner_text().startswith(("Verified and witnessed", "Valid, signed by the log"))
    else:
        assert "核验了您的卡是否有效，用于核验您的身份。" in entry.locator("summary").inner_text()
        assert "通过合作机构接口" in details
        assert "cards.credentials.verify" not in details and "identity-verification" not in details
    assert "fail" not in result.get_attribute("class")
    assert entry.get_by_role(
        "link", name="I do not recognise this" if language == "en" else "我不认识这次访问"
    ).count() in (0, 1)
    assert_no_one_character_lines(page)
    assert_accessible(page, f"access-entry-proof-{language}-{size}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_notification_is_sent_after_a_partner_access(page, live_server, language, settings):
    from django.core import mail

    from portal.tasks import access_digests_send

    settings.ONECARD_PORTAL_URL = live_server.url
    resident, card, _codes = given_resident_signed_in(page, live_server)
    page.set_viewport_size(PHONE)
    in_language(page, live_server, language)
    page.goto(f"{live_server.url}/me/access/")
    page.locator(".access-notify a").click()
    page.wait_for_url(f"{live_server.url}/me/notifications/")
    page.locator("input[name=frequency][value=daily]").check()
    page.locator("input[name=channel][value=email]").check()
    page.locator("select#id_language").select_option(language)
    assert_accessible(page, f"notification-settings-{language}")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/me/notifications/")
    assert page.locator(".messages").is_visible()

    partner_verifies_card(live_server, card)
    from ledger.api import log_seal

    log_seal()
    mail.outbox.clear()
    access_digests_send.delay("daily")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [resident.email]
    name = pharmacy_name(language)
    expected = f"{name}, to check who you are" if language == "en" else f"{name}，用于核验您的身份"
    assert expected in message.body
    assert "valid" not in message.body and "有效" not in message.body  # who, when and why; not what
    link = next(line for line in message.body.splitlines() if line.endswith("/me/access/"))
    page.goto(link)
    assert page.locator(".access-summary").get_by_text(name).first.is_visible()
    screenshot(page, f"access-after-notification-{language}")
