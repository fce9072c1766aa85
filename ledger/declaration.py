"""The ledger's own purposes. Loaded by LedgerConfig.ready()."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ledger.vocabulary import actions_register, purpose_register

# PIPL = Personal Information Protection Law of the PRC.
purpose_register(
    "staff-duty",
    name_en="Staff duty, no narrower purpose stated",
    name_zh_hans="工作人员履职（未说明具体目的）",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty of the agency the member of staff works for"),
)
purpose_register(
    "ledger-audit",
    name_en="Auditing the access ledger",
    name_zh_hans="访问记录审计",
    legal_basis=gettext_noop("PIPL art. 54: compliance audits"),
)
purpose_register(
    "ledger-witnessing",
    name_en="Witnessing ledger checkpoints",
    name_zh_hans="见证访问记录检查点",
    legal_basis=gettext_noop("PIPL art. 54: compliance audits"),
)
purpose_register(
    "sealed-investigation",
    name_en="A sealed investigation (disclosed to you on a set date)",
    name_zh_hans="保密调查（在指定日期向您披露）",
    legal_basis=gettext_noop(
        "PIPL art. 18(2) and 35: notice may be deferred where a law requires secrecy (the sealing "
        "authority records the legal reference)"
    ),
)

actions_register(
    "ledger",
    ("ledger.sealed.record", _("An access to your data whose details are sealed until a set date"), True),
    ("ledger.sealed.seal", _("An authority sealed the details of an access until a set date"), False),
    ("ledger.sealed.release", _("The details of a sealed access were disclosed on their date"), False),
    ("ledger.sealed.notify", _("You were e-mailed that the details of a sealed access are disclosed"), True),
)
