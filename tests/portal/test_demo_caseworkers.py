import base64
import io
import json

import pytest
from django.core.management import call_command
from django_otp.oath import totp

from portal.roles import ROLES


def seed() -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def _code(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


@pytest.mark.django_db
def test_seed_demo_lists_one_caseworker_per_role():
    caseworkers = seed()["caseworkers"]

    assert sorted(role for c in caseworkers for role in c["roles"]) == sorted(ROLES)
    assert all(set(c) == {"username", "password", "roles", "totp_secret"} for c in caseworkers)


@pytest.mark.django_db
def test_each_demo_caseworker_logs_in_with_password_and_totp_secret(client):
    for caseworker in seed()["caseworkers"]:
        client.logout()
        data = {
            "username": caseworker["username"],
            "password": caseworker["password"],
            "otp_token": _code(caseworker["totp_secret"]),
        }

        response = client.post("/admin/login/", data)

        assert response.status_code == 302, caseworker["username"]
        assert client.get("/admin/").status_code == 200
