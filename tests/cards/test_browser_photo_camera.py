"""A registrar takes a resident's card photo with the computer's camera in the admin (headless Chromium).

Chromium's fake camera stands in for the webcam: it gives a 640 x 480 test
pattern, and the page crops its middle to a 3:4 portrait before sending it
through the same form, checks and re-encoding as an uploaded file.
"""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from cards.models import ResidentPhoto
from cards.photos import photo_decrypt
from portal.models import TOTPDevice
from tests.factories import ResidentFactory
from tests.portal.staff import PASSWORD, fast_password_hashing, ledger_rows, staff_create, token_now  # noqa: F401
from tests.portal.test_browser import ARGS, CHROMIUM, _chromium_available, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


@pytest.fixture
def camera_page():
    _chromium_available()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
        )
        context = browser.new_context(locale="en-GB")
        context.grant_permissions(["camera"])
        yield context.new_page()
        browser.close()


def test_a_registrar_takes_the_photo_with_the_camera(camera_page, live_server):
    page = camera_page
    resident = ResidentFactory()
    user = staff_create("registrar")
    admin = f"{live_server.url}/admin"
    page.goto(f"{admin}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", token_now(TOTPDevice.objects.get(user=user)))
    page.click("#login-form [type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{admin}/purpose/?next=/admin/cards/residentphoto/add/")
    page.select_option("#id_purpose", "registration")
    page.click("#content-main form [type=submit]")
    page.wait_for_url(f"{admin}/cards/residentphoto/add/")

    page.fill("#id_resident", str(resident.pk))
    page.get_by_role("button", name="Use the camera").click()
    # No wait_for_function: the admin's CSP (script-src 'self') refuses the evaluation it needs.
    page.locator("video.onecard-camera-video[data-ready]").wait_for(state="attached", timeout=15_000)
    page.get_by_role("button", name="Take the photo").click()
    expect(page.locator(".onecard-camera-status")).to_contain_text("Photo taken")
    expect(page.get_by_alt_text("The photo just taken")).to_be_visible()
    screenshot(page, "admin-photo-camera")
    page.click("input[name=_save]")
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/residentphoto"))

    photo = ResidentPhoto.objects.get(resident=resident)
    image = Image.open(io.BytesIO(photo_decrypt(photo.jpeg_ciphertext, resident_id=resident.pk)))
    assert (photo.status, photo.source, image.format) == ("approved", "caseworker", "JPEG")
    assert image.width * 4 == image.height * 3  # the portrait crop, re-encoded
    assert any(row["action"] == "cards.photos.update" for row in ledger_rows())
