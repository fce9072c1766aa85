import datetime

import pytest

from portal.models import TOTPDevice
from tests.portal.staff import PASSWORD, admin_login, fast_password_hashing, staff_create, token_now  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def fail_logins(client, user, times: int) -> None:
    device = TOTPDevice.objects.get(user=user)
    for _ in range(times):
        client.post(
            "/admin/login/?next=/admin/",
            {"username": user.username, "password": "wrong", "otp_token": token_now(device)},
        )


def test_admin_lockout_after_repeated_failures_refuses_even_the_right_password_and_code(client, settings):
    user = staff_create("card-officer")

    fail_logins(client, user, settings.AXES_FAILURE_LIMIT)
    locked = admin_login(client, user)

    assert locked.status_code == 429
    assert "too many wrong passwords" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_admin_failures_below_the_limit_do_not_lock_the_account(client, settings):
    user = staff_create("card-officer")

    fail_logins(client, user, settings.AXES_FAILURE_LIMIT - 1)
    response = admin_login(client, user)

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_lockout_ends_after_the_cool_off(client, settings):
    from axes.models import AccessAttempt

    user = staff_create("card-officer")
    fail_logins(client, user, settings.AXES_FAILURE_LIMIT)
    assert admin_login(client, user).status_code == 429

    # Age the recorded failures past the cool-off instead of waiting for it.
    cooloff = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= cooloff * 2
        attempt.save(update_fields=["attempt_time"])
    response = admin_login(client, user)

    assert response.status_code == 302 and response["Location"] == "/admin/"
