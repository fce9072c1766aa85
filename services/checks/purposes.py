"""Put data checks in the service catalogue: one scope per kind of predicate, and the purposes allowing them."""

from dataclasses import replace

from services.core.catalogue import PurposeDefinition, Scope, Service, purposes_all, service_register

_CARD, _INSURED, _MONTHS = "checks:card-active", "checks:insured-medical", "checks:contribution-months"
_AGE, _PROVINCE, _BENEFIT = "checks:age", "checks:residence", "checks:unemployment-benefit"


def _extend(code: str, *scopes: str) -> PurposeDefinition:
    """Return the catalogue's purpose CODE allowing SCOPES as well."""
    return replace(purposes_all()[code], scopes=scopes)


service_register(
    Service(
        code="checks",
        name_en="Data checks",
        name_zh_hans="数据核验",
        scopes=(
            Scope(_CARD, "Ask whether a resident's card is in force"),
            Scope(_INSURED, "Ask whether a resident is covered by medical insurance", consent_required=True),
            Scope(_MONTHS, "Ask whether a resident has contributed for at least N months", consent_required=True),
            Scope(_AGE, "Ask whether a resident is at least N years old", consent_required=True),
            Scope(_PROVINCE, "Ask whether a resident's ID was issued in a province", consent_required=True),
            Scope(_BENEFIT, "Ask whether a resident receives unemployment benefit", consent_required=True),
        ),
        purposes=(
            PurposeDefinition(
                code="credit-assessment",
                name_en="Assessing a resident's application for credit",
                name_zh_hans="信贷申请审核",
                legal_basis="PIPL art. 13(1) consent of the resident; PIPL art. 13(2) contract the resident asked for",
                scopes=(_CARD, _INSURED, _MONTHS, _AGE, _PROVINCE),
            ),
            _extend("identity-verification", _CARD, _AGE),
            _extend("benefit-eligibility", _CARD, _INSURED, _MONTHS, _AGE, _PROVINCE, _BENEFIT),
            _extend("insurance-claims", _CARD, _INSURED),
            _extend("medical-treatment", _CARD, _INSURED),
        ),
        api_routes=("/api/v1/checks",),
        api_urls="services.checks.api.urls",
    )
)
