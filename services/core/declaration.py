"""What services.core declares: its purposes, scopes, ledger actions and catalogue entries.

The residents, cards and ledger entries are here because their partner
endpoints are the gateway's own (services/core/api/). Loaded by CoreConfig.ready().
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cards.admin_base import admin_actions
from ledger.api import actions_register, purpose_register
from services.core.catalogue import Scope, Service, service_register


class CoreScope(StrEnum):
    RESIDENTS_VERIFY = "residents:verify"
    CARDS_VERIFY = "cards:verify"
    CARDS_PHOTO = "cards:photo"
    LEDGER_AUDIT = "ledger:audit"
    LEDGER_WITNESS = "ledger:witness"


purpose_register(
    "consent-management",
    name_en="Granting or revoking a consent",
    name_zh_hans="授权同意的授予与撤回",
    legal_basis=gettext_noop("PIPL art. 14 and 15: the resident's consent and its withdrawal"),
)
purpose_register(
    "partner-administration",
    name_en="Managing a partner agency and its credentials",
    name_zh_hans="合作机构及其凭证管理",
    legal_basis=gettext_noop("PIPL art. 21: supervising those who process personal information on the agency's behalf"),
)

actions_register(
    "residents",
    ("services.consents.grant", _("You gave a consent"), False),
    ("services.consents.revoke", _("A consent of yours was revoked"), False),
    ("services.consents.list", _("Your consents were listed"), True),
    ("services.consents.receipt", _("A consent receipt of yours was viewed"), True),
    ("services.residents.verify", _("Your national ID and name were checked against the register"), True),
    *admin_actions("services_core.consents", _("Your consents")),
)

service_register(
    Service(
        code="residents",
        name_en="Resident register",
        name_zh_hans="居民登记",
        scopes=(
            Scope(
                CoreScope.RESIDENTS_VERIFY,
                gettext_noop("Check a national ID and name against the register"),
                purposes=("identity-verification",),
                consent_required=True,
            ),
        ),
        api_urls="services.core.api.urls",
    )
)
service_register(
    Service(
        code="cards",
        name_en="One card",
        name_zh_hans="一卡通",
        scopes=(
            Scope(
                CoreScope.CARDS_VERIFY,
                gettext_noop("Verify a card's QR code and status"),
                purposes=(
                    "identity-verification",
                    "medical-treatment",
                    "drug-dispensing",
                    "contribution-reporting",
                    "insurance-claims",
                    "face-to-face-identification",
                ),
            ),
            Scope(
                CoreScope.CARDS_PHOTO,
                gettext_noop("See the cardholder's photo to identify them face to face (each view is recorded)"),
                purposes=("face-to-face-identification",),
            ),
        ),
        portal_section="cards",
    )
)
service_register(
    Service(
        code="ledger",
        name_en="Access ledger",
        name_zh_hans="访问记录",
        scopes=(
            Scope(
                CoreScope.LEDGER_AUDIT,
                gettext_noop("Read ledger entries and inclusion proofs"),
                purposes=("ledger-audit",),
            ),
            Scope(CoreScope.LEDGER_WITNESS, gettext_noop("Cosign ledger checkpoints"), purposes=("ledger-witnessing",)),
        ),
        portal_section="access-history",
    )
)
