"""Put drug purchase in the service catalogue: its API routes, admin and the regulators' purpose."""

from dataclasses import replace

from ledger.api import purpose_register
from services.core.catalogue import service_get, service_register

purpose_register("pharmacy-regulation", "A drug regulator reviewing dispensations, limits, settlement and flags")
purpose_register("pharmacy-settlement", "Settling pharmacies' dispensations with medical insurance")

service_register(
    replace(
        service_get("pharmacy"),
        api_routes=(
            "/api/v1/pharmacy/sessions",
            "/api/v1/pharmacy/sessions/{session}/photo",
            "/api/v1/pharmacy/dispensations",
            "/api/v1/pharmacy/otc-dispensations",
        ),
        api_urls="services.pharmacy.api.urls",
        admin_models=(
            "pharmacy.Dispensation",
            "pharmacy.ControlledCap",
            "pharmacy.OtcRestriction",
            "pharmacy.OtcProduct",
            "pharmacy.SettlementReport",
            "pharmacy.SuspiciousPatternFlag",
        ),
    )
)
