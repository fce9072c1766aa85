import pytest
from django_otp.plugins.otp_static.models import StaticDevice

from ledger.admin import sequencer_status
from ledger.api import record
from ledger.models import Entry
from ledger.sequencer import sequence
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    user.save()
    device = StaticDevice.objects.create(user=user, name="backup")
    device.token_set.create(token="123456")
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
    record(action="cards.residents.read", subject="resident:1")
    sequence()

    listing = admin_client.get(f"/admin/ledger/{model}/")
    add = admin_client.get(f"/admin/ledger/{model}/add/")

    assert listing.status_code == 200
    assert add.status_code == 403


@pytest.mark.django_db
def test_an_entry_page_shows_its_bytes_and_cannot_be_changed(admin_client, ledger_context):
    record(action="cards.residents.read", subject="resident:1")
    sequence()

    page = admin_client.get("/admin/ledger/entry/0/change/")
    posted = admin_client.post("/admin/ledger/entry/0/change/", {"subject": "x"})
    deleted = admin_client.post("/admin/ledger/entry/0/delete/", {"post": "yes"})

    assert b"cards.residents.read" in page.content
    assert posted.status_code == 403
    assert deleted.status_code == 403
    assert Entry.objects.get().subject != "x"


@pytest.mark.django_db
def test_sequencer_status_reports_lag_and_verification(ledger_context):
    record(action="cards.residents.read", subject="resident:1")

    status = sequencer_status()

    assert "1 pending" in status
    assert "No verification has run yet" in status
