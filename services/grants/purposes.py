"""Put grants in the service catalogue: its scopes, purposes and API routes."""

from dataclasses import replace

from ledger.api import purpose_register
from services.core.catalogue import PurposeDefinition, Scope, purposes_all, service_get, service_register

purpose_register("grant-administration", "A caseworker or the eligibility checker handling a grant application")

DISBURSEMENT = PurposeDefinition(
    code="grant-disbursement",
    name_en="Paying an approved grant onto the card",
    name_zh_hans="补助发放至社保卡",
    legal_basis="PIPL art. 13(3): legal duty; the programme's funding decision",
    scopes=("grants:disbursements",),
)
_ELIGIBILITY = replace(purposes_all()["benefit-eligibility"], scopes=("grants:eligibility:read",))

_existing = service_get("grants")
service_register(
    replace(
        _existing,
        scopes=(
            *_existing.scopes,
            Scope("grants:disbursements", "Fetch scheduled grant disbursements and confirm them paid or failed"),
        ),
        purposes=(*_existing.purposes, _ELIGIBILITY, DISBURSEMENT),
        api_routes=(
            "/api/v1/grants/eligibility",
            "/api/v1/grants/disbursements",
            "/api/v1/grants/disbursements/<reference>/confirmation",
        ),
        api_urls="services.grants.api.urls",
        admin_models=("grants.Programme", "grants.Cycle", "grants.Application", "grants.Disbursement"),
    )
)
