"""The service catalogue: every service, its scopes, purposes, portal section, API routes and admin.

The portal and the gateway read this catalogue instead of naming services
themselves. A service sub-app adds itself with ``service_register`` in its
``purposes.py`` (imported at start-up by the ledger app); the entries below
describe the services whose sub-apps are still to come, so that agencies can
be granted their scopes today.
"""

from dataclasses import dataclass, field

from ledger.api import purpose_register


@dataclass(frozen=True)
class Scope:
    """A permission an agency can be granted, e.g. ``residents:verify``."""

    code: str
    description: str
    consent_required: bool = False


@dataclass(frozen=True)
class PurposeDefinition:
    """A purpose an access may be made for, the law that allows it, and the scopes it may be used with."""

    code: str
    name_en: str
    name_zh_hans: str
    legal_basis: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    """One service of the portal and the partner API."""

    code: str
    name_en: str
    name_zh_hans: str
    scopes: tuple[Scope, ...] = ()
    purposes: tuple[PurposeDefinition, ...] = ()
    portal_section: str = ""
    api_routes: tuple[str, ...] = ()
    api_urls: str = ""  # dotted path of a urlconf the gateway mounts under /api/v1/
    admin_models: tuple[str, ...] = field(default=())


_services: dict[str, Service] = {}


def service_register(service: Service) -> Service:
    """Add SERVICE to the catalogue; a second registration of the same code replaces the first.

    A purpose may name scopes of services registered later; tests check that
    every scope a purpose names exists once all services are in.
    """
    _services[service.code] = service
    for purpose in service.purposes:
        purpose_register(purpose.code, f"{purpose.name_en}. Legal basis: {purpose.legal_basis}")
    return service


def services_all() -> list[Service]:
    """Return every registered service in registration order."""
    return list(_services.values())


def service_get(code: str) -> Service:
    """Return the service CODE, or raise KeyError."""
    return _services[code]


def scopes_all() -> dict[str, Scope]:
    """Return every scope of every service, by code."""
    return {scope.code: scope for service in _services.values() for scope in service.scopes}


def purposes_all() -> dict[str, PurposeDefinition]:
    """Return every purpose of every service, by code; scopes of a purpose named twice are merged."""
    merged: dict[str, PurposeDefinition] = {}
    for service in _services.values():
        for purpose in service.purposes:
            if purpose.code in merged:
                earlier = merged[purpose.code]
                scopes = earlier.scopes + tuple(s for s in purpose.scopes if s not in earlier.scopes)
                merged[purpose.code] = PurposeDefinition(
                    code=earlier.code,
                    name_en=earlier.name_en,
                    name_zh_hans=earlier.name_zh_hans,
                    legal_basis=earlier.legal_basis,
                    scopes=scopes,
                )
            else:
                merged[purpose.code] = purpose
    return merged


def scope_choices() -> list[tuple[str, str]]:
    """Return (code, description) pairs for form fields."""
    return [(code, f"{code}: {scope.description}") for code, scope in sorted(scopes_all().items())]


def purpose_choices() -> list[tuple[str, str]]:
    """Return (code, name) pairs for form fields."""
    return [(code, f"{code}: {purpose.name_en}") for code, purpose in sorted(purposes_all().items())]


def purpose_allows_scope(purpose: str, scope: str) -> bool:
    """Return whether PURPOSE may be used with SCOPE."""
    definition = purposes_all().get(purpose)
    return definition is not None and scope in definition.scopes


# PIPL = Personal Information Protection Law of the PRC.
_IDENTITY = PurposeDefinition(
    code="identity-verification",
    name_en="Identity verification",
    name_zh_hans="身份核验",
    legal_basis="PIPL art. 13(1) consent of the resident; Anti-Money Laundering Law (customer due diligence)",
    scopes=("residents:verify", "cards:verify"),
)
_FACE_TO_FACE = PurposeDefinition(
    code="face-to-face-identification",
    name_en="Identifying the cardholder face to face",
    name_zh_hans="当面核验持卡人身份",
    legal_basis=(
        "PIPL art. 13(1) and 29: the resident's consent, given by presenting their one-use QR code at the counter; "
        "Drug Administration Law (dispensing to the patient named on the prescription)"
    ),
    scopes=("cards:verify", "cards:photo"),
)
_TREATMENT = PurposeDefinition(
    code="medical-treatment",
    name_en="Medical treatment",
    name_zh_hans="医疗诊治",
    legal_basis="PIPL art. 13(4): necessary to protect life and health; Basic Medical and Health Care Law",
    scopes=("cards:verify", "health:visits:read", "health:visits:write", "health:prescriptions:write"),
)
_DISPENSING = PurposeDefinition(
    code="drug-dispensing",
    name_en="Dispensing prescribed drugs",
    name_zh_hans="处方药调配",
    legal_basis="PIPL art. 13(3): legal duty; Drug Administration Law",
    scopes=("cards:verify", "pharmacy:prescriptions:read", "pharmacy:dispense"),
)
_CONTRIBUTIONS = PurposeDefinition(
    code="contribution-reporting",
    name_en="Reporting social insurance contributions",
    name_zh_hans="社会保险缴费申报",
    legal_basis="PIPL art. 13(3): legal duty; Social Insurance Law",
    scopes=("social-security:contributions:write", "cards:verify"),
)
_ELIGIBILITY = PurposeDefinition(
    code="benefit-eligibility",
    name_en="Checking eligibility for a benefit or grant",
    name_zh_hans="待遇与补助资格审核",
    legal_basis="PIPL art. 13(3): legal duty; Social Insurance Law",
    scopes=("social-security:eligibility:read", "grants:eligibility:read"),
)
_CLAIMS = PurposeDefinition(
    code="insurance-claims",
    name_en="Settling an insurance claim",
    name_zh_hans="保险理赔",
    legal_basis="PIPL art. 13(1) consent of the resident; PIPL art. 13(2) contract with the resident",
    scopes=("health:visits:read", "cards:verify"),
)
_AUDIT = PurposeDefinition(
    code="ledger-audit",
    name_en="Auditing the access ledger",
    name_zh_hans="访问记录审计",
    legal_basis="PIPL art. 54: compliance audits",
    scopes=("ledger:audit",),
)
_WITNESS = PurposeDefinition(
    code="ledger-witnessing",
    name_en="Witnessing ledger checkpoints",
    name_zh_hans="见证访问记录检查点",
    legal_basis="PIPL art. 54: compliance audits",
    scopes=("ledger:witness",),
)

service_register(
    Service(
        code="residents",
        name_en="Resident register",
        name_zh_hans="居民登记",
        scopes=(Scope("residents:verify", "Check a national ID and name against the register", consent_required=True),),
        purposes=(_IDENTITY,),
        api_routes=("/api/v1/agency", "/api/v1/consents", "/api/v1/residents/verify"),
        api_urls="services.core.api.urls",
        admin_models=("cards.Resident", "services_core.Agency", "services_core.Consent"),
    )
)
service_register(
    Service(
        code="cards",
        name_en="One card",
        name_zh_hans="一卡通",
        scopes=(
            Scope("cards:verify", "Verify a card's QR code and status"),
            Scope("cards:photo", "See the cardholder's photo to identify them face to face (each view is recorded)"),
        ),
        purposes=(_IDENTITY, _FACE_TO_FACE),
        portal_section="cards",
        api_routes=("/api/v1/cards/verify", "/api/v1/cards/presentations/verify"),
        admin_models=("cards.Card",),
    )
)
service_register(
    Service(
        code="social_security",
        name_en="Social security",
        name_zh_hans="社会保障",
        scopes=(
            Scope("social-security:contributions:write", "Report an employee's contributions"),
            Scope("social-security:eligibility:read", "Check eligibility for a social security benefit"),
        ),
        purposes=(_CONTRIBUTIONS, _ELIGIBILITY),
        portal_section="social-security",
        api_routes=("/api/v1/social-security/",),
    )
)
service_register(
    Service(
        code="health",
        name_en="Health",
        name_zh_hans="医疗健康",
        scopes=(
            Scope("health:visits:read", "Read a resident's visits", consent_required=True),
            Scope("health:visits:write", "Record a visit"),
            Scope("health:prescriptions:write", "Issue a prescription"),
        ),
        purposes=(_TREATMENT, _CLAIMS),
        portal_section="health",
        api_routes=("/api/v1/health/",),
    )
)
service_register(
    Service(
        code="pharmacy",
        name_en="Drug purchase",
        name_zh_hans="购药",
        scopes=(
            Scope("pharmacy:prescriptions:read", "Read the prescriptions presented at the counter"),
            Scope("pharmacy:dispense", "Dispense drugs against a prescription"),
        ),
        purposes=(_DISPENSING,),
        portal_section="pharmacy",
        api_routes=("/api/v1/pharmacy/",),
    )
)
service_register(
    Service(
        code="grants",
        name_en="Grants",
        name_zh_hans="补助",
        scopes=(Scope("grants:eligibility:read", "Check a resident's eligibility for a grant"),),
        purposes=(_ELIGIBILITY,),
        portal_section="grants",
        api_routes=("/api/v1/grants/",),
    )
)
service_register(
    Service(
        code="ledger",
        name_en="Access ledger",
        name_zh_hans="访问记录",
        scopes=(
            Scope("ledger:audit", "Read ledger entries and inclusion proofs"),
            Scope("ledger:witness", "Cosign ledger checkpoints"),
        ),
        purposes=(_AUDIT, _WITNESS),
        portal_section="access-history",
        api_routes=("/api/v1/ledger/",),
    )
)
