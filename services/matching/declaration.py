"""What private matching declares: one scope per kind of set, the ledger actions, the catalogue entry.

The purposes the scopes allow are declared by the apps that own them. Loaded by MatchingConfig.ready().
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from ledger.api import actions_register
from services.core.catalogue import Scope, Service, service_register


class MatchingScope(StrEnum):
    ACTIVE_CARD = "matching:active-card"
    INSURED_MONTHS = "matching:insured-months"
    GRANT_RECIPIENT = "matching:grant-recipient"


actions_register(
    "matching",
    ("matching.active_card.match", _("A partner's list was matched against card holders, and you were on it"), True),
    (
        "matching.insured_months.match",
        _("A partner's list was matched against the insured, and you were on it"),
        True,
    ),
    (
        "matching.grant_recipient.match",
        _("A partner's list was matched against a grant programme's recipients, and you were on it"),
        True,
    ),
)

_CREDIT, _ELIGIBILITY, _IDENTITY = "credit-assessment", "benefit-eligibility", "identity-verification"
service_register(
    Service(
        code="matching",
        name_en="Private matching",
        name_zh_hans="隐私匹配",
        scopes=(
            Scope(
                MatchingScope.ACTIVE_CARD,
                "Match a list of national IDs privately against the holders of an active card",
                purposes=(_CREDIT, _IDENTITY, _ELIGIBILITY),
            ),
            Scope(
                MatchingScope.INSURED_MONTHS,
                "Match a list of national IDs privately against residents insured for at least N months",
                purposes=(_CREDIT, _ELIGIBILITY),
                consent_required=True,
            ),
            Scope(
                MatchingScope.GRANT_RECIPIENT,
                "Match a list of national IDs privately against the recipients of a grant programme",
                purposes=(_ELIGIBILITY,),
                consent_required=True,
            ),
        ),
        api_urls="services.matching.api.urls",
    )
)
