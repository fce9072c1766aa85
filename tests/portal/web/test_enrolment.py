"""A password alone cannot enrol an authenticator; the session key changes once the OTP step completes."""

import re

import pytest
from django.core import mail

from cards.actions import card_activation_code_create
from cards.models import Card
from ledger.api import Actor, access_context
from portal.models import TOTPDevice
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.portal import resident_with_account, totp_now
from tests.portal.staff import fast_password_hashing  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]
RIGHT = "correct-horse-battery"


def password_only_session(client):
    """Sign in as an attacker who knows only the password of a resident with no authenticator yet."""
    user, resident, _card, device = resident_with_account()
    device.delete()
    response = client.post("/login/", {"username": user.username, "password": RIGHT})
    assert response.status_code == 302
    return user, resident


def emailed_code() -> str:
    return re.search(r"enter this code: ([0-9]+)", mail.outbox[-1].body).group(1)


def test_a_password_alone_cannot_enrol_an_authenticator(client):
    user, _resident = password_only_session(client)

    page = client.get("/account/otp/enrol/")
    attempt = client.post("/account/otp/enrol/", {"otp_token": "123456"})

    assert page.status_code == 302 and page["Location"] == "/account/otp/enrol/email/"
    assert attempt.status_code == 302 and attempt["Location"] == "/account/otp/enrol/email/"
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_the_attacker_cannot_guess_the_emailed_code(client):
    user, resident = password_only_session(client)
    client.post("/account/otp/enrol/email/", {"send": "1"})
    real = emailed_code()
    wrong = [code for code in ("00000000", "11111111", "22222222", "33333333", "44444444", "55555555") if code != real][
        :5
    ]

    for code in wrong:
        client.post("/account/otp/enrol/email/", {"code": code})
    after_guesses = client.post("/account/otp/enrol/email/", {"code": real})

    assert mail.outbox[-1].to == [resident.email]
    assert after_guesses.status_code == 200
    assert client.get("/account/otp/enrol/")["Location"] == "/account/otp/enrol/email/"
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_the_code_sent_to_the_registered_email_lets_the_resident_enrol_and_the_enrolment_is_recorded(
    client, ledger_rows
):
    user, _resident = password_only_session(client)
    client.post("/account/otp/enrol/email/", {"send": "1"})
    proved = client.post("/account/otp/enrol/email/", {"code": emailed_code()})

    client.get("/account/otp/enrol/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    confirmed = client.post("/account/otp/enrol/", {"otp_token": totp_now(device)})

    assert proved["Location"] == "/account/otp/enrol/"
    assert confirmed.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert ("portal.otp_devices.enrol", "resident", "resident", "web", "self-service", "ok") in ledger_rows()


def test_the_activation_code_is_the_second_factor_for_the_first_enrolment(client, ledger_rows):
    from ledger.models import PendingEntry

    resident = ResidentFactory(email="li@example.org")
    card = CardFactory(resident=resident, status=Card.Status.PENDING)
    with access_context(actor=Actor(type="system", id="test"), role="issuer", channel="task", purpose="registration"):
        code = card_activation_code_create(card=card)
    client.post(
        "/activate/",
        {"national_id": resident.national_id, "code": code, "username": "li.new", "password1": "lantern-orchid-91"}
        | {"password2": "lantern-orchid-91"},
    )

    page = client.get("/account/otp/enrol/")
    device = TOTPDevice.objects.get(user__username="li.new", confirmed=False)
    client.post("/account/otp/enrol/", {"otp_token": totp_now(device)})

    assert page.status_code == 200 and "<svg" in page.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    enrolment = PendingEntry.objects.filter(action="portal.otp_devices.enrol").get()
    assert enrolment.object == "totp first by activation-code"
    assert not mail.outbox


def test_the_session_key_changes_when_the_one_time_password_is_entered(client):
    user, _resident, _card, device = resident_with_account()
    client.post("/login/", {"username": user.username, "password": RIGHT})
    before = client.session.session_key

    response = client.post("/account/otp/verify/", {"otp_token": totp_now(device), "next": "/me/"})

    assert response["Location"] == "/me/"
    assert client.session.session_key != before
    assert client.get("/me/").status_code == 200


def test_the_session_key_changes_when_the_first_authenticator_is_confirmed(client):
    user, _resident = password_only_session(client)
    client.post("/account/otp/enrol/email/", {"send": "1"})
    client.post("/account/otp/enrol/email/", {"code": emailed_code()})
    client.get("/account/otp/enrol/")
    before = client.session.session_key

    client.post("/account/otp/enrol/", {"otp_token": totp_now(TOTPDevice.objects.get(user=user))})

    assert client.session.session_key != before
    assert client.get("/me/").status_code == 200
