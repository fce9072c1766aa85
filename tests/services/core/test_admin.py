import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from rest_framework.test import APIClient

from ledger.api import subject_pseudonym
from services.core.models import AgencyKey, Consent
from tests.factories import ResidentFactory
from tests.factories.core import AgencyFactory
from tests.portal.staff import admin_login, fast_password_hashing, ledger_rows, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

SCOPE = "residents:verify"
PURPOSE = "identity-verification"


@pytest.fixture
def agency_manager(client):
    user = staff_create("agency-manager")
    admin_login(client, user)
    purpose_state(client, "partner-administration")
    return user


@pytest.fixture
def registrar(client):
    user = staff_create("registrar")
    admin_login(client, user)
    purpose_state(client, "consent-management")
    return user


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def key_add(client, agency, name="billing"):
    return client.post(
        "/admin/services_core/agencykey/add/",
        {"agency": agency.pk, "name": name, "expiry_date_0": "", "expiry_date_1": ""},
        follow=True,
    )


def secret_of(response) -> str:
    (message,) = [m for m in shown_messages(response) if "will never be shown again" in m]
    return next(word.rstrip(".") for word in message.split() if "." in word.rstrip("."))


def stored_row(key: AgencyKey) -> str:
    table = AgencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [key.pk])
        return " ".join(str(value) for value in cursor.fetchone())


def api_agency(secret: str):
    return APIClient().get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_PURPOSE=PURPOSE)


def test_an_agency_manager_issues_a_key_and_sees_the_secret_once(client, agency_manager):
    agency = AgencyFactory(grants=([SCOPE], [PURPOSE]))

    response = key_add(client, agency)

    assert response.status_code == 200
    key = AgencyKey.objects.get(agency=agency)
    secret = secret_of(response)
    assert secret.startswith(f"{key.prefix}.")
    assert AgencyKey.objects.get_from_key(secret) == key
    assert api_agency(secret).status_code == 200


def test_a_new_key_is_stored_hashed(client, agency_manager):
    agency = AgencyFactory()

    secret = secret_of(key_add(client, agency))

    key = AgencyKey.objects.get(agency=agency)
    row = stored_row(key)
    assert secret not in row
    assert secret.split(".", 1)[1] not in row
    assert key.prefix in row
    assert key.hashed_key and secret not in key.hashed_key


def test_a_second_page_load_shows_only_the_prefix(client, agency_manager):
    agency = AgencyFactory()
    secret = secret_of(key_add(client, agency))
    key = AgencyKey.objects.get(agency=agency)

    listing = client.get("/admin/services_core/agencykey/")
    change = client.get(f"/admin/services_core/agencykey/{key.pk}/change/")
    agency_page = client.get(f"/admin/services_core/agency/{agency.pk}/change/")

    for page in (listing, change, agency_page):
        assert page.status_code == 200
        content = page.content.decode()
        assert secret not in content and secret.split(".", 1)[1] not in content
        assert key.prefix in content
    assert not [m for m in shown_messages(listing) if "never be shown again" in m]


def test_rotating_a_key_issues_a_working_successor_and_lets_the_old_one_expire(client, agency_manager):
    agency = AgencyFactory(grants=([SCOPE], [PURPOSE]))
    old_secret = secret_of(key_add(client, agency))
    old = AgencyKey.objects.get(agency=agency)

    response = client.post(
        "/admin/services_core/agencykey/",
        {"action": "rotate_keys", "_selected_action": [old.pk]},
        follow=True,
    )

    successor = AgencyKey.objects.exclude(pk=old.pk).get(agency=agency)
    (message,) = [m for m in shown_messages(response) if "shown once" in m]
    new_secret = next(word for word in message.split() if word.startswith(f"{successor.prefix}."))
    old.refresh_from_db()
    assert old.expiry_date is not None and not old.revoked
    assert successor.expiry_date is None
    assert new_secret not in stored_row(successor)
    assert api_agency(new_secret).status_code == 200
    assert api_agency(old_secret).status_code == 200
    assert new_secret not in client.get("/admin/services_core/agencykey/").content.decode()


def test_revoking_a_key_in_the_admin_makes_the_api_answer_credentials_revoked(client, agency_manager):
    agency = AgencyFactory(grants=([SCOPE], [PURPOSE]))
    secret = secret_of(key_add(client, agency))
    key = AgencyKey.objects.get(agency=agency)

    response = client.post(
        "/admin/services_core/agencykey/",
        {"action": "revoke_keys", "_selected_action": [key.pk]},
        follow=True,
    )

    assert "1 key(s) revoked." in shown_messages(response)
    key.refresh_from_db()
    assert key.revoked
    refused = api_agency(secret)
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["type"].endswith("credentials-revoked")


def test_a_registrar_grants_a_consent_in_the_admin_and_the_grant_is_recorded(client, registrar):
    resident = ResidentFactory()
    agency = AgencyFactory(grants=([SCOPE], [PURPOSE]))

    response = client.post(
        "/admin/services_core/consent/add/",
        {
            "resident": resident.pk,
            "agency": agency.pk,
            "scope": SCOPE,
            "purpose": PURPOSE,
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )

    assert response.status_code == 302
    consent = Consent.objects.get(resident=resident)
    assert (consent.agency, consent.scope, consent.purpose, consent.revoked_at) == (agency, SCOPE, PURPOSE, None)
    rows = ledger_rows(action="services.consents.grant")
    assert rows == [
        {
            "actor_type": "staff",
            "role": "registrar",
            "channel": "admin",
            "action": "services.consents.grant",
            "purpose": "consent-management",
            "subject": subject_pseudonym(resident),
            "object": f"consent:{consent.receipt_id}",
            "outcome": "ok",
        }
    ]


def consent_add(client, resident):
    agency = AgencyFactory(grants=([SCOPE], [PURPOSE]))
    client.post(
        "/admin/services_core/consent/add/",
        {"resident": resident.pk, "agency": agency.pk, "scope": SCOPE, "purpose": PURPOSE},
    )
    return Consent.objects.get(resident=resident)


def test_a_registrar_without_the_change_permission_cannot_revoke_a_consent(client, registrar):
    resident = ResidentFactory()
    consent = consent_add(client, resident)

    listing = client.get("/admin/services_core/consent/")
    response = client.post(
        "/admin/services_core/consent/",
        {"action": "revoke_consents", "_selected_action": [consent.pk]},
        follow=True,
    )

    assert listing.status_code == 200 and b"revoke_consents" not in listing.content
    assert response.status_code == 200
    consent.refresh_from_db()
    assert consent.revoked_at is None
    assert ledger_rows(action="services.consents.revoke") == []


def test_a_caseworker_with_the_change_permission_revokes_a_consent_and_the_revocation_is_recorded(client, registrar):
    resident = ResidentFactory()
    consent = consent_add(client, resident)
    registrar.user_permissions.add(Permission.objects.get(codename="change_consent"))

    response = client.post(
        "/admin/services_core/consent/",
        {"action": "revoke_consents", "_selected_action": [consent.pk]},
        follow=True,
    )

    assert "1 consent(s) revoked." in shown_messages(response)
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    revoked = ledger_rows(action="services.consents.revoke")
    assert [(r["subject"], r["object"], r["role"], r["channel"], r["purpose"]) for r in revoked] == [
        (subject_pseudonym(resident), f"consent:{consent.receipt_id}", "registrar", "admin", "consent-management")
    ]
    looked = ledger_rows(action="services_core.consents.admin.action")
    assert [(r["subject"], r["object"]) for r in looked] == [(subject_pseudonym(resident), "action revoke_consents")]
