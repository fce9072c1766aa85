"""What social security declares: its purposes, scopes, ledger actions and catalogue entry.

Loaded by SocialSecurityConfig.ready().
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cards.admin_base import admin_actions
from ledger.api import actions_register, purpose_register
from services.core.catalogue import Scope, Service, service_register


class SocialSecurityScope(StrEnum):
    CONTRIBUTIONS_WRITE = "social-security:contributions:write"
    EMPLOYMENTS_WRITE = "social-security:employments:write"
    ELIGIBILITY_READ = "social-security:eligibility:read"
    STATEMENT_READ = "social-security:statement:read"


purpose_register(
    "contribution-reporting",
    name_en="Reporting social insurance contributions",
    name_zh_hans="社会保险缴费申报",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; Social Insurance Law"),
)
purpose_register(
    "benefit-eligibility",
    name_en="Checking eligibility for a benefit or grant",
    name_zh_hans="待遇与补助资格审核",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; Social Insurance Law"),
)
purpose_register(
    "credit-assessment",
    name_en="Assessing a resident's application for credit",
    name_zh_hans="信贷申请审核",
    legal_basis=gettext_noop(
        "PIPL art. 13(1) consent of the resident; PIPL art. 13(2) contract the resident asked for"
    ),
)
purpose_register(
    "benefit-administration",
    name_en="A caseworker or the assessor handling a social security benefit claim",
    name_zh_hans="经办人员或审核程序办理社会保障待遇申请",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; Social Insurance Law"),
)
purpose_register(
    "social-security-administration",
    name_en="A social security officer reviewing employment and contributions",
    name_zh_hans="社保工作人员审核就业与缴费记录",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; Social Insurance Law"),
)

actions_register(
    "social_security",
    ("social_security.employments.report", _("An employer reported your employment"), False),
    ("social_security.contributions.report", _("An employer reported your contributions"), False),
    ("social_security.claims.submit", _("You applied for unemployment benefit"), False),
    ("social_security.claims.assess", _("Your benefit claim was assessed"), False),
    ("social_security.claims.decide", _("Your benefit claim was decided"), False),
    ("social_security.employments.read", _("Your employment record was read"), True),
    ("social_security.contributions.read", _("Your contributions were read"), True),
    ("social_security.statement.read", _("Your contribution statement was read"), True),
    ("social_security.claims.read", _("Your benefit claims were read"), True),
    *admin_actions("social_security.employments", _("Your employment record")),
    *admin_actions("social_security.contributions", _("Your contributions")),
    *admin_actions("social_security.claims", _("Your benefit claims")),
)

service_register(
    Service(
        code="social_security",
        name_en="Social security",
        name_zh_hans="社会保障",
        scopes=(
            Scope(
                SocialSecurityScope.CONTRIBUTIONS_WRITE,
                gettext_noop("Report an employee's contributions"),
                purposes=("contribution-reporting",),
            ),
            Scope(
                SocialSecurityScope.EMPLOYMENTS_WRITE,
                gettext_noop("Report an employee's employment periods"),
                purposes=("contribution-reporting",),
            ),
            Scope(
                SocialSecurityScope.ELIGIBILITY_READ,
                gettext_noop("Check eligibility for a social security benefit"),
                purposes=("benefit-eligibility",),
            ),
            Scope(
                SocialSecurityScope.STATEMENT_READ,
                gettext_noop("Read a resident's contribution statement"),
                purposes=("benefit-eligibility", "credit-assessment"),
                consent_required=True,
            ),
        ),
        portal_section="social-security",
        api_urls="services.social_security.api.urls",
    )
)
