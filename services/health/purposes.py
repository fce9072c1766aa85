"""Put health in the service catalogue: its scopes, purposes and API routes."""

from dataclasses import replace

from ledger.api import purpose_register
from services.core.catalogue import Scope, purposes_all, service_get, service_register

purpose_register("health-administration", "A health officer reviewing visits and prescriptions")

_TREATMENT = replace(purposes_all()["medical-treatment"], scopes=("health:coverage:read",))
_CLAIMS = replace(purposes_all()["insurance-claims"], scopes=("health:coverage:read",))

_existing = service_get("health")
service_register(
    replace(
        _existing,
        scopes=(
            *_existing.scopes,
            Scope("health:coverage:read", "Check a resident's medical insurance coverage and reimbursement rate"),
        ),
        purposes=(*_existing.purposes, _TREATMENT, _CLAIMS),
        api_routes=(
            "/api/v1/health/coverage",
            "/api/v1/health/visits",
            "/api/v1/health/visits/query",
            "/api/v1/health/prescriptions",
        ),
        api_urls="services.health.api.urls",
        admin_models=("health.Visit", "health.Prescription"),
    )
)
