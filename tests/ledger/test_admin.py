import pytest
from django.utils import timezone

from ledger.admin import sequencer_status
from ledger.api import record
from ledger.models import Entry, VerificationRun
from ledger.sequencer import sequence
from portal.models import BackupCodeDevice
from tests.factories import UserFactory
from tests.portal.staff import fast_password_hashing  # noqa: F401 (fixture)


@pytest.fixture
def admin_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    user.save()
    device = BackupCodeDevice.objects.create(user=user, name="backup")
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", ["entry", "checkpoint", "witness", "cosignature", "verificationrun", "alert", "pendingentry"]
)
def test_ledger_admin_lists_open_and_offer_no_add(admin_client, ledger_context, model):
    record(action="cards.residents.lookup", subject="resident:1")
    sequence()

    listing = admin_client.get(f"/admin/ledger/{model}/")
    add = admin_client.get(f"/admin/ledger/{model}/add/")

    assert listing.status_code == 200
    assert add.status_code == 403


@pytest.mark.django_db
def test_an_entry_page_shows_its_bytes_and_cannot_be_changed(admin_client, ledger_context):
    record(action="cards.residents.lookup", subject="resident:1")
    sequence()

    page = admin_client.get("/admin/ledger/entry/0/change/")
    posted = admin_client.post("/admin/ledger/entry/0/change/", {"subject": "x"})
    deleted = admin_client.post("/admin/ledger/entry/0/delete/", {"post": "yes"})

    assert b"cards.residents.lookup" in page.content
    assert posted.status_code == 403
    assert deleted.status_code == 403
    assert Entry.objects.get().subject != "x"


@pytest.mark.django_db
def test_sequencer_status_reports_lag_and_verification(ledger_context):
    record(action="cards.residents.lookup", subject="resident:1")

    status = sequencer_status()

    assert "1 pending" in status
    assert "No verification has run yet" in status


def _auditor_client(client):
    from tests.portal.staff import admin_login, staff_create

    auditor = staff_create("auditor")
    admin_login(client, auditor)
    return auditor


def _log(count):
    for n in range(count):
        record(action="cards.residents.lookup", subject=f"resident:{n}")
    sequence()


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_verify_now_queues_the_verification_and_in_eager_mode_it_finishes_inline(
    client, ledger_context, django_capture_on_commit_callbacks
):
    _log(12)
    _auditor_client(client)
    listing = client.get("/admin/ledger/verificationrun/")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/admin/ledger/verificationrun/verify/")

    assert b"Verify now" in listing.content
    run = VerificationRun.objects.get()
    assert len(callbacks) == 1
    assert response.status_code == 302 and response["Location"] == f"/admin/ledger/verificationrun/{run.pk}/change/"
    assert (run.status, run.ok, run.processed, run.total, run.tree_size) == ("finished", True, 12, 12, 12)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_a_queued_verification_page_refreshes_itself_and_a_finished_one_does_not(client, ledger_context):
    _log(3)
    _auditor_client(client)
    queued = VerificationRun.objects.create(started_at=timezone.now(), status="queued")
    running = VerificationRun.objects.create(started_at=timezone.now(), status="running", processed=2, total=3)
    finished = VerificationRun.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), status="finished", ok=True, processed=3, total=3
    )

    pages = {
        run.status: client.get(f"/admin/ledger/verificationrun/{run.pk}/change/") for run in (queued, running, finished)
    }

    assert all(page.status_code == 200 for page in pages.values())
    assert b'http-equiv="refresh"' in pages["queued"].content
    assert b'http-equiv="refresh"' in pages["running"].content and b"2 / 3 entries" in pages["running"].content
    assert b'http-equiv="refresh"' not in pages["finished"].content


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_verify_now_is_refused_without_the_permission_and_to_a_get(client, admin_client):
    from django.contrib.auth.models import Permission

    from tests.portal.staff import admin_login, staff_create

    viewer = staff_create()
    viewer.user_permissions.add(Permission.objects.get(codename="view_verificationrun"))
    admin_login(client, viewer)

    listing = client.get("/admin/ledger/verificationrun/")
    refused = client.post("/admin/ledger/verificationrun/verify/")
    get = admin_client.get("/admin/ledger/verificationrun/verify/")

    assert listing.status_code == 200 and b"Verify now" not in listing.content
    assert refused.status_code == 403
    assert get.status_code == 405
    assert not VerificationRun.objects.exists()


@pytest.mark.django_db
def test_a_redelivered_task_for_a_finished_run_verifies_nothing_again(ledger_context):
    from ledger.tasks import verify_log

    _log(2)
    run = VerificationRun.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), status="finished", ok=True, processed=2, total=2
    )

    verify_log(run_id=run.pk)

    assert VerificationRun.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_another_connection_while_the_scan_runs(ledger_context):
    from django.db import DEFAULT_DB_ALIAS, connection, connections

    from ledger.actions import verification_request, verification_run

    if connection.vendor != "postgresql":
        pytest.skip("the progress connection is PostgreSQL only; SQLite writes progress with the outcome")
    _log(7)
    run = verification_request()
    seen = []

    def look(_done):
        other = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT status, processed, total FROM ledger_verificationrun WHERE id = %s", [run.pk])
                seen.append(cursor.fetchone())
        finally:
            other.close()

    verification_run(run=run, progress=look)

    assert seen == [("running", 7, 7)]
