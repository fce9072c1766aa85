"""A caseworker switches the staff admin to Chinese with the header's language switch, works in it, and back."""

import pytest

from portal.models import TOTPDevice
from tests.factories.cards import CardFactory
from tests.portal.staff import PASSWORD, fast_password_hashing, staff_create, token_now  # noqa: F401 (fixture)
from tests.portal.test_browser import browser, page, screenshot  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def switch_language(tab, code: str) -> None:
    tab.select_option("#onecard-language-select", code)
    tab.click("#onecard-language button[type=submit]")
    tab.wait_for_load_state()


def test_a_caseworker_works_in_the_admin_in_chinese_then_english(page, live_server):  # noqa: F811 (fixture)
    CardFactory()  # the list shows its actions only when it has a card to act on
    user = staff_create("card-officer")
    device = TOTPDevice.objects.get(user=user)
    admin = f"{live_server.url}/admin"

    page.goto(f"{admin}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", token_now(device))
    page.click("#login-form [type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{admin}/purpose/?next=/admin/")
    page.select_option("#id_purpose", "card-administration")
    page.click("#content-main form [type=submit]")
    page.wait_for_url(f"{admin}/")

    switch_language(page, "zh-hans")

    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.url == f"{admin}/"
    index = page.inner_text("body")
    assert "一卡通工作人员后台" in index and "社保卡" in index and "工作清单" in index
    screenshot(page, "admin-zh-index")

    page.goto(f"{admin}/cards/card/")
    cards = page.content()
    assert "挂起所选的卡" in cards and "补换所选的卡" in cards

    page.goto(f"{admin}/worklists/")
    worklists = page.inner_text("body")
    assert "待激活的卡" in worklists and "已挂失的卡" in worklists and "Card requests" not in worklists

    page.goto(f"{admin}/dashboard/")
    dashboard = page.inner_text("body")
    assert "按状态统计的卡" in dashboard and "排序延迟" in dashboard and "Cards by status" not in dashboard
    screenshot(page, "admin-zh-dashboard")

    switch_language(page, "en")

    assert page.get_attribute("html", "lang") == "en"
    assert page.url == f"{admin}/dashboard/"
    back = page.inner_text("body")
    assert "Cards by status" in back and "Sequencer lag" in back and "按状态统计的卡" not in back
