import pytest

from portal.models import TOTPDevice
from tests.factories import UserFactory
from tests.portal.staff import PASSWORD, admin_login, fast_password_hashing, staff_create, token_now  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def test_password_alone_does_not_open_the_admin(client):
    user = staff_create("card-officer")

    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_does_not_open_the_admin(client):
    user = staff_create("card-officer")
    right = token_now(TOTPDevice.objects.get(user=user))
    wrong = f"{(int(right) + 1) % 1000000:06d}"

    response = admin_login(client, user, token=wrong)

    assert response.status_code == 200 and response.context["form"].errors
    assert client.get("/admin/").status_code == 302


def test_password_and_the_right_code_open_the_admin(client):
    user = staff_create("card-officer")

    response = admin_login(client, user)

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_non_staff_user_with_a_device_cannot_log_in(client):
    user = UserFactory(is_staff=False)
    user.save()
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    admin_login(client, user)

    assert client.get("/admin/").status_code == 302


def test_new_staff_are_sent_to_enrolment_without_being_logged_in(client):
    user = staff_create("registrar", device=False)

    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/admin/enrol/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/cards/resident/").status_code == 302


def test_enrolment_shows_a_qr_code_and_a_wrong_code_does_not_confirm_it(client):
    user = staff_create("registrar", device=False)
    client.post("/admin/login/", {"username": user.username, "password": PASSWORD})

    page = client.get("/admin/enrol/")
    device = TOTPDevice.objects.get(user=user)
    right = token_now(device)
    response = client.post("/admin/enrol/", {"otp_token": f"{(int(right) + 1) % 1000000:06d}"})

    assert page.status_code == 200 and b"<svg" in page.content
    assert response.status_code == 200 and response.context["form"].errors
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302


def test_enrolment_with_the_right_code_confirms_the_device_and_opens_the_admin(client):
    user = staff_create("registrar", device=False)
    client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    client.get("/admin/enrol/")
    device = TOTPDevice.objects.get(user=user)

    response = client.post("/admin/enrol/", {"otp_token": token_now(device)})

    assert response.status_code == 302 and response["Location"].startswith("/admin/purpose/")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_enrolment_is_closed_once_a_device_is_confirmed(client):
    user = staff_create("registrar")

    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert client.get("/admin/enrol/").status_code == 302
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_the_enrolment_page_needs_a_password_first(client):
    response = client.get("/admin/enrol/")

    assert response.status_code == 302 and response["Location"] == "/admin/login/"
