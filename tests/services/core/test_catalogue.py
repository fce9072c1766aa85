import pytest

from ledger.api import purpose_check, purpose_register, purposes_all
from ledger.vocabulary import DeclaredTwice
from services.core import catalogue
from tests.portal.staff import admin_login, fast_password_hashing, staff_create  # noqa: F401 (fixture)


def test_every_scope_names_only_declared_purposes():
    for scope in catalogue.scopes_all().values():
        for code in scope.purposes:
            assert purpose_check(code).code == code, scope.code


def test_every_partner_purpose_allows_some_scope():
    for code in catalogue.purposes_all():
        assert catalogue.purpose_scopes(code), code


def test_the_four_services_cards_and_ledger_are_in_the_catalogue():
    codes = {service.code for service in catalogue.services_all()}

    assert {"social_security", "health", "pharmacy", "grants", "cards", "ledger"} <= codes
    assert {"ledger:audit", "ledger:witness", "cards:verify"} <= set(catalogue.scopes_all())


def test_a_purpose_allows_only_its_scopes():
    assert catalogue.purpose_allows_scope("identity-verification", "residents:verify")
    assert not catalogue.purpose_allows_scope("identity-verification", "ledger:audit")
    assert not catalogue.purpose_allows_scope("curiosity", "residents:verify")


def test_a_scope_shared_by_services_keeps_every_purpose_that_allows_it():
    assert catalogue.purpose_scopes("credit-assessment") == (
        "checks:age",
        "checks:card-active",
        "checks:contribution-months",
        "checks:insured-medical",
        "checks:residence",
        "matching:active-card",
        "matching:insured-months",
        "social-security:statement:read",
    )


def test_every_purpose_has_a_legal_basis_and_both_names():
    for purpose in purposes_all():
        assert purpose.legal_basis and purpose.name_en and purpose.name_zh_hans, purpose.code


def test_a_purpose_declared_a_second_time_is_refused():
    with pytest.raises(DeclaredTwice):
        purpose_register("ledger-audit", name_en="Auditing", name_zh_hans="审计", legal_basis="none")

    assert purpose_check("ledger-audit").legal_basis == "PIPL art. 54: compliance audits"


def test_a_service_declared_a_second_time_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        catalogue.service_register(catalogue.Service(code="ledger", name_en="Ledger", name_zh_hans="访问记录"))


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_auditors_purpose_form_shows_the_audits_legal_basis(client):
    admin_login(client, staff_create("auditor"))

    response = client.get("/admin/purpose/")

    assert response.status_code == 200
    assert "ledger-audit: Auditing the access ledger. Legal basis: PIPL art. 54: compliance audits" in (
        response.content.decode()
    )
