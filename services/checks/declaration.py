"""What data checks declare: one scope per kind of predicate, the ledger actions, the catalogue entry.

The purposes the checks allow are declared by the apps that own them. Loaded by ChecksConfig.ready().
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ledger.api import actions_register
from services.core.catalogue import Scope, Service, service_register


class ChecksScope(StrEnum):
    CARD_ACTIVE = "checks:card-active"
    INSURED_MEDICAL = "checks:insured-medical"
    CONTRIBUTION_MONTHS = "checks:contribution-months"
    AGE = "checks:age"
    RESIDENCE = "checks:residence"
    UNEMPLOYMENT_BENEFIT = "checks:unemployment-benefit"


actions_register(
    "checks",
    ("checks.card_active.evaluate", _("Asked whether your card is in force"), True),
    ("checks.insured_medical.evaluate", _("Asked whether you have medical insurance"), True),
    ("checks.contribution_months_gte.evaluate", _("Asked whether you contributed for enough months"), True),
    ("checks.age_gte.evaluate", _("Asked whether you are old enough"), True),
    ("checks.resident_of_province.evaluate", _("Asked whether your ID was issued in a province"), True),
    ("checks.receiving_unemployment_benefit.evaluate", _("Asked whether you receive unemployment benefit"), True),
)

_CREDIT, _ELIGIBILITY, _IDENTITY = "credit-assessment", "benefit-eligibility", "identity-verification"
_CLAIMS, _TREATMENT = "insurance-claims", "medical-treatment"
service_register(
    Service(
        code="checks",
        name_en="Data checks",
        name_zh_hans="数据核验",
        scopes=(
            Scope(
                ChecksScope.CARD_ACTIVE,
                gettext_noop("Ask whether a resident's card is in force"),
                purposes=(_CREDIT, _IDENTITY, _ELIGIBILITY, _CLAIMS, _TREATMENT),
            ),
            Scope(
                ChecksScope.INSURED_MEDICAL,
                gettext_noop("Ask whether a resident is covered by medical insurance"),
                purposes=(_CREDIT, _ELIGIBILITY, _CLAIMS, _TREATMENT),
                consent_required=True,
            ),
            Scope(
                ChecksScope.CONTRIBUTION_MONTHS,
                gettext_noop("Ask whether a resident has contributed for at least N months"),
                purposes=(_CREDIT, _ELIGIBILITY),
                consent_required=True,
            ),
            Scope(
                ChecksScope.AGE,
                gettext_noop("Ask whether a resident is at least N years old"),
                purposes=(_CREDIT, _IDENTITY, _ELIGIBILITY),
                consent_required=True,
            ),
            Scope(
                ChecksScope.RESIDENCE,
                gettext_noop("Ask whether a resident's ID was issued in a province"),
                purposes=(_CREDIT, _ELIGIBILITY),
                consent_required=True,
            ),
            Scope(
                ChecksScope.UNEMPLOYMENT_BENEFIT,
                gettext_noop("Ask whether a resident receives unemployment benefit"),
                purposes=(_ELIGIBILITY,),
                consent_required=True,
            ),
        ),
        api_urls="services.checks.api.urls",
    )
)
