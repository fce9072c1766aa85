"""Drive family proxies in headless Chromium, in English and Chinese, on a desktop and a 360-pixel phone.

A resident invites a family member, who takes the code up, switches to acting
for her (the header says so), uses her pages and stops; she sees in "Who
accessed my data" who acted for her, and withdraws the permission while he is
acting, which ends his mode on his next page.
"""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from tests.portal.test_browser import assert_accessible, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
LOCALES = {"en": "en-GB", "zh-hans": "zh-CN"}
OTP_LABEL = "Code from your authenticator app, or a backup code"


class Resident:
    """A resident with an account and backup codes, as the browser signs in."""

    def __init__(self, full_name: str):
        from portal.actions import backup_codes_regenerate
        from tests.factories.portal import resident_with_account

        user, self.record, self.card, _device = resident_with_account()
        self.record.full_name = full_name
        self.record.save(update_fields=["full_name"])
        self.codes = backup_codes_regenerate(user=user)


class Portal:
    """One browser context in LANGUAGE and VIEWPORT, with the portal's own words in that language."""

    def __init__(self, browser, live_server, language: str, viewport: dict):  # noqa: F811 (fixture name)
        self.language, self.url = language, live_server.url
        self.context = browser.new_context(locale=LOCALES[language], viewport=viewport)
        self.page = self.context.new_page()
        self.name = f"{language}-{viewport['width']}"

    def t(self, text: str, **values) -> str:
        with translation.override(self.language):
            translated = gettext(text)
        return translated % values if values else translated

    def sign_in(self, resident: Resident) -> None:
        page = self.page
        page.goto(f"{self.url}/login/")
        assert page.locator("html").get_attribute("lang") == self.language
        page.get_by_label(self.t("National ID or username")).fill(resident.record.national_id)
        page.get_by_label(self.t("Password")).fill("correct-horse-battery")
        page.get_by_role("button", name=self.t("Sign in"), exact=True).click()
        self.one_time_password(resident)
        page.wait_for_url(f"{self.url}/me/")

    def one_time_password(self, resident: Resident) -> None:
        self.page.get_by_label(self.t(OTP_LABEL)).fill(resident.codes.pop())
        self.page.get_by_role("button", name=self.t("Continue")).click()

    def step_up_if_asked(self, resident: Resident) -> None:
        """Enter a one-time password again when the page asks (more than the step-up window after sign-in)."""
        self.page.wait_for_load_state()
        if "/account/step-up/" in self.page.url:
            self.one_time_password(resident)

    def sign_out(self) -> None:
        self.page.get_by_role("button", name=self.t("Sign out")).click()

    def navigate(self, name: str) -> None:
        """Follow the main navigation's link NAME, opening the menu first on a phone, where it is folded."""
        menu = self.page.get_by_role("button", name=self.t("Menu"))
        if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
            menu.click()
        self.page.get_by_role("navigation", name=self.t("Main")).get_by_role("link", name=name, exact=True).click()

    def open_family(self) -> None:
        self.navigate(self.t("Family"))
        self.page.wait_for_url(f"{self.url}/me/family/")


@pytest.fixture(
    params=[("en", DESKTOP), ("zh-hans", PHONE), ("en", PHONE), ("zh-hans", DESKTOP)],
    ids=lambda p: f"{p[0]}-{p[1]['width']}",
)
def portals(request, browser, live_server):  # noqa: F811 (fixture name)
    language, viewport = request.param
    opened = []

    def open_portal() -> Portal:
        opened.append(Portal(browser, live_server, language, viewport))
        return opened[-1]

    yield open_portal
    for portal in opened:
        portal.context.close()


def test_a_family_member_acts_visibly_and_the_dependant_sees_it_and_revokes_it(portals):
    mother, son = Resident("王秀英"), Resident("李明")
    her = portals()
    him = portals()

    # She invites him: a step-up, a relationship, a code shown once.
    her.sign_in(mother)
    her.open_family()
    assert_accessible(her.page, f"family-{her.name}")
    her.page.get_by_role("link", name=her.t("Let a family member act for me")).click()
    her.step_up_if_asked(mother)
    her.page.get_by_label(her.t("Who is this person to you?")).select_option("child")
    her.page.get_by_role("button", name=her.t("Make an invitation code")).click()
    code = her.page.locator("#invitation-code").inner_text()
    assert_accessible(her.page, f"family-invitation-{her.name}")

    # He takes it up and switches to acting for her.
    him.sign_in(son)
    him.open_family()
    him.page.get_by_role("link", name=him.t("Enter an invitation code")).click()
    him.step_up_if_asked(son)
    him.page.get_by_label(him.t("Invitation code")).fill(code)
    him.page.get_by_role("button", name=him.t("Accept")).click()
    him.page.wait_for_url(f"{him.url}/me/family/")
    assert him.page.get_by_role("cell", name=mother.record.full_name, exact=True).is_visible()
    assert_accessible(him.page, f"family-held-{him.name}")
    him.page.get_by_role("button", name=him.t("Act for %(name)s", name=mother.record.full_name)).click()
    him.page.wait_for_url(f"{him.url}/me/")
    banner = him.page.locator(".acting-for")
    assert banner.is_visible() and mother.record.full_name in banner.inner_text()
    assert_accessible(him.page, f"acting-for-dashboard-{him.name}")

    # What he sees is hers; what he may not do is refused.
    him.navigate(him.t("My card"))
    assert him.page.get_by_text(mother.card.number_display).is_visible()
    assert him.page.get_by_text(son.card.number_display).count() == 0
    him.page.goto(f"{him.url}/me/services/health/")
    assert banner.is_visible()
    him.page.goto(f"{him.url}/account/backup-codes/")
    assert him.page.get_by_role("heading", name=him.t("Not while acting for someone")).is_visible()
    assert_accessible(him.page, f"acting-for-refused-{him.name}")

    # He stops: the header no longer says so.
    banner.get_by_role("button").click()
    him.page.wait_for_url(f"{him.url}/me/family/")
    assert him.page.locator(".acting-for").count() == 0

    # He acts for her again; she sees who acted for her, and withdraws it.
    him.page.get_by_role("button", name=him.t("Act for %(name)s", name=mother.record.full_name)).click()
    him.page.wait_for_url(f"{him.url}/me/")
    her.navigate(her.t("Who accessed my data"))
    acted = her.page.locator("li.access-entry", has_text=her.t("%(name)s, acting for you", name=son.record.full_name))
    assert acted.count() >= 1
    assert acted.filter(has_text=her.t("viewed your card")).count() >= 1
    assert_accessible(her.page, f"family-history-dependant-{her.name}")
    her.open_family()
    assert her.page.get_by_role("cell", name=son.record.full_name, exact=True).is_visible()
    her.page.get_by_role("link", name=f"{her.t('Withdraw')} {son.record.full_name}").click()
    her.page.get_by_role("button", name=her.t("End it")).click()
    her.page.wait_for_url(f"{her.url}/me/family/")
    assert her.page.get_by_text(her.t("Nobody can act for you.")).is_visible()

    # His next page is his own again, and says why.
    him.page.goto(f"{him.url}/me/card/")
    assert him.page.locator(".acting-for").count() == 0
    assert him.page.get_by_text(
        him.t("You are no longer acting for someone else: that permission has ended.")
    ).is_visible()
    assert him.page.get_by_text(son.card.number_display).is_visible()

    # His own history keeps what he did for her, with her name.
    him.page.goto(f"{him.url}/me/access/")
    mine = him.page.locator("li.access-entry", has_text=him.t("acted for a family member"))
    assert mine.count() >= 1
    assert him.t("family: %(name)s", name=mother.record.full_name) in mine.first.inner_text()
    assert_accessible(him.page, f"family-history-proxy-{him.name}")
