"""Library admin pages (django-otp, django-axes, the index's recent actions, autocomplete) show no resident."""

import base64

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import CHANGE, LogEntry

from cards.models import Resident
from portal.actions import backup_codes_regenerate
from portal.models import BackupCodeDevice, TOTPDevice
from tests.factories import ResidentFactory, UserFactory
from tests.factories.core import AgencyFactory
from tests.portal.staff import admin_login, fast_password_hashing, ledger_rows, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def superuser(client):
    user = staff_create("superuser")
    admin_login(client, user)
    purpose_state(client, "registration")
    return user


@pytest.fixture
def resident_account():
    """A resident with an account, an authenticator, backup codes and a login history."""
    user = UserFactory(username="wang.fang")
    resident = ResidentFactory(user=user, full_name="Wang Fang")
    device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    backup_codes_regenerate(user=user)
    common = {"user_agent": "browser", "ip_address": "10.0.0.9", "http_accept": "*/*", "path_info": "/login/"}
    AccessAttempt.objects.create(username=user.username, get_data="", post_data="", failures_since_start=2, **common)
    AccessLog.objects.create(username=user.username, **common)
    return resident, device


def secrets_of(device: TOTPDevice) -> list[str]:
    return [device.bin_key.hex(), base64.b32encode(device.bin_key).decode().rstrip("=")]


def test_the_otp_device_lists_show_staff_devices_and_no_resident_account(client, superuser, resident_account):
    for url in ("/admin/portal/totpdevice/", "/admin/portal/backupcodedevice/"):
        response = client.get(url)

        assert response.status_code == 200
        assert b"wang.fang" not in response.content
        assert superuser.username.encode() in response.content


def test_a_residents_device_does_not_open_in_the_admin(client, superuser, resident_account):
    _resident, device = resident_account
    codes = BackupCodeDevice.objects.get(user=device.user)

    totp = client.get(f"/admin/portal/totpdevice/{device.pk}/change/", follow=True)
    static = client.get(f"/admin/portal/backupcodedevice/{codes.pk}/change/", follow=True)

    for response in (totp, static):
        assert response.redirect_chain[-1][0] == "/admin/"
        assert b"wang.fang" not in response.content


def test_no_otp_secret_is_shown_after_enrolment_not_even_a_staff_members(client, superuser):
    device = TOTPDevice.objects.get(user=superuser)
    backup_codes = backup_codes_regenerate(user=superuser)
    codes = BackupCodeDevice.objects.get(user=superuser)

    pages = [
        client.get(f"/admin/portal/totpdevice/{device.pk}/change/"),
        client.get(f"/admin/portal/totpdevice/{device.pk}/config/", follow=True),
        client.get(f"/admin/portal/totpdevice/{device.pk}/qrcode/", follow=True),
        client.get(f"/admin/portal/backupcodedevice/{codes.pk}/change/"),
        client.get("/admin/portal/backupcodedevice/"),
    ]

    assert pages[0].status_code == 200 and pages[3].status_code == 200
    for page in pages:
        assert not any(secret.encode() in page.content for secret in secrets_of(device))
        assert not any(code.encode() in page.content for code in backup_codes)
        assert b"otpauth://" not in page.content


def test_the_login_history_lists_no_resident_account(client, superuser, resident_account):
    AccessLog.objects.create(
        username=superuser.username, user_agent="b", ip_address="10.0.0.1", http_accept="*/*", path_info="/admin/"
    )

    attempts = client.get("/admin/axes/accessattempt/")
    logs = client.get("/admin/axes/accesslog/")
    attempt = client.get(f"/admin/axes/accessattempt/{AccessAttempt.objects.get().pk}/change/", follow=True)

    assert attempts.status_code == 200 and b"wang.fang" not in attempts.content
    assert logs.status_code == 200 and b"wang.fang" not in logs.content
    assert superuser.username.encode() in logs.content
    assert b"wang.fang" not in attempt.content


def test_recent_actions_on_the_index_do_not_name_the_resident(client, superuser, resident_account):
    resident, _device = resident_account
    LogEntry.objects.log_actions(
        user_id=superuser.pk, queryset=Resident.objects.filter(pk=resident.pk), action_flag=CHANGE, single_object=True
    )

    response = client.get("/admin/")

    assert response.status_code == 200
    assert b"Wang Fang" not in response.content and resident.national_id_masked.encode() not in response.content
    assert f"/admin/cards/resident/{resident.pk}/change/".encode() in response.content


@pytest.mark.parametrize(
    ("model", "field"),
    [("services_core.consent", "resident"), ("cards.card", "resident"), ("grants.disbursement", "application")],
)
@pytest.mark.parametrize("term", ["", "Wang"])
def test_the_autocomplete_refuses_every_admin_that_shows_resident_data(
    client, superuser, resident_account, model, field, term
):
    app_label, model_name = model.split(".")
    mark = len(ledger_rows())

    response = client.get(
        "/admin/autocomplete/", {"app_label": app_label, "model_name": model_name, "field_name": field, "term": term}
    )

    assert response.status_code in (403, 404)
    assert b"Wang Fang" not in response.content and b"wang.fang" not in response.content
    assert len(ledger_rows()) == mark


def test_the_autocomplete_still_offers_agencies(client, superuser):
    AgencyFactory(code="HOSP-1", name_en="General Hospital")

    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "services_core", "model_name": "consent", "field_name": "agency", "term": "General"},
    )

    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == [str(AgencyFactory._meta.model.objects.get())]


def test_login_attempts_counted_per_account_list_only_staff_accounts(client, superuser, resident_account):
    resident, _device = resident_account
    common = {"user_agent": "b", "ip_address": "10.0.0.1", "http_accept": "*/*", "path_info": "/login/"}
    staff_row = AccessAttempt.objects.create(
        username=f"account:{superuser.pk}", get_data="", post_data="", failures_since_start=1, **common
    )
    resident_row = AccessAttempt.objects.create(
        username=f"account:{resident.user_id}", get_data="", post_data="", failures_since_start=1, **common
    )

    response = client.get("/admin/axes/accessattempt/")

    shown = {row.pk for row in response.context["cl"].result_list}
    assert staff_row.pk in shown and resident_row.pk not in shown
