"""/activate/ tells a stranger nothing, is throttled, and a replacement card is activated from /me/card/."""

import re

import pytest
from django.core import mail

from cards.actions import card_activation_code_create, card_reissue
from cards.models import Card
from ledger.api import Actor, access_context
from portal.models import User
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.portal import resident_with_account, sign_in
from tests.idnumbers import make_national_id
from tests.portal.staff import fast_password_hashing  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]
PASSWORD = "lantern-orchid-91"
REFUSED = "The national ID or the activation code is wrong, expired, or was tried too often."


def as_issuer():
    return access_context(actor=Actor(type="system", id="test"), role="issuer", channel="task", purpose="registration")


def pending_card_of(resident) -> tuple[Card, str]:
    card = CardFactory(resident=resident, status=Card.Status.PENDING)
    with as_issuer():
        return card, card_activation_code_create(card=card)


def replacement_of(card) -> tuple[Card, str]:
    """Reissue CARD as a caseworker would and return the pending successor and its code."""
    with as_issuer():
        successor = card_reissue(card=card, reason="damaged", notify=False)
        return successor, card_activation_code_create(card=successor)


def activation_data(national_id: str, code: str, **changes) -> dict:
    return {
        "national_id": national_id,
        "code": code,
        "username": "li.new",
        "password1": PASSWORD,
        "password2": PASSWORD,
    } | changes


def form_errors(response) -> list[str]:
    """Return the error summary's messages: the form's own and each field's."""
    page = response.content.decode()
    summary = re.findall(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', page, re.S)
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", "".join(summary), re.S)]


def test_a_holder_with_an_account_and_an_unknown_id_get_the_same_answer_to_a_wrong_code(client):
    _user, holder, card, _device = resident_with_account()
    replacement_of(card)
    unknown = make_national_id(county="310115", birth="19600315", sequence=555)

    registered = client.post("/activate/", activation_data(holder.national_id, "WRONGWRONG"))
    unregistered = client.post("/activate/", activation_data(unknown, "WRONGWRONG"))

    assert registered.status_code == unregistered.status_code == 200
    assert form_errors(registered) == form_errors(unregistered) != []
    assert REFUSED in registered.content.decode()
    assert "account" not in " ".join(form_errors(registered))


def test_a_holder_with_an_account_and_the_right_code_is_sent_to_sign_in_and_the_card_stays_pending(client):
    _user, holder, card, _device = resident_with_account()
    successor, code = replacement_of(card)

    response = client.post("/activate/", activation_data(holder.national_id, code))

    assert "already have an account" in response.content.decode()
    successor.refresh_from_db()
    assert successor.status == "pending" and successor.activation_code_hash
    assert not User.objects.filter(username="li.new").exists()


def test_activation_is_throttled_per_client_across_national_ids(client, settings):
    settings.ONECARD_ACTIVATION_RATE_PER_CLIENT = "3/hour"
    numbers = [make_national_id(county="310115", birth="19600315", sequence=n) for n in range(1, 5)]

    responses = [client.post("/activate/", activation_data(number, "WRONGWRONG")) for number in numbers]

    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert "Too many activation attempts" in responses[-1].content.decode()


def test_activation_is_throttled_per_national_id_across_clients(client, settings):
    settings.ONECARD_ACTIVATION_RATE_PER_NATIONAL_ID = "3/hour"
    resident = ResidentFactory(email="li@example.org")
    card, code = pending_card_of(resident)

    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        client.post("/activate/", activation_data(resident.national_id, "WRONGWRONG"), REMOTE_ADDR=address)
    right = client.post("/activate/", activation_data(resident.national_id, code), REMOTE_ADDR="10.0.0.4")

    assert right.status_code == 429
    card.refresh_from_db()
    assert card.status == "pending"


def test_a_stranger_locks_only_the_code_and_the_resident_gets_a_new_one_by_email(
    client, django_capture_on_commit_callbacks
):
    resident = ResidentFactory(email="li@example.org")
    card, old_code = pending_card_of(resident)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            client.post("/activate/", activation_data(resident.national_id, "WRONGWRONG"), REMOTE_ADDR="10.9.9.9")

    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["li@example.org"] and "was locked" in notice.subject
    new_code = re.search(r"Activation code: ([A-Z0-9]+)", notice.body).group(1)
    refused = client.post("/activate/", activation_data(resident.national_id, old_code))
    accepted = client.post("/activate/", activation_data(resident.national_id, new_code))
    assert REFUSED in refused.content.decode()
    assert accepted.status_code == 302
    card.refresh_from_db()
    assert card.status == "active"


def test_activation_accepts_the_national_id_in_full_width_digits(client):
    resident = ResidentFactory(email="li@example.org")
    card, code = pending_card_of(resident)
    typed = resident.national_id.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))

    response = client.post("/activate/", activation_data(typed, code))

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.status == "active"


def test_activation_refuses_a_username_that_is_a_national_id(client):
    resident = ResidentFactory(email="li@example.org")
    card, code = pending_card_of(resident)

    response = client.post("/activate/", activation_data(resident.national_id, code, username=resident.national_id))

    assert "not a national ID" in response.content.decode()
    card.refresh_from_db()
    assert card.status == "pending"


def test_a_signed_in_resident_activates_a_replacement_card_from_my_card(client, ledger_rows):
    user, resident, card, device = resident_with_account()
    successor, code = replacement_of(card)
    sign_in(client, user, device, step_up=True)

    page = client.get("/me/card/")
    activated = client.post("/me/card/activate/", {"code": code})

    assert 'href="/me/card/activate/"' in page.content.decode()
    assert activated.status_code == 302 and activated["Location"] == "/me/card/"
    successor.refresh_from_db()
    card.refresh_from_db()
    assert successor.status == "active"
    assert card.status == "replaced" and card.replaced_by_id == successor.pk
    assert ("cards.cards.activate", "resident", "resident", "web", "self-service", "ok") in ledger_rows()


def test_activating_a_replacement_needs_a_fresh_one_time_password(client):
    user, _resident, card, device = resident_with_account()
    successor, code = replacement_of(card)
    sign_in(client, user, device)

    response = client.post("/me/card/activate/", {"code": code})

    assert response.status_code == 302 and response["Location"].startswith("/account/step-up/")
    successor.refresh_from_db()
    assert successor.status == "pending"


def test_a_wrong_code_for_a_replacement_is_refused_and_counted(client):
    user, _resident, card, device = resident_with_account()
    successor, _code = replacement_of(card)
    sign_in(client, user, device, step_up=True)

    response = client.post("/me/card/activate/", {"code": "WRONGWRONG"})

    assert response.status_code == 200
    assert "activation code is wrong" in response.content.decode()
    successor.refresh_from_db()
    assert successor.status == "pending" and successor.activation_attempts == 1
