"""Real threads on PostgreSQL: caseworkers approving photos of one resident at once leave exactly one approved."""

import io
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from PIL import Image

from cards.actions import resident_photo_approve, resident_photo_set
from cards.errors import PhotoTransitionRefused
from cards.models import ResidentPhoto
from cards.photos import photo_clean, photo_encrypt
from ledger.api import Actor, access_context
from tests.factories import ResidentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Each winner keeps its transaction open this long after deciding, so the others are certainly
# waiting on its locks (or on the unique index) rather than running after it.
HOLD_SECONDS = 0.3


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency are tested on PostgreSQL; SQLite serialises writers")


def _as_caseworker(name: str):
    return access_context(
        actor=Actor(type="staff", id=name), role="card-officer", channel="admin", purpose="registration"
    )


def _jpeg(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), colour).save(buffer, format="JPEG")
    return photo_clean(buffer.getvalue())


def _pending(resident, colour) -> ResidentPhoto:
    """Write a resident's submission waiting for a decision straight to the table.

    The actions keep one waiting photo per resident (a new submission supersedes
    the earlier one), so the case of several waiting at once is written directly.
    """
    return ResidentPhoto.objects.create(
        resident=resident,
        status=ResidentPhoto.Status.PENDING,
        source=ResidentPhoto.Source.RESIDENT,
        jpeg_ciphertext=photo_encrypt(_jpeg(colour), resident_id=resident.pk),
    )


def _race(functions) -> list[tuple[str, str]]:
    """Run each function at the same moment in its own thread and connection; return (outcome, detail) sorted."""
    barrier = threading.Barrier(len(functions))
    outcomes = []

    def run(function):
        try:
            barrier.wait()
            outcomes.append(("done", function()))
        except PhotoTransitionRefused as error:
            outcomes.append(("refused", str(error)))
        except IntegrityError as error:
            outcomes.append(("integrity", str(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def _approver(photo, name):
    def approve():
        with _as_caseworker(name), transaction.atomic():
            approved = resident_photo_approve(photo=photo)
            time.sleep(HOLD_SECONDS)
        return approved.pk

    return approve


def test_two_caseworkers_approving_two_photos_at_once_approve_exactly_one(ledger_sequenced):
    resident = ResidentFactory()
    with _as_caseworker("setup"):
        printed = resident_photo_set(resident=resident, data=_jpeg((0, 0, 0)))
    first, second = _pending(resident, (200, 0, 0)), _pending(resident, (0, 200, 0))

    outcomes = _race([_approver(first, "cw-1"), _approver(second, "cw-2")])

    assert [outcome for outcome, _detail in outcomes] == ["done", "refused"]
    winner = outcomes[0][1]
    loser = second.pk if winner == first.pk else first.pk
    assert f"photo {loser} is not waiting for a decision (it is superseded)" in outcomes[1][1]
    statuses = dict(ResidentPhoto.objects.filter(resident=resident).values_list("pk", "status"))
    assert statuses == {printed.pk: "superseded", winner: "approved", loser: "superseded"}
    # The refused approval wrote nothing, not even its ledger entry; the winner's is there once.
    approvals = ledger_sequenced(action="cards.photos.approve")
    assert [(entry["actor"]["id"], entry["object"]) for entry in approvals] == [
        ("cw-1" if winner == first.pk else "cw-2", f"photo:{winner}")
    ]


def test_six_approvals_at_once_leave_one_approved_photo(ledger_sequenced):
    resident = ResidentFactory()
    photos = [_pending(resident, (40 * n, 0, 0)) for n in range(6)]

    outcomes = _race([_approver(photo, f"cw-{n}") for n, photo in enumerate(photos)])

    assert [outcome for outcome, _detail in outcomes] == ["done"] + ["refused"] * 5
    assert ResidentPhoto.objects.filter(resident=resident, status="approved").count() == 1
    assert ResidentPhoto.objects.filter(resident=resident, status="superseded").count() == 5
    assert len(ledger_sequenced(action="cards.photos.approve")) == 1


def test_an_approval_racing_a_caseworkers_upload_never_replaces_the_newer_photo():
    resident = ResidentFactory()
    submitted = _pending(resident, (200, 0, 0))

    def upload():
        with _as_caseworker("cw-upload"), transaction.atomic():
            photo = resident_photo_set(resident=resident, data=_jpeg((0, 0, 200)))
            time.sleep(HOLD_SECONDS)
        return photo.pk

    outcomes = _race([upload, _approver(submitted, "cw-approve")])

    uploaded = ResidentPhoto.objects.get(resident=resident, source="caseworker")
    # Whichever ran first, the caseworker's newer upload is the approved photo.
    assert ResidentPhoto.objects.get(resident=resident, status="approved") == uploaded
    submitted.refresh_from_db()
    if [outcome for outcome, _detail in outcomes] == ["done", "refused"]:
        # The upload went first: approving the older submission would have replaced it, so it was refused.
        assert f"was approved after photo {submitted.pk} was sent" in outcomes[1][1]
        assert submitted.status == "pending"
    else:
        # The approval went first; the upload then replaced it, as an upload always does.
        assert [outcome for outcome, _detail in outcomes] == ["done", "done"]
        assert submitted.status == "superseded"


def test_the_database_itself_refuses_a_second_approved_photo_written_at_the_same_moment():
    """Without the actions' locks, the partial unique index alone still lets one of two writers through."""
    resident = ResidentFactory()
    first, second = _pending(resident, (200, 0, 0)), _pending(resident, (0, 200, 0))

    def approve_directly(photo):
        def write():
            with transaction.atomic():
                ResidentPhoto.objects.filter(pk=photo.pk).update(status=ResidentPhoto.Status.APPROVED)
                time.sleep(HOLD_SECONDS)
            return photo.pk

        return write

    outcomes = _race([approve_directly(first), approve_directly(second)])

    assert [outcome for outcome, _detail in outcomes] == ["done", "integrity"]
    assert "cards_photo_one_approved_per_resident" in outcomes[1][1]
    assert ResidentPhoto.objects.filter(resident=resident, status="approved").count() == 1
