"""What health declares: its purposes, scopes, ledger actions and catalogue entry. Loaded by HealthConfig.ready()."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cards.admin_base import admin_actions
from ledger.api import actions_register, purpose_register
from services.core.catalogue import Scope, Service, service_register


class HealthScope(StrEnum):
    VISITS_READ = "health:visits:read"
    VISITS_WRITE = "health:visits:write"
    PRESCRIPTIONS_WRITE = "health:prescriptions:write"
    COVERAGE_READ = "health:coverage:read"


purpose_register(
    "medical-treatment",
    name_en="Medical treatment",
    name_zh_hans="医疗诊治",
    legal_basis=gettext_noop(
        "PIPL art. 13(4): necessary to protect life and health; Basic Medical and Health Care Law"
    ),
)
purpose_register(
    "insurance-claims",
    name_en="Settling an insurance claim",
    name_zh_hans="保险理赔",
    legal_basis=gettext_noop("PIPL art. 13(1) consent of the resident; PIPL art. 13(2) contract with the resident"),
)
purpose_register(
    "health-administration",
    name_en="A health officer reviewing visits and prescriptions",
    name_zh_hans="卫生健康工作人员审核就诊与处方",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; Basic Medical and Health Care Law"),
)

actions_register(
    "health",
    ("health.visits.record", _("A visit of yours was recorded"), False),
    ("health.prescriptions.issue", _("A prescription was issued to you"), False),
    ("health.prescriptions.cancel", _("A prescription of yours was cancelled"), False),
    ("health.coverage.read", _("Your medical insurance coverage was checked"), True),
    ("health.visits.read", _("Your visits were read"), True),
    ("health.prescriptions.read", _("Your prescriptions were read"), True),
    *admin_actions("health.visits", _("Your visits")),
    *admin_actions("health.prescriptions", _("Your prescriptions")),
)

_TREATMENT_OR_CLAIMS = ("medical-treatment", "insurance-claims")
service_register(
    Service(
        code="health",
        name_en="Health",
        name_zh_hans="医疗健康",
        scopes=(
            Scope(
                HealthScope.VISITS_READ,
                gettext_noop("Read a resident's visits"),
                purposes=_TREATMENT_OR_CLAIMS,
                consent_required=True,
            ),
            Scope(HealthScope.VISITS_WRITE, gettext_noop("Record a visit"), purposes=("medical-treatment",)),
            Scope(
                HealthScope.PRESCRIPTIONS_WRITE, gettext_noop("Issue a prescription"), purposes=("medical-treatment",)
            ),
            Scope(
                HealthScope.COVERAGE_READ,
                gettext_noop("Check a resident's medical insurance coverage and reimbursement rate"),
                purposes=_TREATMENT_OR_CLAIMS,
            ),
        ),
        portal_section="health",
        api_urls="services.health.api.urls",
    )
)
