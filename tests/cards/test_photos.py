import io

import pytest
from django.db import IntegrityError
from django.utils import translation
from PIL import Image

from cards.actions import (
    card_printable_cache_fill,
    resident_photo_approve,
    resident_photo_reject,
    resident_photo_set,
    resident_photo_submit,
)
from cards.errors import PhotoInvalid, PhotoTransitionRefused
from cards.images import PHOTO_BOX
from cards.models import ResidentPhoto
from cards.photos import PHOTO_MAX_BYTES, PHOTO_STORED_SIZE, photo_clean, photo_decrypt
from cards.selectors import resident_photo_jpeg
from ledger.models import PendingEntry
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def image_bytes(*, size=(600, 800), fmt="JPEG", color=(200, 40, 40), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam Maker"  # Make
    exif[0x0110] = "SecretCam 9000"  # Model
    exif[0x9286] = "resident-home-address"  # UserComment
    return exif.tobytes()


def test_photo_clean_returns_a_jpeg_of_the_stored_size():
    cleaned = photo_clean(image_bytes(fmt="PNG"))

    image = Image.open(io.BytesIO(cleaned))
    assert (image.format, image.size) == ("JPEG", PHOTO_STORED_SIZE)


def test_photo_clean_strips_exif():
    upload = image_bytes(exif=exif_with_gps())
    assert b"SecretCam" in upload

    cleaned = photo_clean(upload)

    assert b"SecretCam" not in cleaned and b"resident-home-address" not in cleaned
    assert not Image.open(io.BytesIO(cleaned)).getexif()


def test_photo_clean_drops_a_polyglot_payload_after_the_image():
    # A JPEG that is also a ZIP/HTML file: valid image bytes followed by a second format.
    payload = b"PK\x03\x04<html><script>alert(document.cookie)</script></html>"
    polyglot = image_bytes() + payload
    assert Image.open(io.BytesIO(polyglot)).format == "JPEG"

    cleaned = photo_clean(polyglot)

    assert b"<script>" not in cleaned and b"PK\x03\x04" not in cleaned


def test_photo_clean_drops_a_payload_hidden_in_a_jpeg_comment():
    upload = image_bytes(comment=b"<?php system($_GET['c']); ?>")
    assert b"<?php" in upload

    assert b"<?php" not in photo_clean(upload)


def test_photo_clean_refuses_html_named_as_an_image():
    with pytest.raises(PhotoInvalid, match="not a JPEG or PNG"):
        photo_clean(b"<html><script>alert(1)</script></html>")


def test_photo_clean_refuses_another_image_format():
    with pytest.raises(PhotoInvalid, match="not a JPEG or PNG"):
        photo_clean(image_bytes(fmt="GIF"))


def test_photo_clean_refuses_an_oversized_file():
    with pytest.raises(PhotoInvalid, match="limit is 5 MB"):
        photo_clean(b"\xff\xd8" + b"\x00" * PHOTO_MAX_BYTES)


def test_photo_clean_refuses_a_small_photo():
    with pytest.raises(PhotoInvalid, match="at least 240 x 320"):
        photo_clean(image_bytes(size=(100, 120)))


def test_photo_clean_refuses_huge_dimensions():
    # A small file that claims a huge canvas (a decompression bomb) is refused before decoding.
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG", optimize=True)

    with pytest.raises(PhotoInvalid, match="neither side may exceed"):
        photo_clean(buffer.getvalue())


def test_photo_clean_refuses_a_truncated_file():
    with pytest.raises(PhotoInvalid, match="damaged"):
        photo_clean(image_bytes()[:400])


def test_photo_is_stored_encrypted_and_bound_to_the_resident(caseworker_context):
    resident, other = ResidentFactory(), ResidentFactory()

    photo = resident_photo_set(resident=resident, data=image_bytes(exif=exif_with_gps()))

    stored = bytes(ResidentPhoto.objects.get(pk=photo.pk).jpeg_ciphertext)
    assert b"JFIF" not in stored and not stored.startswith(b"\xff\xd8")
    assert photo_decrypt(stored, resident_id=resident.pk).startswith(b"\xff\xd8")
    with pytest.raises(PhotoInvalid):
        photo_decrypt(stored, resident_id=other.pk)


def test_caseworker_photo_is_approved_and_supersedes_the_previous_one(caseworker_context):
    resident = ResidentFactory()
    first = resident_photo_set(resident=resident, data=image_bytes())

    second = resident_photo_set(resident=resident, data=image_bytes(color=(0, 0, 255)))

    first.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "approved")
    assert list(PendingEntry.objects.filter(action="cards.photos.update").values_list("object", flat=True)) == [
        f"photo:{first.pk} caseworker",
        f"photo:{second.pk} caseworker",
    ]


def test_a_bad_upload_records_nothing_and_keeps_the_old_photo(caseworker_context):
    resident = ResidentFactory()
    first = resident_photo_set(resident=resident, data=image_bytes())

    with pytest.raises(PhotoInvalid):
        resident_photo_set(resident=resident, data=b"GIF89a not a photo")

    first.refresh_from_db()
    assert first.status == "approved"
    assert PendingEntry.objects.filter(action="cards.photos.update").count() == 1


def test_resident_submission_waits_for_approval(caseworker_context):
    resident = ResidentFactory()
    photo = resident_photo_submit(resident=resident, data=image_bytes())

    assert photo.status == "pending"
    assert resident_photo_jpeg(resident=resident, shown_to="print") is None

    resident_photo_approve(photo=photo)

    assert resident_photo_jpeg(resident=resident, shown_to="print") is not None
    assert PendingEntry.objects.filter(action="cards.photos.submit").count() == 1
    assert PendingEntry.objects.filter(action="cards.photos.approve", object=f"photo:{photo.pk}").count() == 1


def test_rejected_submission_leaves_the_approved_photo(caseworker_context):
    resident = ResidentFactory()
    approved = resident_photo_set(resident=resident, data=image_bytes())
    submitted = resident_photo_submit(resident=resident, data=image_bytes(color=(0, 255, 0)))

    resident_photo_reject(photo=submitted)

    approved.refresh_from_db()
    submitted.refresh_from_db()
    assert (approved.status, submitted.status) == ("approved", "rejected")
    with pytest.raises(PhotoTransitionRefused):
        resident_photo_approve(photo=submitted)


def test_database_allows_one_approved_photo_per_resident(caseworker_context):
    resident = ResidentFactory()
    photo = resident_photo_set(resident=resident, data=image_bytes())

    with pytest.raises(IntegrityError):
        ResidentPhoto.objects.create(
            resident=resident, status="approved", source="caseworker", jpeg_ciphertext=photo.jpeg_ciphertext
        )


def test_every_view_of_a_photo_is_its_own_entry(caseworker_context):
    resident = ResidentFactory()
    photo = resident_photo_set(resident=resident, data=image_bytes())

    resident_photo_jpeg(resident=resident, shown_to="admin")
    resident_photo_jpeg(resident=resident, shown_to="admin")

    assert PendingEntry.objects.filter(action="cards.photos.view", object=f"photo:{photo.pk} admin").count() == 2


def test_printed_card_carries_the_photo(caseworker_context):
    card = CardFactory()
    resident_photo_set(resident=card.resident, data=image_bytes(color=(0, 0, 255)))

    rendered = card_printable_cache_fill(card=card)

    image = Image.open(io.BytesIO(rendered["png"])).convert("RGB")
    left, top, right, bottom = PHOTO_BOX
    red, green, blue = image.getpixel(((left + right) // 2, (top + bottom) // 2))
    assert blue > 200 and red < 40 and green < 40
    assert b"/Subtype /Image" in rendered["pdf"]
    assert PendingEntry.objects.filter(action="cards.photos.view", object__endswith=" print").count() == 1


def test_printed_card_without_a_photo_keeps_the_empty_box(caseworker_context):
    card = CardFactory()

    rendered = card_printable_cache_fill(card=card)

    image = Image.open(io.BytesIO(rendered["png"])).convert("RGB")
    left, top, right, bottom = PHOTO_BOX
    assert image.getpixel((left + 10, top + 10)) == (255, 255, 255)
    assert b"/Subtype /Image" not in rendered["pdf"]


def test_a_new_photo_is_never_served_from_an_old_render(caseworker_context):
    from cards.images import card_printable_cached

    card = CardFactory()
    card_printable_cache_fill(card=card)
    assert card_printable_cached(card=card) is not None

    resident_photo_set(resident=card.resident, data=image_bytes())

    assert card_printable_cached(card=card) is None


@pytest.mark.parametrize(
    ("data", "chinese"),
    [
        (b"", "文件为空。"),
        (b"GIF89a not a photo", "这不是 JPEG 或 PNG 图片。"),
        (image_bytes(size=(100, 100)), "照片为 100 x 100 像素；至少应为 240 x 320 像素。"),
    ],
)
def test_photo_problems_are_told_in_chinese(data, chinese):
    with translation.override("zh-hans"), pytest.raises(PhotoInvalid) as refused:
        photo_clean(data)

    assert str(refused.value) == chinese


def test_a_refused_decision_is_told_in_chinese(caseworker_context):
    resident = ResidentFactory()
    submitted = resident_photo_submit(resident=resident, data=image_bytes())
    resident_photo_reject(photo=submitted)

    with translation.override("zh-hans"), pytest.raises(PhotoTransitionRefused) as refused:
        resident_photo_approve(photo=submitted)

    assert str(refused.value) == f"照片 {submitted.pk} 不在待审核状态（当前状态：已驳回）"
