"""What cards declares: its purposes and the ledger actions it records. Loaded by CardsConfig.ready()."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cards.admin_base import admin_actions
from ledger.api import actions_register, purpose_register

purpose_register(
    "registration",
    name_en="Registering a resident or correcting their register entry",
    name_zh_hans="居民登记与登记信息更正",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; Resident Identity Card Law"),
)
purpose_register(
    "card-administration",
    name_en="Issuing, suspending, resuming, revoking or reissuing a card",
    name_zh_hans="社保卡的签发、挂起、恢复、注销与补换",
    legal_basis=gettext_noop("PIPL art. 13(3): legal duty; Social Insurance Law"),
)
purpose_register(
    "face-to-face-identification",
    name_en="Identifying the cardholder face to face",
    name_zh_hans="当面核验持卡人身份",
    legal_basis=gettext_noop(
        "PIPL art. 13(1) and 29: the resident's consent, given by presenting their one-use QR code at the counter; "
        "Drug Administration Law (dispensing to the patient named on the prescription)"
    ),
)
purpose_register(
    "identity-verification",
    name_en="Identity verification",
    name_zh_hans="身份核验",
    legal_basis=gettext_noop(
        "PIPL art. 13(1) consent of the resident; Anti-Money Laundering Law (customer due diligence)"
    ),
)

# (code, what the resident reads in their history, whether it shows their data to the actor)
actions_register(
    "cards",
    ("cards.residents.create", _("You were added to the resident register"), False),
    ("cards.residents.update", _("Your register entry was corrected"), False),
    ("cards.residents.lookup", _("Your register entry was looked up by national ID"), True),
    ("cards.cards.issue", _("A card was issued to you"), False),
    ("cards.cards.activation_code.create", _("An activation code was made for your card"), False),
    ("cards.cards.activate", _("Your card was activated"), False),
    ("cards.cards.suspend", _("Your card was suspended"), False),
    ("cards.cards.resume", _("Your card was resumed"), False),
    ("cards.cards.lose", _("Your card was reported lost"), False),
    ("cards.cards.revoke", _("Your card was revoked"), False),
    ("cards.cards.replace", _("Your card was replaced"), False),
    ("cards.cards.expire", _("Your card expired"), False),
    ("cards.cards.read", _("Your card was viewed"), True),
    ("cards.cards.list", _("Your cards were listed"), True),
    ("cards.cards.print", _("Your printable card was viewed"), True),
    ("cards.cards.history", _("Your card's history was viewed"), True),
    ("cards.credentials.static.issue", _("Your card's QR code was made"), False),
    ("cards.credentials.dynamic.issue", _("A one-use QR code of your card was made"), False),
    ("cards.credentials.verify", _("Your card was checked"), True),
    ("cards.payments.credit", _("A payment was credited to your card"), False),
    ("cards.payments.list", _("Your card's payments were listed"), True),
    ("cards.photos.update", _("A caseworker set your card photo"), False),
    ("cards.photos.submit", _("You sent a card photo for approval"), False),
    ("cards.photos.approve", _("Your card photo was approved"), False),
    ("cards.photos.reject", _("Your card photo was rejected"), False),
    ("cards.photos.erase", _("An old card photo of yours was erased, as the retention rules say"), False),
    ("cards.photos.view", _("Your photo was viewed"), True),
    ("cards.photos.list", _("Your card photos were listed"), True),
    ("cards.credentials.sd_jwt.issue", _("Your card was issued as an SD-JWT credential"), False),
    ("cards.credentials.mdoc.issue", _("Your card was issued as an mdoc credential"), False),
    ("cards.credentials.offer.create", _("You made an offer to add your card to a wallet app"), False),
    *admin_actions("cards.residents", _("Your register entry")),
    *admin_actions("cards.cards", _("Your card")),
    *admin_actions("cards.photos", _("Your card photos")),
)
