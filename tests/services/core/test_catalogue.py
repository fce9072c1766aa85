from ledger.api import purpose_check
from services.core import catalogue


def test_every_purpose_names_only_known_scopes():
    scopes = catalogue.scopes_all()

    for purpose in catalogue.purposes_all().values():
        assert set(purpose.scopes) <= set(scopes), purpose.code


def test_every_purpose_is_in_the_ledger_vocabulary():
    for code in catalogue.purposes_all():
        assert purpose_check(code).code == code


def test_the_four_services_cards_and_ledger_are_in_the_catalogue():
    codes = {service.code for service in catalogue.services_all()}

    assert {"social_security", "health", "pharmacy", "grants", "cards", "ledger"} <= codes
    assert {"ledger:audit", "ledger:witness", "cards:verify"} <= set(catalogue.scopes_all())


def test_a_purpose_allows_only_its_scopes():
    assert catalogue.purpose_allows_scope("identity-verification", "residents:verify")
    assert not catalogue.purpose_allows_scope("identity-verification", "ledger:audit")
    assert not catalogue.purpose_allows_scope("curiosity", "residents:verify")
