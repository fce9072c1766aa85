"""A national ID typed in full-width digits, with spaces or a lower-case x, is the same person everywhere it enters."""

import pytest
from rest_framework.test import APIClient

from cards.actions import resident_register
from cards.admin import ResidentCreationForm
from cards.errors import ResidentAlreadyRegistered
from cards.models import Resident
from tests.cards.test_import_citizens import run_import, write_csv
from tests.factories import ResidentFactory
from tests.factories.core import agency_with_key
from tests.factories.portal import resident_with_account
from tests.idnumbers import make_national_id
from tests.portal.test_api_gateway import PURPOSE, VERIFY_SCOPE, grant_consent

pytestmark = pytest.mark.django_db

_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def full_width(number: str) -> str:
    """Return NUMBER as typed on a Chinese keyboard: full-width digits, an ideographic space after the region."""
    wide = number.translate(_FULL_WIDTH)
    return wide[:6] + "\u3000" + wide[6:]


def test_register_refuses_the_full_width_form_of_a_registered_number(ledger_context):
    resident = ResidentFactory()

    with pytest.raises(ResidentAlreadyRegistered):
        resident_register(national_id=full_width(resident.national_id), full_name="Someone Else")

    assert Resident.objects.count() == 1


def test_import_reports_a_full_width_number_as_already_registered(tmp_path, ledger_context):
    resident = ResidentFactory()
    path = write_csv(tmp_path / "r.csv", [[full_width(resident.national_id), "Someone Else", "", ""]])

    status, _out, err = run_import(path)

    assert status == 1
    assert "line 2: national_id: already registered" in err
    assert Resident.objects.count() == 1


def test_import_finds_the_full_width_duplicate_of_an_earlier_line(tmp_path, ledger_context):
    number = make_national_id(county="310115", birth="19600315")
    path = write_csv(tmp_path / "r.csv", [[number, "One", "", ""], [full_width(number), "Two", "", ""]])

    status, _out, err = run_import(path)

    assert status == 1
    assert "line 3: national_id: duplicate of line 2" in err


def test_admin_creation_form_refuses_the_full_width_form_of_a_registered_number(caseworker_context):
    resident = ResidentFactory()

    form = ResidentCreationForm(data={"national_id": full_width(resident.national_id), "full_name": "Someone Else"})

    assert not form.is_valid()
    assert form.errors["national_id"] == ["A resident with this national ID is already registered."]


def test_login_with_the_full_width_national_id_signs_in_the_same_account(client):
    user, resident, _card, _device = resident_with_account()

    response = client.post(
        "/login/", {"username": full_width(resident.national_id), "password": "correct-horse-battery"}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_partner_api_matches_the_full_width_national_id():
    resident = ResidentFactory(full_name="李伟")
    agency, key = agency_with_key(scopes=[VERIFY_SCOPE], purposes=[PURPOSE])
    grant_consent(resident, agency)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE=PURPOSE)

    response = client.post(
        "/api/v1/residents/verify",
        {"national_id": full_width(resident.national_id), "full_name": "李伟"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["match"] is True
