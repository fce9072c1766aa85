"""Put social security in the service catalogue: its scopes, purposes and API routes."""

from dataclasses import replace

from ledger.api import purpose_register
from services.core.catalogue import PurposeDefinition, Scope, purposes_all, service_get, service_register

purpose_register("benefit-administration", "A caseworker or the assessor handling a social security benefit claim")
purpose_register("social-security-administration", "A social security officer reviewing employment and contributions")

CREDIT_ASSESSMENT = PurposeDefinition(
    code="credit-assessment",
    name_en="Assessing a resident's application for credit",
    name_zh_hans="信贷申请审核",
    legal_basis="PIPL art. 13(1) consent of the resident; PIPL art. 13(2) contract the resident asked for",
    scopes=("social-security:statement:read",),
)
_REPORTING = replace(purposes_all()["contribution-reporting"], scopes=("social-security:employments:write",))
_ELIGIBILITY = replace(purposes_all()["benefit-eligibility"], scopes=("social-security:statement:read",))

_existing = service_get("social_security")
service_register(
    replace(
        _existing,
        scopes=(
            *_existing.scopes,
            Scope("social-security:employments:write", "Report an employee's employment periods"),
            Scope("social-security:statement:read", "Read a resident's contribution statement", consent_required=True),
        ),
        purposes=(*_existing.purposes, _REPORTING, _ELIGIBILITY, CREDIT_ASSESSMENT),
        api_routes=(
            "/api/v1/social-security/employments",
            "/api/v1/social-security/contributions",
            "/api/v1/social-security/statement",
            "/api/v1/social-security/claims/query",
        ),
        api_urls="services.social_security.api.urls",
        admin_models=(
            "social_security.Employment",
            "social_security.Contribution",
            "social_security.UnemploymentClaim",
        ),
    )
)
