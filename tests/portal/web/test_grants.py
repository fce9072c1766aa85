"""The resident's grants section: apply behind step-up, see applications and money paid onto the card."""

import pytest

from cards.models import CardPayment
from services.grants.models import Application
from tests.factories.grants import ProgrammeFactory
from tests.factories.portal import sign_in


def test_applying_asks_for_a_fresh_one_time_password(client_a):
    ProgrammeFactory(code="heating")

    response = client_a.get("/me/grants/heating/apply/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/step-up/")


@pytest.mark.django_db
def test_a_resident_applies_and_the_section_shows_it_with_the_rows_it_writes(client, resident_a, ledger_rows):
    user, resident, _card, device = resident_a
    sign_in(client, user, device, step_up=True)
    ProgrammeFactory(code="heating", name_en="Winter heating")

    # The eligibility check runs on commit, which a test transaction never reaches; tests/services covers it.
    response = client.post(
        "/me/grants/heating/apply/", {"payout_account": "6222020200001234567", "dependants": "1"}, follow=True
    )

    assert response.status_code == 200
    application = Application.objects.get(resident=resident)
    assert application.status == "submitted"
    assert "Winter heating" in response.content.decode()
    assert [row[0] for row in ledger_rows()] == [
        "grants.applications.create",
        "grants.applications.submit",
        "grants.applications.list",
        "cards.payments.list",
    ]


def test_the_section_shows_money_paid_onto_the_card(client_a, resident_a, ledger_rows):
    _user, _resident, card, _device = resident_a
    CardPayment.objects.create(
        card=card, amount="800.00", reference="grants:x", description_en="Winter heating", description_zh_hans="取暖"
    )

    response = client_a.get("/me/services/grants/")

    assert response.status_code == 200
    assert "800.00 CNY" in response.content.decode()
    assert ledger_rows() == [
        ("grants.applications.list", "resident", "resident", "web", "self-service", "ok"),
        ("cards.payments.list", "resident", "resident", "web", "self-service", "ok"),
    ]
