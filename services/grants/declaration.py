"""What grants declares: its purposes, scopes, ledger actions and catalogue entry. Loaded by GrantsConfig.ready()."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cards.admin_base import admin_actions
from ledger.api import actions_register, purpose_register
from services.core.catalogue import Scope, Service, service_register


class GrantsScope(StrEnum):
    ELIGIBILITY_READ = "grants:eligibility:read"
    DISBURSEMENTS = "grants:disbursements"


purpose_register(
    "grant-disbursement",
    name_en="Paying an approved grant onto the card",
    name_zh_hans="补助发放至社保卡",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; the programme's funding decision"),
)
purpose_register(
    "grant-administration",
    name_en="A caseworker or the eligibility checker handling a grant application",
    name_zh_hans="经办人员或资格核查程序办理补助申请",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; the programme's funding decision"),
)
purpose_register(
    "grant-review",
    name_en="Reviewing or approving a grant application",
    name_zh_hans="补助申请的审核与批准",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; the programme's funding decision"),
)

actions_register(
    "grants",
    ("grants.applications.create", _("A grant application of yours was started"), False),
    ("grants.applications.submit", _("Your grant application was submitted"), False),
    ("grants.applications.appeal", _("You appealed a grant decision"), False),
    ("grants.applications.assess", _("Your grant application was checked against the rules"), False),
    ("grants.applications.review_start", _("A caseworker started reviewing your grant application"), False),
    ("grants.applications.recommend", _("A caseworker recommended a decision on your grant application"), False),
    ("grants.applications.approve", _("Your grant application was approved"), False),
    ("grants.applications.reject", _("Your grant application was rejected"), False),
    ("grants.applications.schedule", _("Your grant payment was scheduled"), False),
    ("grants.applications.list", _("Your grant applications were listed"), True),
    ("grants.applications.read", _("A grant application of yours was read"), True),
    ("grants.programmes.save", _("A grant programme was saved"), False),
    ("grants.cycles.create", _("A grant cycle was opened"), False),
    ("grants.cycles.approve", _("A grant cycle was approved"), False),
    ("grants.cycles.queue", _("A grant cycle was queued for payment"), False),
    ("grants.disbursements.schedule", _("A grant payment to your card was scheduled"), False),
    ("grants.disbursements.confirm", _("A bank confirmed a grant payment to your card"), False),
    ("grants.disbursements.export", _("Your grant payment was sent to the paying bank"), True),
    ("grants.disbursements.read", _("Your grant payment was read by the paying bank"), True),
    ("grants.eligibility.evaluate", _("Your eligibility for a grant was checked"), True),
    ("grants.notifications.send", _("You were told about your grant application"), False),
    *admin_actions("grants.applications", _("Your grant applications")),
    *admin_actions("grants.disbursements", _("Your grant payments")),
)

service_register(
    Service(
        code="grants",
        name_en="Grants",
        name_zh_hans="补助",
        scopes=(
            Scope(
                GrantsScope.ELIGIBILITY_READ,
                gettext_noop("Check a resident's eligibility for a grant"),
                purposes=("benefit-eligibility",),
            ),
            Scope(
                GrantsScope.DISBURSEMENTS,
                gettext_noop("Fetch scheduled grant disbursements and confirm them paid or failed"),
                purposes=("grant-disbursement",),
            ),
        ),
        portal_section="grants",
        api_urls="services.grants.api.urls",
    )
)
