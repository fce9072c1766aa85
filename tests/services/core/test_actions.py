import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ledger.api import Actor, access_context
from ledger.models import PendingEntry
from services.core.actions import agency_key_issue, agency_key_revoke, agency_key_rotate, consent_grant, consent_revoke
from services.core.errors import CredentialsExpired, CredentialsInvalid, CredentialsRevoked
from services.core.selectors import agency_key_authenticate, consent_active_exists, consent_receipt
from tests.factories import ResidentFactory
from tests.factories.core import AgencyFactory


@pytest.fixture
def resident_context():
    with access_context(
        actor=Actor(type="resident", id="r1"), role="resident", channel="web", purpose="self-service"
    ) as context:
        yield context


@pytest.mark.django_db
def test_a_key_is_stored_hashed_and_shown_only_as_a_prefix():
    key, secret = agency_key_issue(agency=AgencyFactory(), name="main")

    assert secret.startswith(key.prefix + ".")
    assert secret.split(".", 1)[1] not in key.hashed_key
    assert agency_key_authenticate(secret=secret) == key


@pytest.mark.django_db
def test_rotation_issues_a_new_key_and_retires_the_old_one_later():
    old, old_secret = agency_key_issue(agency=AgencyFactory(), name="main")

    new, new_secret = agency_key_rotate(key=old, overlap=datetime.timedelta(days=7))

    old.refresh_from_db()
    assert agency_key_authenticate(secret=new_secret) == new
    assert agency_key_authenticate(secret=old_secret) == old
    assert timezone.now() + datetime.timedelta(days=6) < old.expiry_date < timezone.now() + datetime.timedelta(days=8)


@pytest.mark.django_db
def test_revoked_and_expired_keys_are_refused():
    agency = AgencyFactory()
    revoked, revoked_secret = agency_key_issue(agency=agency, name="a")
    agency_key_revoke(key=revoked)
    _expired, expired_secret = agency_key_issue(
        agency=agency, name="b", expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    with pytest.raises(CredentialsRevoked):
        agency_key_authenticate(secret=revoked_secret)
    with pytest.raises(CredentialsExpired):
        agency_key_authenticate(secret=expired_secret)
    with pytest.raises(CredentialsInvalid):
        agency_key_authenticate(secret="nope")


@pytest.mark.django_db
def test_a_consent_must_pair_a_purpose_with_a_scope_it_allows(resident_context):
    with pytest.raises(ValidationError):
        consent_grant(
            resident=ResidentFactory(), agency=AgencyFactory(), scope="ledger:audit", purpose="medical-treatment"
        )


@pytest.mark.django_db
def test_granting_and_revoking_consent_is_recorded_and_takes_effect(resident_context):
    resident, agency = ResidentFactory(), AgencyFactory()
    args = {"resident": resident, "agency": agency, "scope": "residents:verify", "purpose": "identity-verification"}

    consent = consent_grant(**args)
    assert consent_active_exists(**args)
    consent_revoke(consent=consent)

    assert not consent_active_exists(**args)
    assert list(PendingEntry.objects.values_list("action", "purpose")) == [
        ("services.consents.grant", "consent-management"),
        ("services.consents.revoke", "consent-management"),
    ]


@pytest.mark.django_db
def test_the_consent_receipt_says_who_what_why_and_when(resident_context):
    resident, agency = ResidentFactory(), AgencyFactory(code="demo-bank")
    consent = consent_grant(resident=resident, agency=agency, scope="residents:verify", purpose="identity-verification")

    receipt = consent_receipt(consent=consent)

    assert receipt["receipt_id"] == str(consent.receipt_id)
    assert receipt["agency"]["code"] == "demo-bank"
    assert receipt["purpose"]["legal_basis"]
    assert receipt["resident"]["national_id"] == resident.national_id_masked
    assert receipt["active"] is True
    assert PendingEntry.objects.last().action == "services.consents.receipt"
