"""The card photo at the counter: only with cards:photo and a purpose that allows it; each view recorded."""

import datetime
import io

import pytest
from django.utils import timezone
from PIL import Image

from cards.actions import resident_photo_set
from ledger.api import Actor, access_context
from ledger.models import PendingEntry
from portal.selectors import access_history_for_resident
from services.pharmacy.models import DispensingSession
from tests.factories.core import agency_with_key
from tests.factories.pharmacy import DISPENSING, PHARMACY_SCOPES, qr_token
from tests.factories.services import api

pytestmark = pytest.mark.django_db

FACE_TO_FACE = "face-to-face-identification"


def give_photo(resident):
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (10, 120, 200)).save(buffer, format="JPEG")
    with access_context(actor=Actor(type="staff", id="cw"), role="registrar", channel="admin", purpose="registration"):
        return resident_photo_set(resident=resident, data=buffer.getvalue())


@pytest.fixture
def counter():
    """A pharmacy that may see photos: dispensing and face-to-face identification, with cards:photo."""
    agency, key = agency_with_key(
        kind="pharmacy", scopes=[*PHARMACY_SCOPES, "cards:photo"], purposes=[DISPENSING, FACE_TO_FACE]
    )
    return agency, api(key, DISPENSING), api(key, FACE_TO_FACE)


def open_session(client, card) -> str:
    response = client.post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["session"]


def test_the_counter_gets_the_photo_of_its_open_session(counter, card):
    agency, dispensing, face_to_face = counter
    photo = give_photo(card.resident)
    session = open_session(dispensing, card)

    response = face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/photo")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert Image.open(io.BytesIO(response.content)).format == "JPEG"
    views = PendingEntry.objects.filter(action="cards.photos.view")
    assert [(v.actor_id, v.purpose, v.object) for v in views] == [
        (agency.code, FACE_TO_FACE, f"{photo.ledger_object} session:{session}")
    ]


def test_every_view_at_the_counter_is_its_own_entry(counter, card):
    _, dispensing, face_to_face = counter
    give_photo(card.resident)
    session = open_session(dispensing, card)

    for _ in range(3):
        assert face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/photo").status_code == 200

    assert PendingEntry.objects.filter(action="cards.photos.view").count() == 3


def test_a_pharmacy_without_the_photo_scope_gets_no_photo(pharmacy, card):
    agency, dispensing = pharmacy
    give_photo(card.resident)
    session = open_session(dispensing, card)
    _, key = agency_with_key(kind="pharmacy", scopes=PHARMACY_SCOPES, purposes=[DISPENSING, FACE_TO_FACE])

    response = api(key, FACE_TO_FACE).get(f"/api/v1/pharmacy/sessions/{session}/photo")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert b"\xff\xd8" not in response.content
    assert not PendingEntry.objects.filter(action="cards.photos.view").exists()


def test_a_purpose_that_does_not_allow_photos_is_refused(counter, card):
    _, dispensing, _ = counter
    give_photo(card.resident)
    session = open_session(dispensing, card)

    response = dispensing.get(f"/api/v1/pharmacy/sessions/{session}/photo")

    assert response.status_code == 403
    assert "does not allow the scope cards:photo" in response.json()["detail"]
    assert not PendingEntry.objects.filter(action="cards.photos.view").exists()


def test_another_pharmacy_cannot_read_a_session_photo(counter, card):
    _, dispensing, _ = counter
    give_photo(card.resident)
    session = open_session(dispensing, card)
    _, other_key = agency_with_key(kind="pharmacy", scopes=["cards:photo"], purposes=[FACE_TO_FACE])

    response = api(other_key, FACE_TO_FACE).get(f"/api/v1/pharmacy/sessions/{session}/photo")

    assert response.status_code == 409
    assert not PendingEntry.objects.filter(action="cards.photos.view").exists()


def test_a_cardholder_without_a_photo_gets_a_clear_problem(counter, card):
    _, dispensing, face_to_face = counter
    session = open_session(dispensing, card)

    response = face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/photo")

    assert response.status_code == 404
    assert response.json()["type"].endswith("photo-missing")


def test_the_resident_sees_that_the_pharmacy_viewed_their_photo(counter, card, django_capture_on_commit_callbacks):
    agency, dispensing, face_to_face = counter
    give_photo(card.resident)
    session = open_session(dispensing, card)

    with django_capture_on_commit_callbacks(execute=True):
        assert face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/photo").status_code == 200

    with access_context(actor=Actor(type="resident", id="r"), role="resident", channel="web", purpose="self-service"):
        page = access_history_for_resident(resident=card.resident)
    seen = [(row.action, row.who) for row in page.rows if row.action == "cards.photos.view"]
    assert len(seen) == 1 and (agency.code in seen[0][1] or agency.name_en in seen[0][1])


def test_the_counter_reads_the_cardholders_name_and_whether_a_photo_is_approved(counter, card):
    agency, dispensing, face_to_face = counter
    give_photo(card.resident)
    session = open_session(dispensing, card)

    response = face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/holder")

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store, private"
    body = response.json()
    assert (body["session"], body["full_name"], body["photo"]) == (session, card.resident.full_name, True)
    reads = PendingEntry.objects.filter(action="pharmacy.holders.read")
    assert [(r.actor_id, r.purpose, r.object) for r in reads] == [(agency.code, FACE_TO_FACE, f"session:{session}")]
    # Saying that a photo exists opens no photo: only the photo endpoint is a view of it.
    assert not PendingEntry.objects.filter(action="cards.photos.view").exists()


def test_the_holder_of_a_cardholder_without_a_photo_says_so(counter, card):
    _, dispensing, face_to_face = counter
    session = open_session(dispensing, card)

    response = face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/holder")

    assert response.status_code == 200
    assert response.json()["photo"] is False


def test_the_holder_needs_the_photo_scope(pharmacy, card):
    _, dispensing = pharmacy
    session = open_session(dispensing, card)
    _, key = agency_with_key(kind="pharmacy", scopes=PHARMACY_SCOPES, purposes=[DISPENSING, FACE_TO_FACE])

    response = api(key, FACE_TO_FACE).get(f"/api/v1/pharmacy/sessions/{session}/holder")

    assert response.status_code == 403
    assert card.resident.full_name not in response.content.decode()
    assert not PendingEntry.objects.filter(action="pharmacy.holders.read").exists()


def test_an_expired_session_shows_neither_name_nor_photo(counter, card):
    _, dispensing, face_to_face = counter
    give_photo(card.resident)
    session = open_session(dispensing, card)
    DispensingSession.objects.filter(public_id=session).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    holder = face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/holder")
    photo = face_to_face.get(f"/api/v1/pharmacy/sessions/{session}/photo")

    assert (holder.status_code, photo.status_code) == (409, 409)
    assert holder.json()["type"].endswith("session-invalid")
    assert card.resident.full_name not in holder.content.decode()
    assert not PendingEntry.objects.filter(action__in=["pharmacy.holders.read", "cards.photos.view"]).exists()
