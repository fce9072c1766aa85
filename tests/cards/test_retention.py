"""Retention: old card photo images and spent wallet offers are erased, and the erasure is recorded."""

import datetime
import hashlib

import pytest
from django.utils import timezone

from cards.actions import (
    credential_offers_purge,
    photos_erase_expired,
    resident_photo_reject,
    resident_photo_set,
    resident_photo_submit,
)
from cards.models import CredentialNonce, CredentialOffer, ResidentPhoto
from cards.tasks import cards_retention_sweep
from ledger.api import subject_pseudonym
from tests.cards.test_photos import image_bytes
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.portal.staff import admin_login, purpose_state, staff_create

pytestmark = pytest.mark.django_db


def _decided(photo: ResidentPhoto, days_ago: int) -> None:
    ResidentPhoto.objects.filter(pk=photo.pk).update(decided_at=timezone.now() - datetime.timedelta(days=days_ago))


@pytest.fixture
def photos(caseworker_context):
    """One resident's approved photo, a superseded one, a rejected one and one waiting for approval."""
    resident = ResidentFactory()
    old = resident_photo_set(resident=resident, data=image_bytes(color=(1, 2, 3)))
    approved = resident_photo_set(resident=resident, data=image_bytes(color=(4, 5, 6)))
    rejected = resident_photo_submit(resident=resident, data=image_bytes(color=(7, 8, 9)))
    resident_photo_reject(photo=rejected)
    waiting = resident_photo_submit(resident=resident, data=image_bytes(color=(9, 9, 9)))
    return resident, old, approved, rejected, waiting


def test_rejected_and_superseded_images_are_erased_after_the_retention_period_and_recorded(
    photos, settings, commit_path, ledger_sequenced
):
    settings.ONECARD_PHOTO_RETENTION_DAYS = 90
    resident, old, approved, rejected, waiting = photos
    for photo in (old, approved, rejected, waiting):
        _decided(photo, 91)

    with commit_path():
        assert cards_retention_sweep.delay().get() >= 2

    states = {p.pk: (p.status, bool(p.jpeg_ciphertext), p.erased_at is not None) for p in ResidentPhoto.objects.all()}
    assert states[old.pk] == ("superseded", False, True)
    assert states[rejected.pk] == ("rejected", False, True)
    assert states[approved.pk] == ("approved", True, False)
    assert states[waiting.pk] == ("pending", True, False)
    erased = ledger_sequenced(action="cards.photos.erase")
    assert sorted(entry["object"] for entry in erased) == sorted([old.ledger_object, rejected.ledger_object])
    assert {entry["subject"] for entry in erased} == {subject_pseudonym(resident)}


def test_nothing_is_erased_inside_the_retention_period_or_twice(photos, settings, caseworker_context):
    settings.ONECARD_PHOTO_RETENTION_DAYS = 90
    _resident, old, _approved, rejected, _waiting = photos
    _decided(old, 89)
    _decided(rejected, 91)

    assert photos_erase_expired() == 1
    assert photos_erase_expired() == 0
    assert ResidentPhoto.objects.get(pk=old.pk).jpeg_ciphertext


def test_an_erased_image_is_not_served_in_the_admin_and_its_page_says_so(photos, settings, client):
    settings.ONECARD_PHOTO_RETENTION_DAYS = 1
    _resident, _old, approved, rejected, _waiting = photos
    _decided(rejected, 2)
    photos_erase_expired()
    admin_login(client, staff_create("registrar"))
    purpose_state(client, "registration")

    assert client.get(f"/admin/cards/residentphoto/{approved.pk}/image.jpg").status_code == 200
    assert client.get(f"/admin/cards/residentphoto/{rejected.pk}/image.jpg").status_code == 404
    page = client.get(f"/admin/cards/residentphoto/{rejected.pk}/change/").content.decode()
    assert "image erased on" in page and f"{rejected.pk}/image.jpg" not in page


def test_spent_wallet_offers_and_nonces_are_deleted_live_ones_kept(caseworker_context):
    card = CardFactory()
    now = timezone.now()
    day = datetime.timedelta(days=1)

    def offer(name: str, expires, token_expires=None) -> CredentialOffer:
        return CredentialOffer.objects.create(
            card=card,
            code_hash=hashlib.sha256(name.encode()).hexdigest(),
            expires_at=expires,
            access_token_hash=hashlib.sha256(f"t{name}".encode()).hexdigest() if token_expires else None,
            access_token_expires_at=token_expires,
        )

    spent = offer("spent", now - 3 * day)
    token_live = offer("token-live", now - 3 * day, token_expires=now + day)
    live = offer("live", now + day)
    just_expired = offer("just-expired", now - datetime.timedelta(hours=1))
    CredentialNonce.objects.create(value_hash="a" * 64, expires_at=now - 3 * day)
    CredentialNonce.objects.create(value_hash="b" * 64, expires_at=now + day)

    assert credential_offers_purge() == 2

    assert set(CredentialOffer.objects.values_list("pk", flat=True)) == {token_live.pk, live.pk, just_expired.pk}
    assert not CredentialOffer.objects.filter(pk=spent.pk).exists()
    assert list(CredentialNonce.objects.values_list("value_hash", flat=True)) == ["b" * 64]
