"""Card photos in the staff admin (upload, review) and in the resident portal (submit for approval)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cards.models import ResidentPhoto
from ledger.models import PendingEntry
from portal.web import pages
from tests.factories import ResidentFactory
from tests.factories.portal import resident_with_account, sign_in
from tests.portal.staff import admin_login, purpose_state, staff_create

pytestmark = pytest.mark.django_db


def jpeg(size=(480, 640), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 90, 200)).save(buffer, format="JPEG", **save)
    return buffer.getvalue()


@pytest.fixture
def registrar(client):
    user = staff_create("registrar")
    admin_login(client, user)
    purpose_state(client, "registration")
    return client


def test_a_registrar_uploads_a_photo_in_the_admin(registrar):
    resident = ResidentFactory()
    upload = SimpleUploadedFile("face.jpg", jpeg(comment=b"secret-comment"), content_type="image/jpeg")

    response = registrar.post("/admin/cards/residentphoto/add/", {"resident": resident.pk, "image": upload})

    assert response.status_code == 302, response.content.decode()[:2000]
    photo = ResidentPhoto.objects.get(resident=resident)
    assert (photo.status, photo.source) == ("approved", "caseworker")
    assert PendingEntry.objects.filter(action="cards.photos.update").count() == 1


def test_the_admin_shows_a_clear_error_for_a_wrong_file(registrar):
    resident = ResidentFactory()
    upload = SimpleUploadedFile("face.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")

    response = registrar.post("/admin/cards/residentphoto/add/", {"resident": resident.pk, "image": upload})

    assert response.status_code == 200
    assert "This is not a JPEG or PNG image." in response.content.decode()
    assert not ResidentPhoto.objects.exists()


def test_the_admin_serves_a_photo_privately_and_records_each_view(registrar):
    resident = ResidentFactory()
    upload = SimpleUploadedFile("face.jpg", jpeg(), content_type="image/jpeg")
    registrar.post("/admin/cards/residentphoto/add/", {"resident": resident.pk, "image": upload})
    photo = ResidentPhoto.objects.get(resident=resident)

    response = registrar.get(f"/admin/cards/residentphoto/{photo.pk}/image.jpg")

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert PendingEntry.objects.filter(action="cards.photos.view", object=f"photo:{photo.pk} admin").count() == 1


def test_the_photo_is_not_served_without_a_login(client):
    resident = ResidentFactory()
    photo = ResidentPhoto.objects.create(
        resident=resident, status="approved", source="caseworker", jpeg_ciphertext=b"x"
    )

    response = client.get(f"/admin/cards/residentphoto/{photo.pk}/image.jpg")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_resident_submits_a_photo_and_a_registrar_approves_it(client, registrar):
    from django.test import Client

    user, resident, _card, device = resident_with_account()
    portal = Client()
    sign_in(portal, user, device, step_up=True)

    response = portal.post("/me/card/photo/", {"image": SimpleUploadedFile("me.png", jpeg(), "image/png")})

    assert response.status_code == 302
    photo = ResidentPhoto.objects.get(resident=resident)
    assert (photo.status, photo.source) == ("pending", "resident")
    assert portal.get("/me/card/photo.jpg").status_code == 404

    registrar.post(
        "/admin/cards/residentphoto/", {"action": "approve_photos", "_selected_action": [photo.pk], "index": 0}
    )

    photo.refresh_from_db()
    assert photo.status == "approved"
    assert portal.get("/me/card/photo.jpg").status_code == 200
    assert PendingEntry.objects.filter(action="cards.photos.approve").count() == 1


def test_the_portal_explains_a_refused_photo(client):
    user, resident, _card, device = resident_with_account()
    sign_in(client, user, device, step_up=True)

    response = client.post("/me/card/photo/", {"image": SimpleUploadedFile("me.jpg", jpeg(size=(100, 100)))})

    assert response.status_code == 200
    assert "it must be at least 240 x 320" in response.content.decode()
    assert not ResidentPhoto.objects.filter(resident=resident).exists()


def test_an_oversized_upload_is_refused_by_its_size_before_it_is_read(client, monkeypatch):
    user, resident, _card, device = resident_with_account()
    sign_in(client, user, device, step_up=True)
    submitted = []
    monkeypatch.setattr(pages.actions, "resident_card_photo_submit", lambda **kw: submitted.append(kw))
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024), "image/jpeg")

    response = client.post("/me/card/photo/", {"image": big})

    assert response.status_code == 200
    assert "larger than 5 MB" in response.content.decode()
    # Refused by the form from its size: the view never read the file to hand it on.
    assert submitted == [] and not ResidentPhoto.objects.filter(resident=resident).exists()


def test_the_photo_page_records_that_the_resident_listed_their_photos(client, commit_path, ledger_sequenced):
    user, resident, _card, device = resident_with_account()
    sign_in(client, user, device, step_up=True)

    with commit_path():
        response = client.get("/me/card/photo/")

    assert response.status_code == 200
    listed = ledger_sequenced(action="cards.photos.list")
    assert len(listed) == 1
    assert listed[0]["actor"]["type"] == "resident"


def test_a_registrar_listing_photos_records_each_resident_shown(registrar, commit_path, ledger_sequenced):
    ResidentPhoto.objects.create(resident=ResidentFactory(), status="pending", source="resident", jpeg_ciphertext=b"x")

    with commit_path():
        response = registrar.get("/admin/cards/residentphoto/")

    assert response.status_code == 200
    shown = ledger_sequenced(action="cards.photos.admin.list")
    assert len(shown) == 1
    assert shown[0]["actor"]["role"] == "registrar"
