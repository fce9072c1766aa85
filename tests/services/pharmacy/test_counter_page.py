"""The pharmacy counter page in headless Chromium: scan, compare photo and name, dispense; each look recorded."""

import io

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from cards.actions import resident_photo_set
from ledger.api import Actor, access_context
from services.pharmacy.models import Dispensation, DispensingSession
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.factories.pharmacy import DISPENSING, PHARMACY_SCOPES, prescription, qr_token
from tests.factories.services import contribute, employer
from tests.portal.test_browser import assert_accessible, browser, screenshot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FACE_TO_FACE = "face-to-face-identification"
PHOTO_COLOUR = (10, 120, 200)


@pytest.fixture
def page(browser):  # noqa: F811 (the imported fixture)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda note: errors.append(note.text) if note.type == "error" else None)
    yield page
    context.close()
    # 4xx answers the page handles show as console errors in Chromium; anything else is a bug.
    assert [e for e in errors if "status of 4" not in e] == []


def given_cardholder(*, name="王小明", photo=True):
    card = CardFactory(resident__full_name=name)
    contribute(card.resident, employer(), timezone.localdate().replace(day=1), 1, insurances=["medical"])
    rx = prescription(card.resident, drug_name="Metformin hydrochloride", quantity=60, min_fill_interval_days=0)
    if photo:
        buffer = io.BytesIO()
        Image.new("RGB", (480, 640), PHOTO_COLOUR).save(buffer, format="JPEG")
        with access_context(
            actor=Actor(type="staff", id="cw"), role="registrar", channel="admin", purpose="registration"
        ):
            resident_photo_set(resident=card.resident, data=buffer.getvalue())
    return card, rx


def given_pharmacy(*, photo_scope=True):
    scopes = [*PHARMACY_SCOPES, "cards:photo"] if photo_scope else PHARMACY_SCOPES
    return agency_with_key(kind="pharmacy", scopes=scopes, purposes=[DISPENSING, FACE_TO_FACE])


def counter_open(page, live_server, key, *, language=None):
    page.goto(f"{live_server.url}/pharmacy/counter/")
    if language:
        page.get_by_label("Language").select_option(language)
        page.locator(".language-form button").click()
        page.wait_for_url(f"{live_server.url}/pharmacy/counter/")
    page.locator("#key-input").fill(key)
    page.locator("#key-form button").click()


def scan(page, card):
    page.locator("#scan-input").fill(qr_token(card))
    page.locator("#scan-form button").click()


def photo_centre_colour(page) -> list[int]:
    return page.locator("#holder-photo").evaluate(
        """image => {
            const canvas = document.createElement("canvas");
            canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            return Array.from(context.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data.slice(0, 3));
        }"""
    )


def test_the_pharmacist_sees_photo_name_and_prescriptions_and_dispenses(page, live_server, ledger_sequenced):
    card, rx = given_cardholder()
    agency, key = given_pharmacy()

    counter_open(page, live_server, key)
    assert_accessible(page, "pharmacy-counter-key")
    scan(page, card)

    page.locator("#holder-photo").wait_for(state="visible")
    assert page.locator("#holder-name").inner_text() == "王小明"
    assert page.locator("#holder-photo").evaluate("image => image.complete && image.naturalWidth") == 360
    assert page.locator("#holder-photo").get_attribute("src").startswith("data:image/jpeg;base64,")
    assert all(abs(a - b) < 8 for a, b in zip(photo_centre_colour(page), PHOTO_COLOUR, strict=True))
    assert page.locator("#session-coverage").inner_text() == "Medical insurance pays 70% of each fill."
    row = page.locator(f"#rx-{rx.pk}")
    assert "Metformin hydrochloride" in row.inner_text()
    assert row.locator('[data-field="remaining_quantity"]').inner_text() == "180"
    assert_accessible(page, "pharmacy-counter-session")

    row.get_by_label("Quantity").fill("30")
    row.get_by_label("Price of the fill (CNY)").fill("90.00")
    row.get_by_role("button", name="Dispense").click()

    expect(row.locator(".dispense-result")).to_have_text("Dispensed 30. Insurance pays 63.00, the resident pays 27.00.")
    assert row.locator('[data-field="remaining_quantity"]').inner_text() == "150"
    assert Dispensation.objects.get(prescription=rx).quantity == 30
    session = DispensingSession.objects.get(resident=card.resident)
    # Read back through the commit path: the live server's requests committed and the sequencer ran.
    views = ledger_sequenced(action="cards.photos.view")
    holders = ledger_sequenced(action="pharmacy.holders.read")
    photo_object = f"photo:{card.resident.photos.get(status='approved').pk} session:{session.public_id}"
    assert [(e["actor"]["id"], e["actor"]["type"], e["purpose"], e["object"]) for e in views] == [
        (agency.code, "agency", FACE_TO_FACE, photo_object)
    ]
    assert [(e["actor"]["id"], e["purpose"], e["object"]) for e in holders] == [
        (agency.code, FACE_TO_FACE, f"session:{session.public_id}")
    ]

    page.get_by_role("button", name="Next customer").click()

    assert page.locator("#holder-photo").is_hidden()
    assert page.locator("#holder-photo").get_attribute("src") is None
    assert page.locator("#holder-name").inner_text() == ""


def test_the_counter_page_in_chinese(page, live_server):
    card, rx = given_cardholder(name="䶮𠮷")
    _agency, key = given_pharmacy()

    counter_open(page, live_server, key, language="zh-hans")
    scan(page, card)

    page.locator("#holder-photo").wait_for(state="visible")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", name="药店柜台").is_visible()
    assert page.locator("#holder-name").inner_text() == "䶮𠮷"
    assert page.locator("#holder-photo").get_attribute("alt") == "持卡人的卡面照片"
    assert page.get_by_role("heading", name="4. 待调配的处方").is_visible()
    row = page.locator(f"#rx-{rx.pk}")
    row.get_by_label("数量").fill("0")
    row.get_by_role("button", name="调配").click()
    assert row.locator(".dispense-result").inner_text() == "请输入至少为 1 的整数数量和价格（如 12.50）。"
    assert_accessible(page, "pharmacy-counter-session-zh-hans")


def test_a_cardholder_without_a_photo_gets_a_clear_message_and_no_image(page, live_server, ledger_sequenced):
    card, _rx = given_cardholder(photo=False)
    _agency, key = given_pharmacy()

    counter_open(page, live_server, key)
    scan(page, card)

    page.locator("#holder-photo-missing").wait_for(state="visible")
    assert "no approved card photo" in page.locator("#holder-photo-missing").inner_text()
    assert page.locator("#holder-photo").is_hidden()
    assert page.locator("#holder-name").inner_text() == "王小明"
    assert ledger_sequenced(action="cards.photos.view") == []


def test_a_pharmacy_without_the_photo_scope_sees_no_photo_and_no_name(page, live_server, ledger_sequenced):
    card, rx = given_cardholder()
    _agency, key = given_pharmacy(photo_scope=False)

    counter_open(page, live_server, key)
    scan(page, card)

    page.locator("#holder-photo-refused").wait_for(state="visible")
    assert page.locator("#holder-photo").is_hidden()
    assert page.locator("#holder-name").inner_text() == ""
    # Dispensing does not depend on the photo: the prescriptions are there.
    assert page.locator(f"#rx-{rx.pk}").is_visible()
    assert ledger_sequenced(action="cards.photos.view") == []
    assert ledger_sequenced(action="pharmacy.holders.read") == []


def test_a_used_code_is_refused_with_a_message(page, live_server):
    card, _rx = given_cardholder()
    _agency, key = given_pharmacy()
    token = qr_token(card)
    counter_open(page, live_server, key)
    page.locator("#scan-input").fill(token)
    page.locator("#scan-form button").click()
    page.locator("#holder-photo").wait_for(state="visible")

    page.locator("#scan-input").fill(token)
    page.locator("#scan-form button").click()

    page.locator("#counter-error").wait_for(state="visible")
    assert "already used" in page.locator("#counter-error").inner_text()
    assert page.locator("#holder-photo").is_hidden()
    assert page.locator("#holder-photo").get_attribute("src") is None


def test_a_wrong_key_is_refused_with_a_message(page, live_server):
    card, _rx = given_cardholder()

    counter_open(page, live_server, "not.akey")
    scan(page, card)

    page.locator("#counter-error").wait_for(state="visible")
    assert page.locator("#counter-error").inner_text() == ("The API key was not accepted. Check it and enter it again.")


def test_the_photo_goes_when_the_session_expires(page, live_server):
    card, _rx = given_cardholder()
    _agency, key = given_pharmacy()
    counter_open(page, live_server, key)
    scan(page, card)
    page.locator("#holder-photo").wait_for(state="visible")

    # The page's clock moves past the session's end.
    page.evaluate("Date.now = (now => () => now() + 16 * 60 * 1000)(Date.now)")

    page.locator("#counter-error").wait_for(state="visible")
    assert "session has ended" in page.locator("#counter-error").inner_text()
    assert page.locator("#holder-photo").get_attribute("src") is None
    assert page.locator("#holder-name").inner_text() == ""
