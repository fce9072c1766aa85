"""Every resident page and the main staff admin pages, on a 360-pixel phone and a 1280-pixel desktop, in
English and Chinese: axe-core finds no serious or critical violation and the page never scrolls sideways.

One browser; each language signs in once and the same signed-in context is resized between widths.
"""

from pathlib import Path

import pytest

from tests.portal.test_browser import assert_accessible, browser, given_service_records  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (360, 1280)
LOCALES = {"en": "en-GB", "zh-hans": "zh-CN"}
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "govuk-frontend"
PUBLIC_PAGES = ["/", "/login/", "/activate/", "/password-reset/", "/statistics/", "/pharmacy/counter/"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/purpose/",
    "/admin/worklists/",
    "/admin/dashboard/",
    "/admin/cards/resident/",
    "/admin/cards/card/",
    "/admin/services_core/agency/",
    "/admin/ledger/entry/",
    "/admin/portal/accessreport/",
    "/admin/grants/application/",
]


@pytest.fixture(autouse=True)
def _design_system_built():
    missing = [name for name in ("govuk-frontend.min.css", "govuk-frontend.min.js") if not (VENDOR / name).exists()]
    assert not missing, f"{VENDOR} lacks {missing}: run `make frontend` (make test and make run do it)"


def assert_fits(page, name: str, width: int) -> None:
    """The page is at most WIDTH CSS pixels wide: nothing makes the whole page scroll sideways."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        wide = page.evaluate(
            """width => [...document.querySelectorAll("body *")]
                .filter(element => element.getBoundingClientRect().right > width)
                .slice(0, 5).map(element => element.tagName + "." + element.className)""",
            width,
        )
        page.screenshot(path=f"test-artifacts/too-wide-{name}.png", full_page=True)
        pytest.fail(f"{name}: the page is {scroll_width}px wide in a {width}px viewport; too wide: {wide}")


def check_every_width(page, path: str, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(path)
        assert_fits(page, name, width)
        assert_accessible(page, f"layout-{name}-{width}")


def page_name(language: str, path: str) -> str:
    return f"{language}-" + ("-".join(part for part in path.split("/") if part and "?" not in part) or "home")


def given_a_resident_with_something_on_every_page(resident):
    """Give RESIDENT service records, a consent, an open grant programme and a rejected application."""
    from services.grants.models import Application
    from tests.factories.core import AgencyFactory
    from tests.factories.grants import ProgrammeFactory, apply
    from tests.factories.services import consent

    given_service_records(resident)
    agency = AgencyFactory(code="demo-bank", name_en="Demo Bank", name_zh_hans="示范银行")
    granted = consent(resident, agency, "residents:verify", "identity-verification")
    programme = ProgrammeFactory(name_en="Winter heating support", name_zh_hans="冬季取暖补贴")
    application = apply(programme, resident)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.REJECTED)
    return {"consent": granted, "programme": programme, "application": application}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_resident_page_fits_a_phone_and_passes_axe(browser, live_server, language):  # noqa: F811
    from portal.actions import backup_codes_regenerate
    from tests.factories.portal import resident_with_account

    context = browser.new_context(locale=LOCALES[language], base_url=live_server.url)
    page = context.new_page()
    for path in PUBLIC_PAGES:
        check_every_width(page, path, page_name(language, path))

    page.goto("/login/")
    page.locator("#id_username").fill("")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_selector(".govuk-error-summary")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert_fits(page, f"{language}-login-errors", width)
        assert_accessible(page, f"layout-{language}-login-errors-{width}")

    user, resident, _card, _device = resident_with_account()
    codes = backup_codes_regenerate(user=user)
    extra = given_a_resident_with_something_on_every_page(resident)
    page.goto("/login/")
    page.locator("#id_username").fill(resident.national_id)
    page.locator("#id_password").fill("correct-horse-battery")
    page.locator("form.stack button[type=submit]").click()
    page.locator("#id_otp_token").fill(codes.pop())
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/me/")

    for path in [
        "/me/",
        "/me/card/",
        "/me/card/photo/",
        "/me/card/report-lost/",
        "/me/pharmacy/",
        "/me/consents/",
        "/me/consents/grant/",
        f"/me/consents/{extra['consent'].receipt_id}/revoke/",
        "/me/services/health/",
        "/me/services/social-security/",
        "/me/services/social-security/claims/apply/",
        "/me/services/grants/",
        f"/me/grants/{extra['programme'].code}/apply/",
        f"/me/grants/applications/{extra['application'].pk}/appeal/",
        "/me/family/",
        "/me/family/invite/",
        "/me/family/accept/",
        "/account/otp/enrol/",
        "/account/backup-codes/",
        "/statistics/",
        "/me/access/?actor=all",
    ]:
        check_every_width(page, path, page_name(language, path))

    page.goto("/me/access/?actor=all")
    report = page.locator("a[href$='/report/']").first.get_attribute("href")
    check_every_width(page, report, f"{language}-access-report")
    context.close()


def test_the_phone_menu_opens_the_main_navigation(browser, live_server):  # noqa: F811
    from portal.actions import backup_codes_regenerate
    from tests.factories.portal import resident_with_account

    user, resident, _card, _device = resident_with_account()
    codes = backup_codes_regenerate(user=user)
    context = browser.new_context(locale="en-GB", base_url=live_server.url, viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("National ID or username").fill(resident.national_id)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code from your authenticator app, or a backup code").fill(codes.pop())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/me/")
    family = page.get_by_role("link", name="Family", exact=True)
    assert not family.is_visible()

    page.get_by_role("button", name="Menu").click()

    family.click()
    page.wait_for_url(f"{live_server.url}/me/family/")
    assert page.locator(".govuk-service-navigation__item--active").inner_text().strip() == "Family"
    context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_staff_admin_fits_a_phone_and_passes_axe(browser, live_server, language):  # noqa: F811
    from portal.models import TOTPDevice
    from tests.factories.cards import CardFactory
    from tests.portal.staff import staff_create, token_now

    card = CardFactory()
    caseworker = staff_create("superuser")
    device = TOTPDevice.objects.get(user=caseworker)
    context = browser.new_context(locale=LOCALES[language], base_url=live_server.url)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    check_every_width(page, "/admin/login/?next=/admin/", f"{language}-admin-login")
    page.locator("#id_username").fill(caseworker.username)
    page.locator("#id_password").fill("correct-horse-battery")
    page.locator("#id_otp_token").fill(token_now(device))
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto("/admin/purpose/?next=/admin/")
    page.locator("#id_purpose").select_option("registration")
    page.locator("#content-main form [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")

    change_pages = [f"/admin/cards/resident/{card.resident.pk}/change/", f"/admin/cards/card/{card.pk}/change/"]
    for path in [*ADMIN_PAGES, *change_pages]:
        check_every_width(page, path, f"{language}-admin-" + "-".join(part for part in path.split("/")[2:5] if part))
    context.close()
