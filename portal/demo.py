"""Demo data for the embedded default: residents, caseworkers, and (as they land) cards and agencies.

Every function here is idempotent: it finds what an earlier run made and
resets passwords instead of adding duplicates.
"""

import base64
import io

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from cards.actions import (
    card_activate,
    card_activation_code_create,
    card_issue,
    card_token_static,
    resident_photo_set,
    resident_register,
)
from cards.models import Card
from cards.national_id import check_character
from cards.selectors import resident_get_by_national_id, resident_photo_approved
from portal.models import TOTPDevice
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
    {"username": "sealing.authority", "roles": ["sealing-authority"]},
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
        if resident_photo_approved(resident=resident) is None:
            resident_photo_set(resident=resident, data=demo_photo(len(out)))
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


DEMO_PHOTO_BACKGROUNDS = [(214, 228, 240), (236, 226, 214), (222, 236, 220)]
DEMO_PHOTO_TONES = [(224, 187, 160), (205, 160, 130), (238, 200, 175)]


def demo_photo(index: int) -> bytes:
    """Draw a demo portrait (a head and shoulders silhouette) with Pillow: no downloaded image."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 640), DEMO_PHOTO_BACKGROUNDS[index % 3])
    draw = ImageDraw.Draw(image)
    tone = DEMO_PHOTO_TONES[index % 3]
    draw.ellipse((60, 440, 420, 820), fill=(40 + 40 * (index % 3), 60, 90))  # shoulders
    draw.rectangle((200, 360, 280, 470), fill=tone)  # neck
    draw.ellipse((140, 130, 340, 390), fill=tone)  # face
    draw.chord((130, 100, 350, 300), 180, 360, fill=(30, 25, 20))  # hair
    draw.ellipse((185, 240, 205, 256), fill=(30, 30, 30))
    draw.ellipse((275, 240, 295, 256), fill=(30, 30, 30))
    draw.arc((205, 290, 275, 340), 20, 160, fill=(150, 60, 60), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


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
        device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
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
        # The demo logins are printed: this is their enrolment moment, the one time the key is shown.
        totp_secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        out.append(
            {"username": user.username, "password": STAFF_PASSWORD, "roles": spec["roles"], "totp_secret": totp_secret}
        )
    return out


DEMO_AGENCIES = [
    {
        "kind": "hospital",
        "name_en": "Demo General Hospital",
        "name_zh_hans": "演示综合医院",
        "scopes": [
            "cards:verify",
            "health:visits:read",
            "health:visits:write",
            "health:prescriptions:write",
            "health:coverage:read",
        ],
        "purposes": ["medical-treatment"],
    },
    {
        "kind": "pharmacy",
        "name_en": "Demo Pharmacy",
        "name_zh_hans": "演示药房",
        "scopes": ["cards:verify", "cards:photo", "pharmacy:prescriptions:read", "pharmacy:dispense"],
        "purposes": ["drug-dispensing", "face-to-face-identification"],
    },
    {
        "kind": "employer",
        "name_en": "Demo Manufacturing Ltd",
        "name_zh_hans": "演示制造有限公司",
        "scopes": ["cards:verify", "social-security:contributions:write", "social-security:employments:write"],
        "purposes": ["contribution-reporting"],
    },
    {
        "kind": "bank",
        "name_en": "Demo Bank",
        "name_zh_hans": "演示银行",
        "scopes": [
            "cards:verify",
            "residents:verify",
            "checks:insured-medical",
            "checks:contribution-months",
            "grants:disbursements",
            "social-security:statement:read",
            "matching:active-card",
            "matching:insured-months",
        ],
        "purposes": ["identity-verification", "credit-assessment", "grant-disbursement"],
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


# Social security and health histories (issue 6). Employers past and present; the
# demo-employer agency is the current one and holds the API key.
FORMER_EMPLOYERS = [
    {"code": "demo-employer-textiles", "name_en": "Demo Textiles Co.", "name_zh_hans": "演示纺织有限公司"},
    {"code": "demo-employer-logistics", "name_en": "Demo Logistics Co.", "name_zh_hans": "演示物流有限公司"},
]
# username: [(employer code, first month, last month or None for ongoing, monthly base)]
DEMO_CAREERS = {
    "li.wei": [
        ("demo-employer-textiles", (2016, 3), (2019, 8), "6500.00"),
        ("demo-employer-logistics", (2019, 9), (2022, 12), "8200.00"),
        ("demo-employer", (2023, 1), None, "11000.00"),
    ],
    "wang.fang": [
        ("demo-employer-logistics", (2021, 6), (2023, 5), "7000.00"),
        ("demo-employer", (2023, 6), None, "9000.00"),
    ],
    "zhang.min": [("demo-employer-textiles", (2022, 1), (2024, 2), "5600.00")],
}
# (insurance, employer rate, employee rate) of the contribution base.
DEMO_RATES = [
    ("pension", "0.16", "0.08"),
    ("medical", "0.09", "0.02"),
    ("unemployment", "0.005", "0.005"),
    ("work_injury", "0.004", "0"),
    ("maternity", "0.008", "0"),
]


@transaction.atomic
def seed_services(*, residents: list[dict]) -> None:
    """Give the demo residents employers, contributions, visits and prescriptions, once; refresh the bank's consents."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from services.health.actions import prescription_issue, visit_record
    from services.health.models import Visit
    from services.social_security.actions import (
        contributions_report,
        employments_report,
        unemployment_claim_submit,
    )
    from services.social_security.months import month_add, month_label
    from services.social_security.selectors import contribution_month_count

    employers = {}
    for spec in FORMER_EMPLOYERS:
        agency = Agency.objects.filter(code=spec["code"]).first() or agency_create(kind="employer", **spec)
        employers[agency.code] = agency
    employers["demo-employer"] = Agency.objects.get(code="demo-employer")
    hospital = Agency.objects.get(code="demo-hospital")
    bank = Agency.objects.get(code="demo-bank")
    last_month = month_add(timezone.localdate().replace(day=1), -1)
    today = timezone.localdate()
    for citizen in residents:
        resident, national_id = citizen["resident"], citizen["national_id"]
        for scope in (
            "checks:insured-medical",
            "checks:contribution-months",
            "social-security:statement:read",
            "matching:insured-months",
        ):
            if not consent_active_exists(resident=resident, agency=bank, scope=scope, purpose="credit-assessment"):
                consent_grant(resident=resident, agency=bank, scope=scope, purpose="credit-assessment")
        if contribution_month_count(resident=resident) == 0:
            for code, (first_year, first_month), last, base in DEMO_CAREERS.get(citizen["username"], []):
                first = datetime.date(first_year, first_month, 1)
                final = datetime.date(last[0], last[1], 1) if last else last_month
                ended_on = month_add(final, 1) - datetime.timedelta(days=1) if last else None
                employments_report(
                    employer=employers[code],
                    items=[
                        {
                            "national_id": national_id,
                            "started_on": first.isoformat(),
                            "ended_on": ended_on and ended_on.isoformat(),
                        }
                    ],
                )
                months, month = [], first
                while month <= final:
                    months.append(month)
                    month = month_add(month, 1)
                contributions_report(
                    employer=employers[code],
                    items=[
                        {
                            "national_id": national_id,
                            "month": month_label(month),
                            "base": base,
                            "contributions": {
                                insurance: {
                                    "employer": str((Decimal(base) * Decimal(employer_rate)).quantize(Decimal("0.01"))),
                                    "employee": str((Decimal(base) * Decimal(employee_rate)).quantize(Decimal("0.01"))),
                                }
                                for insurance, employer_rate, employee_rate in DEMO_RATES
                            },
                        }
                        for month in months
                    ],
                )
            if citizen["username"] == "zhang.min":
                unemployment_claim_submit(
                    resident=resident, unemployed_since=datetime.date(2024, 3, 1), reason="Factory closed"
                )
        if not Visit.objects.filter(resident=resident, hospital=hospital).exists():
            flu = visit_record(
                hospital=hospital,
                resident=resident,
                visited_on=today - datetime.timedelta(days=40),
                icd10_code="J11.1",
                diagnosis="Influenza with other respiratory manifestations",
                cost=Decimal("420.00"),
            )
            checkup = visit_record(
                hospital=hospital,
                resident=resident,
                visited_on=today - datetime.timedelta(days=5),
                icd10_code="E11.9",
                diagnosis="Type 2 diabetes mellitus without complications",
                cost=Decimal("860.00"),
            )
            common = {"hospital": hospital, "resident": resident, "prescriber": "Dr. Chen Jing"}
            prescription_issue(
                **common,
                visit_id=flu.pk,
                drug_code="86900745000157",
                drug_name="Oseltamivir",
                strength="75 mg",
                form="capsule",
                quantity=10,
                max_days_supply=5,
                valid_until=today + datetime.timedelta(days=3),
            )
            prescription_issue(
                **common,
                visit_id=checkup.pk,
                drug_code="86901234000012",
                drug_name="Metformin hydrochloride",
                strength="500 mg",
                form="tablet",
                quantity=60,
                repeats_allowed=5,
                min_fill_interval_days=25,
                max_days_supply=30,
                valid_until=today + datetime.timedelta(days=180),
            )
            prescription_issue(
                **common,
                visit_id=checkup.pk,
                drug_code="86903456000078",
                drug_name="Zolpidem tartrate",
                strength="10 mg",
                form="tablet",
                quantity=7,
                max_days_supply=7,
                controlled_class="psychotropic_2",
                valid_until=today + datetime.timedelta(days=3),
            )


def seed_witness_round() -> str:
    """Seal the demo log and have the policy's witnesses cosign it; return what happened."""
    from ledger.api import log_seal

    sealed = log_seal()
    said = "; ".join(f"{outcome.witness} {outcome.status} {outcome.detail}".strip() for outcome in sealed["witnesses"])
    return f"published tree size {sealed['published_size']} of {sealed['tree_size']} ({said or 'no witness'})"


DEMO_PROGRAMME = "demo-winter-heating"


def seed_grants(*, residents: list[dict]):
    """Open one demo grants programme paid by the demo bank, with applications eligible and under review; once."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from services.grants import actions as grants
    from services.grants.models import Application, Programme

    today = timezone.localdate()
    programme = Programme.objects.filter(code=DEMO_PROGRAMME).first() or Programme(
        code=DEMO_PROGRAMME, name_en="Winter heating allowance", name_zh_hans="冬季取暖补贴", age_min=18
    )
    programme.opens_on = min(programme.opens_on or today, today - datetime.timedelta(days=30))
    programme.closes_on = max(programme.closes_on or today, today + datetime.timedelta(days=60))
    programme.paying_agency = Agency.objects.get(code="demo-bank")
    programme.amount_base = Decimal("800.00")
    programme.two_approvers_above = Decimal("5000.00")
    programme.budget_cap = max(Decimal("100000.00"), programme.budget_committed or 0)
    grants.programme_save(programme=programme)
    reviewer = get_user_model().objects.get(username="grants.reviewer")
    for position, citizen in enumerate(residents[:2]):
        resident = citizen["resident"]
        if Application.objects.filter(programme=programme, resident=resident).exists():
            continue
        application = grants.application_apply(
            programme=programme, resident=resident, payout_account=f"62220202000012345{position:02d}"
        )
        application = grants.application_assess(application=application)
        if position == 0 and application.status == Application.Status.ELIGIBLE:
            grants.application_review_start(application=application, user=reviewer)
    return programme
