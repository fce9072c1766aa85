"""Drive /statistics/ in headless Chromium, in English and in Chinese, and run axe-core on it."""

import pytest

from ledger.api import Actor, access_context
from services.statistics.actions import period_publish
from services.statistics.periods import period_parse
from tests.portal.test_browser import assert_accessible, browser, page  # noqa: F401 (fixtures)
from tests.services.statistics import data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _published():
    for _ in range(3):
        data.resident()
    with access_context(
        actor=Actor(type="system", id="statistics.publish"),
        role="system",
        channel="command",
        purpose="official-statistics",
    ):
        period_publish(period=period_parse(data.PERIOD))


def test_the_statistics_page_shows_charts_and_privacy_parameters_in_english(page, live_server):  # noqa: F811
    _published()

    page.goto(f"{live_server.url}/statistics/")

    assert page.get_by_role("heading", name="Trend statistics").is_visible()
    assert page.get_by_role("heading", name="Privacy budget of 2025-09").is_visible()
    assert page.get_by_role("img", name="Residents registered, by province").is_visible()
    assert page.get_by_text("This table spent ρ = 0.1").first.is_visible()
    assert_accessible(page, "statistics-en")


def test_the_statistics_page_in_chinese(page, live_server):  # noqa: F811
    _published()
    page.goto(f"{live_server.url}/statistics/")

    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", name="趋势统计").is_visible()
    assert page.get_by_role("heading", name="2025-09 的隐私预算").is_visible()
    assert page.get_by_role("img", name="按省份统计的登记居民").is_visible()
    assert page.get_by_role("rowheader", name="北京").first.is_visible()
    assert_accessible(page, "statistics-zh-hans")


def test_choosing_a_month_shows_its_releases(page, live_server):  # noqa: F811
    _published()
    page.goto(f"{live_server.url}/statistics/")

    page.get_by_label("Month", exact=True).select_option("2025-09")
    page.get_by_role("button", name="Show").click()

    assert "period=2025-09" in page.url
    assert page.get_by_role("heading", name="Grant payments, by programme and month").is_visible()
