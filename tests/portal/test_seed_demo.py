import io
import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from cards.models import Resident
from cards.national_id import parse_national_id


def seed() -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_seed_demo_prints_the_contract_shape():
    data = seed()

    assert set(data) == {"citizens", "caseworkers", "agencies"}
    assert {"username", "password", "national_id", "card_number", "card_token"} <= set(data["citizens"][0])
    assert {"username", "password", "roles", "totp_secret"} <= set(data["caseworkers"][0])
    for citizen in data["citizens"]:
        parse_national_id(citizen["national_id"])


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_its_logins_work():
    first = seed()
    second = seed()

    assert Resident.objects.count() == len(second["citizens"]) == len(first["citizens"])
    citizen = second["citizens"][0]
    assert authenticate(username=citizen["username"], password=citizen["password"]) is not None
    assert first["caseworkers"][0]["totp_secret"] == second["caseworkers"][0]["totp_secret"]
