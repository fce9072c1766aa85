"""What drug purchase declares: its purposes, scopes, ledger actions and catalogue entry.

Loaded by PharmacyConfig.ready().
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from cards.admin_base import admin_actions
from ledger.api import actions_register, purpose_register
from services.core.catalogue import Scope, Service, service_register


class PharmacyScope(StrEnum):
    PRESCRIPTIONS_READ = "pharmacy:prescriptions:read"
    DISPENSE = "pharmacy:dispense"


purpose_register(
    "drug-dispensing",
    name_en="Dispensing prescribed drugs",
    name_zh_hans="处方药调配",
    legal_basis="PIPL art. 13(3): legal duty; Drug Administration Law",
)
purpose_register(
    "pharmacy-regulation",
    name_en="A drug regulator reviewing dispensations, limits, settlement and flags",
    name_zh_hans="药品监管人员审核调配、限量、结算与异常标记",
    legal_basis="PIPL art. 13(3): legal duty; Drug Administration Law",
)
purpose_register(
    "pharmacy-settlement",
    name_en="Settling pharmacies' dispensations with medical insurance",
    name_zh_hans="药店医保结算",
    legal_basis="PIPL art. 13(3): legal duty; Social Insurance Law",
)

actions_register(
    "pharmacy",
    ("pharmacy.sessions.open", _("A pharmacy scanned your one-use QR code"), True),
    ("pharmacy.prescriptions.read", _("Your prescriptions were read at a pharmacy"), True),
    ("pharmacy.holders.read", _("Your name was shown at a pharmacy counter, to check that it was you"), True),
    ("pharmacy.dispensations.create", _("Drugs were dispensed to you"), False),
    ("pharmacy.dispensations.read", _("Your drug purchases were read"), True),
    ("pharmacy.settlements.export", _("Your drug purchases were settled with medical insurance"), True),
    ("pharmacy.flags.raise", _("An unusual pattern in your drug purchases was flagged"), False),
    ("pharmacy.flags.review", _("A flag on your drug purchases was reviewed"), False),
    *admin_actions("pharmacy.dispensations", _("Your drug purchases")),
    *admin_actions("pharmacy.flags", _("Flags on your drug purchases")),
)

service_register(
    Service(
        code="pharmacy",
        name_en="Drug purchase",
        name_zh_hans="购药",
        scopes=(
            Scope(
                PharmacyScope.PRESCRIPTIONS_READ,
                "Read the prescriptions presented at the counter",
                purposes=("drug-dispensing",),
            ),
            Scope(PharmacyScope.DISPENSE, "Dispense drugs against a prescription", purposes=("drug-dispensing",)),
        ),
        portal_section="pharmacy",
        api_urls="services.pharmacy.api.urls",
    )
)
