"""Demo data for the embedded default: residents, caseworkers, and (as they land) cards and agencies.

Every function here is idempotent: it finds what an earlier run made and
resets passwords instead of adding duplicates.
"""

import base64
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from cards.actions import card_activate, card_activation_code_create, card_issue, resident_register
from cards.models import Card
from cards.national_id import check_character
from cards.selectors import card_token_static, resident_get_by_national_id
from portal.roles import roles_sync
from services.core.actions import agency_create, agency_grants_set, agency_key_issue, agency_key_revoke, consent_grant
from services.core.models import Agency
from services.core.selectors import agency_purposes, agency_scopes, consent_active_exists

RESIDENT_PASSWORD = "onecard-resident"
STAFF_PASSWORD = "onecard-staff"

DEMO_RESIDENTS = [
    {"username": "li.wei", "first17": "11010519900307123", "full_name": "李伟", "phone": "13800138001"},
    {"username": "wang.fang", "first17": "31010119850612456", "full_name": "王芳", "phone": "13800138002"},
    {"username": "zhang.min", "first17": "44010619880921002", "full_name": "张敏", "phone": "13800138003"},
]

DEMO_CASEWORKERS = [
    {"username": "admin", "roles": ["superuser"], "is_superuser": True},
    # One caseworker per role of portal/roles.py, named after it.
    {"username": "registrar", "roles": ["registrar"]},
    {"username": "card.officer", "roles": ["card-officer"]},
    {"username": "social.security", "roles": ["social-security-officer"]},
    {"username": "health.officer", "roles": ["health-officer"]},
    {"username": "pharmacy.regulator", "roles": ["pharmacy-regulator"]},
    {"username": "grants.reviewer", "roles": ["grants-reviewer"]},
    {"username": "grants.approver", "roles": ["grants-approver"]},
    {"username": "auditor", "roles": ["auditor"]},
    {"username": "agency.manager", "roles": ["agency-manager"]},
]


def demo_national_id(first17: str) -> str:
    return first17 + check_character(first17)


@transaction.atomic
def seed_residents() -> list[dict]:
    """Create or refresh the demo residents and their logins."""
    User = get_user_model()
    out = []
    for spec in DEMO_RESIDENTS:
        national_id = demo_national_id(spec["first17"])
        user, _ = User.objects.get_or_create(
            username=spec["username"], defaults={"email": f"{spec['username']}@example.org"}
        )
        user.set_password(RESIDENT_PASSWORD)
        user.is_staff = False
        user.save()
        resident = resident_get_by_national_id(national_id=national_id)
        if resident is None:
            resident = resident_register(
                national_id=national_id,
                full_name=spec["full_name"],
                phone=spec["phone"],
                email=f"{spec['username']}@example.org",
                user=user,
            )
        card = seed_card(resident)
        out.append(
            {
                "username": user.username,
                "password": RESIDENT_PASSWORD,
                "national_id": national_id,
                "resident": resident,
                "card_number": card.number,
                "card_token": card_token_static(card=card),
            }
        )
    return out


def seed_card(resident) -> Card:
    """Return the resident's active card, issuing and activating one if needed."""
    card = resident.cards.filter(status__in=[Card.Status.ACTIVE, Card.Status.PENDING]).order_by("-id").first()
    if card is None:
        card = card_issue(resident=resident, notify=False)
    if card.status == Card.Status.PENDING:
        card = card_activate(card=card, code=card_activation_code_create(card=card))
    return card


def _totp_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, name="demo").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo", key=secrets.token_hex(20), confirmed=True)
    return device


@transaction.atomic
def seed_caseworkers() -> list[dict]:
    """Create or refresh the demo caseworkers, each with a confirmed TOTP device."""
    User = get_user_model()
    roles_sync()
    out = []
    for spec in DEMO_CASEWORKERS:
        user, _ = User.objects.get_or_create(
            username=spec["username"], defaults={"email": f"{spec['username']}@onecard.invalid"}
        )
        user.set_password(STAFF_PASSWORD)
        user.is_staff = True
        user.is_superuser = spec.get("is_superuser", False)
        user.save()
        user.groups.set(Group.objects.filter(name__in=spec["roles"]))
        device = _totp_device(user)
        totp_secret = base64.b32encode(bytes.fromhex(device.key)).decode().rstrip("=")
        out.append(
            {"username": user.username, "password": STAFF_PASSWORD, "roles": spec["roles"], "totp_secret": totp_secret}
        )
    return out


DEMO_AGENCIES = [
    {
        "kind": "hospital",
        "name_en": "Demo General Hospital",
        "name_zh_hans": "演示综合医院",
        "scopes": ["cards:verify", "health:visits:read", "health:visits:write", "health:prescriptions:write"],
        "purposes": ["medical-treatment"],
    },
    {
        "kind": "pharmacy",
        "name_en": "Demo Pharmacy",
        "name_zh_hans": "演示药房",
        "scopes": ["cards:verify", "pharmacy:prescriptions:read", "pharmacy:dispense"],
        "purposes": ["drug-dispensing"],
    },
    {
        "kind": "employer",
        "name_en": "Demo Manufacturing Ltd",
        "name_zh_hans": "演示制造有限公司",
        "scopes": ["cards:verify", "social-security:contributions:write"],
        "purposes": ["contribution-reporting"],
    },
    {
        "kind": "bank",
        "name_en": "Demo Bank",
        "name_zh_hans": "演示银行",
        "scopes": ["cards:verify", "residents:verify"],
        "purposes": ["identity-verification"],
    },
    {
        "kind": "insurer",
        "name_en": "Demo Insurance",
        "name_zh_hans": "演示保险",
        "scopes": ["cards:verify", "health:visits:read"],
        "purposes": ["insurance-claims", "identity-verification"],
    },
    {
        "kind": "government",
        "name_en": "Demo Civil Affairs Bureau",
        "name_zh_hans": "演示民政局",
        "scopes": ["cards:verify", "social-security:eligibility:read", "grants:eligibility:read"],
        "purposes": ["benefit-eligibility", "identity-verification"],
    },
    {
        "kind": "auditor",
        "name_en": "Demo Audit Office",
        "name_zh_hans": "演示审计署",
        "scopes": ["ledger:audit"],
        "purposes": ["ledger-audit"],
    },
    {
        "kind": "witness",
        "name_en": "Demo Witness",
        "name_zh_hans": "演示见证方",
        "scopes": ["ledger:witness"],
        "purposes": ["ledger-witnessing"],
    },
]


@transaction.atomic
def seed_agencies(*, residents: list) -> list[dict]:
    """Create or refresh one demo agency of each kind with a fresh key; the residents consent to the bank."""
    out = []
    for spec in DEMO_AGENCIES:
        code = f"demo-{spec['kind']}"
        agency = Agency.objects.filter(code=code).first()
        if agency is None:
            agency = agency_create(
                code=code,
                name_en=spec["name_en"],
                name_zh_hans=spec["name_zh_hans"],
                kind=spec["kind"],
                scopes=tuple(spec["scopes"]),
                purposes=tuple(spec["purposes"]),
            )
        else:
            agency_grants_set(agency=agency, scopes=tuple(spec["scopes"]), purposes=tuple(spec["purposes"]))
        for old in agency.keys.filter(revoked=False):
            agency_key_revoke(key=old)
        _key, secret = agency_key_issue(agency=agency, name="demo")
        if "residents:verify" in spec["scopes"]:
            for resident in residents:
                if not consent_active_exists(
                    resident=resident, agency=agency, scope="residents:verify", purpose="identity-verification"
                ):
                    consent_grant(
                        resident=resident, agency=agency, scope="residents:verify", purpose="identity-verification"
                    )
        out.append(
            {
                "code": agency.code,
                "api_key": secret,
                "scopes": agency_scopes(agency=agency),
                "purposes": agency_purposes(agency=agency),
            }
        )
    return out
