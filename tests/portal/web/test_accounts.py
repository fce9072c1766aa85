import datetime
import re

import pytest
from django.core import mail

from cards.actions import card_activation_code_create
from cards.models import Card
from ledger.api import Actor, access_context
from portal.models import BackupCode, TOTPDevice, User
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.portal import resident_with_account, sign_in, totp_now

pytestmark = pytest.mark.django_db
PASSWORD = "lantern-orchid-91"


@pytest.fixture
def pending_card(db):
    resident = ResidentFactory(email="li@example.org")
    card = CardFactory(resident=resident, status=Card.Status.PENDING)
    # Closed before the request, as in production: the request opens its own context.
    with access_context(actor=Actor(type="system", id="test"), role="issuer", channel="task", purpose="registration"):
        code = card_activation_code_create(card=card)
    return resident, card, code


def activation_data(resident, code, **changes):
    return {
        "national_id": resident.national_id,
        "code": code,
        "username": "li.new",
        "password1": PASSWORD,
        "password2": PASSWORD,
    } | changes


def test_activation_activates_the_card_creates_the_account_and_asks_for_otp(client, pending_card, ledger_rows):
    resident, card, code = pending_card

    response = client.post("/activate/", activation_data(resident, code))

    assert response.status_code == 302
    assert response["Location"] == "/account/otp/enrol/"
    card.refresh_from_db()
    resident.refresh_from_db()
    assert card.status == "active"
    assert resident.user.username == "li.new"
    assert [row[:2] for row in ledger_rows()] == [
        ("cards.residents.lookup", "system"),
        ("cards.cards.activate", "resident"),
        ("portal.accounts.activate", "resident"),
    ]


def test_activation_with_a_wrong_code_counts_the_attempt_and_creates_nothing(client, pending_card, ledger_rows):
    resident, card, _code = pending_card

    response = client.post("/activate/", activation_data(resident, "WRONGWRONG"))

    assert response.status_code == 200
    assert "activation code is wrong" in response.content.decode()
    card.refresh_from_db()
    assert card.status == "pending"
    assert card.activation_attempts == 1
    assert not User.objects.filter(username="li.new").exists()
    assert [(row[0], row[5]) for row in ledger_rows()] == [
        ("cards.residents.lookup", "ok"),
        ("cards.cards.activate", "denied"),
    ]


def test_activation_refuses_a_weak_password(client, pending_card):
    resident, card, code = pending_card

    response = client.post("/activate/", activation_data(resident, code, password1="12345678", password2="12345678"))

    assert response.status_code == 200
    card.refresh_from_db()
    assert card.status == "pending"


def test_activation_with_an_unknown_national_id_says_the_same_as_a_wrong_code(client, db):
    from tests.idnumbers import make_national_id

    data = {
        "national_id": make_national_id(birth="19990101", sequence=777),
        "code": "ABCDEFGHJK",
        "username": "nobody.here",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }

    response = client.post("/activate/", data)

    assert response.status_code == 200
    assert "activation code is wrong" in response.content.decode()


def test_login_with_national_id(client, db):
    user, resident, _card, _device = resident_with_account()

    response = client.post("/login/", {"username": resident.national_id, "password": "correct-horse-battery"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_with_username_then_otp_verification(client, db):
    user, _resident, _card, device = resident_with_account()

    client.post("/login/", {"username": user.username, "password": "correct-horse-battery"})
    first = client.get("/me/")
    verified = client.post("/account/otp/verify/", {"otp_token": totp_now(device), "next": "/me/"})
    after = client.get("/me/")

    assert first["Location"].startswith("/account/otp/verify/")
    assert verified["Location"] == "/me/"
    assert after.status_code == 200


def test_wrong_otp_is_refused(client, db):
    user, _resident, _card, device = resident_with_account()
    client.post("/login/", {"username": user.username, "password": "correct-horse-battery"})

    response = client.post("/account/otp/verify/", {"otp_token": "000000"})

    assert response.status_code == 200
    assert client.get("/me/").status_code == 302


def test_lockout_after_repeated_failures_with_a_clear_message(client, settings, db):
    user, _resident, _card, _device = resident_with_account()

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": user.username, "password": "wrong"})
    locked = client.post("/login/", {"username": user.username, "password": "correct-horse-battery"})

    assert locked.status_code == 429
    assert "too many wrong passwords" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def emailed_code() -> str:
    """Return the enrolment code in the last e-mail sent."""
    return re.search(r"enter this code: ([0-9]+)", mail.outbox[-1].body).group(1)


def test_otp_enrolment_confirms_the_device_and_shows_ten_backup_codes(client, db):
    user, _resident, _card, device = resident_with_account()
    device.delete()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.post("/account/otp/enrol/email/", {"send": "1"})
    client.post("/account/otp/enrol/email/", {"code": emailed_code()})

    page = client.get("/account/otp/enrol/")
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    confirmed = client.post("/account/otp/enrol/", {"otp_token": totp_now(pending)})

    assert "<svg" in page.content.decode()
    assert confirmed.status_code == 200
    pending.refresh_from_db()
    assert pending.confirmed
    assert BackupCode.objects.filter(device__user=user).count() == 10
    assert client.get("/me/").status_code == 200


def test_a_backup_code_works_once(client, db):
    from portal.actions import backup_codes_regenerate

    user, _resident, _card, _device = resident_with_account()
    code = backup_codes_regenerate(user=user)[0]
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    first = client.post("/account/otp/verify/", {"otp_token": code})
    client.logout()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    second = client.post("/account/otp/verify/", {"otp_token": code})

    assert first.status_code == 302
    assert second.status_code == 200


def test_step_up_then_returns_to_the_sensitive_page(client, db):
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)

    response = client.post("/account/step-up/?next=/me/card/report-lost/", {"otp_token": totp_now(device)})

    assert response["Location"] == "/me/card/report-lost/"
    assert client.get("/me/card/report-lost/").status_code == 200


def test_step_up_expires(client, settings, db):
    settings.ONECARD_STEP_UP_SECONDS = -1
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device, step_up=True)

    assert client.get("/me/card/report-lost/").status_code == 302


def test_password_reset_sends_an_email(client, db):
    user, _resident, _card, _device = resident_with_account()

    response = client.post("/password-reset/", {"email": user.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/password-reset/" in mail.outbox[0].body


def test_session_times_out_after_inactivity(settings):
    assert "portal.middleware.SessionRefreshMiddleware" in settings.MIDDLEWARE
    assert 0 < settings.ONECARD_SESSION_REFRESH_SECONDS < settings.SESSION_COOKIE_AGE <= 30 * 60


def _session_row(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key)


def test_a_request_after_the_refresh_interval_pushes_the_expiry_forward(client, db):
    from django.contrib.sessions.models import Session

    from portal.middleware import REFRESHED_AT_KEY

    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    row = _session_row(client)
    session = client.session
    session[REFRESHED_AT_KEY] = 0
    session.save()
    Session.objects.filter(pk=row.pk).update(expire_date=row.expire_date - datetime.timedelta(minutes=10))

    client.get("/me/")

    assert _session_row(client).expire_date > row.expire_date - datetime.timedelta(minutes=1)


def test_requests_inside_the_refresh_interval_do_not_write_the_session(client, db, settings, django_assert_num_queries):
    # Database sessions, as without Redis (with Redis the session read comes from the cache: the next test).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    client.get("/me/")
    before = _session_row(client).expire_date

    # session, user with resident, OTP device, card list, ledger INSERT, access reports: no session UPDATE.
    with django_assert_num_queries(6):
        response = client.get("/me/")

    assert response.status_code == 200
    assert _session_row(client).expire_date == before


def test_signing_out_ends_a_session_read_from_the_cache(client, db, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    assert client.get("/me/").status_code == 200
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post("/logout/")
    client.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = client.get("/me/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_with_cached_sessions_a_page_reads_the_session_from_the_cache(client, db, settings, django_assert_num_queries):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    user, _resident, _card, device = resident_with_account()
    sign_in(client, user, device)
    client.get("/me/")

    # user with resident, OTP device, card list, ledger INSERT, access reports: no session SELECT.
    with django_assert_num_queries(5):
        response = client.get("/me/")

    assert response.status_code == 200
