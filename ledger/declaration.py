"""The ledger's own purposes. Loaded by LedgerConfig.ready()."""

from django.utils.translation import gettext_noop

from ledger.vocabulary import purpose_register

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
