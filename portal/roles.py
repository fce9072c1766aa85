"""Staff roles: one Django group each, with the least privilege the job needs.

``ROLES`` is the single declarative table. A service that adds models extends
a role with ``role_extend`` in its ``AppConfig.ready()`` (or edits the table)
and ships a migration calling ``roles_sync``; ``manage.py roles_sync`` does
the same by hand. Permissions of models that do not exist yet are skipped, so
the table may name models of services still to come. docs/roles.md explains
each role.
"""

from dataclasses import dataclass, field

from django.apps import apps as global_apps


@dataclass
class Role:
    code: str
    title: str
    summary: str
    # "app_label.codename" model permissions.
    permissions: list[str] = field(default_factory=list)
    # Purposes this role may state for a working session (registered ones are offered).
    purposes: list[str] = field(default_factory=list)
    # Dashboard access (aggregates only, small cells suppressed).
    dashboard: bool = False


def _model_permissions(model: str, *verbs: str) -> list[str]:
    app_label, model_name = model.split(".")
    return [f"{app_label}.{verb}_{model_name}" for verb in verbs]


SUPERUSER = "superuser"

ROLES: dict[str, Role] = {
    role.code: role
    for role in [
        Role(
            code="registrar",
            title="Registrar",
            summary="Registers residents, corrects their register entry and records consents given on paper.",
            permissions=[
                *_model_permissions("cards.resident", "view", "add", "change"),
                *_model_permissions("cards.residentphoto", "view", "add", "change"),
                *_model_permissions("services_core.consent", "view", "add"),
                *_model_permissions("portal.proxygrant", "view", "add", "change"),
            ],
            purposes=["registration", "consent-management"],
        ),
        Role(
            code="card-officer",
            title="Card officer",
            summary="Issues, suspends, resumes, revokes and reissues cards; works card requests and lost cards.",
            permissions=[
                *_model_permissions("cards.resident", "view"),
                *_model_permissions("cards.card", "view", "add", "change"),
                *_model_permissions("cards.residentphoto", "view", "add", "change"),
            ],
            purposes=["card-administration", "access-report-investigation"],
            dashboard=True,
        ),
        Role(
            code="social-security-officer",
            title="Social security officer",
            summary="Finds residents, reads employment and contributions, and decides unemployment benefit claims.",
            permissions=[
                *_model_permissions("cards.resident", "view"),
                *_model_permissions("social_security.employment", "view"),
                *_model_permissions("social_security.contribution", "view"),
                *_model_permissions("social_security.unemploymentclaim", "view", "change"),
            ],
            purposes=["benefit-eligibility", "benefit-administration", "social-security-administration"],
        ),
        Role(
            code="health-officer",
            title="Health officer",
            summary="Finds residents, reads visits, and manages (cancels) prescriptions.",
            permissions=[
                *_model_permissions("cards.resident", "view"),
                *_model_permissions("health.visit", "view"),
                *_model_permissions("health.prescription", "view", "change"),
            ],
            purposes=["medical-treatment", "health-administration"],
        ),
        Role(
            code="pharmacy-regulator",
            title="Pharmacy regulator",
            summary="Sees dispensations, settlements and suspicious-pattern flags; sets controlled and OTC limits.",
            permissions=[
                *_model_permissions("services_core.agency", "view"),
                *_model_permissions("pharmacy.controlledcap", "view", "add", "change"),
                *_model_permissions("pharmacy.otcrestriction", "view", "add", "change"),
                *_model_permissions("pharmacy.otcproduct", "view", "add", "change"),
                *_model_permissions("pharmacy.dispensation", "view"),
                *_model_permissions("pharmacy.settlementreport", "view"),
                *_model_permissions("pharmacy.suspiciouspatternflag", "view", "change"),
            ],
            purposes=["pharmacy-regulation"],
            dashboard=True,
        ),
        Role(
            code="grants-reviewer",
            title="Grants reviewer",
            summary="Reviews grant applications (first pair of eyes) and sees duplicate-phone and payout flags.",
            permissions=[
                *_model_permissions("cards.resident", "view"),
                *_model_permissions("grants.programme", "view"),
                *_model_permissions("grants.application", "view"),
                "grants.review_application",
            ],
            purposes=["grant-review"],
        ),
        Role(
            code="grants-approver",
            title="Grants approver",
            summary="Sets up programmes, approves reviewed applications (second pair of eyes), runs disbursement.",
            permissions=[
                *_model_permissions("cards.resident", "view"),
                *_model_permissions("grants.programme", "view", "add", "change"),
                *_model_permissions("grants.cycle", "view", "add", "change"),
                *_model_permissions("grants.application", "view"),
                *_model_permissions("grants.disbursement", "view"),
                "grants.approve_application",
                "grants.run_disbursement",
                "grants.approve_cycle",
            ],
            purposes=["grant-review", "grant-administration"],
            dashboard=True,
        ),
        Role(
            code="auditor",
            title="Auditor",
            summary="Reads the ledger, checkpoints and verification runs, and answers unrecognised-access reports.",
            permissions=[
                *_model_permissions("ledger.pendingentry", "view"),
                *_model_permissions("ledger.entry", "view"),
                *_model_permissions("ledger.checkpoint", "view"),
                *_model_permissions("ledger.cosignature", "view"),
                *_model_permissions("ledger.witness", "view"),
                *_model_permissions("ledger.verificationrun", "view"),
                "ledger.run_verification",
                *_model_permissions("ledger.alert", "view"),
                *_model_permissions("ledger.sealedaccess", "view"),
                *_model_permissions("portal.accessreport", "view", "change"),
            ],
            purposes=["ledger-audit", "access-report-investigation"],
            dashboard=True,
        ),
        Role(
            code="sealing-authority",
            title="Sealing authority",
            summary="Records an access made for a lawful investigation as sealed: counted in the resident's log at "
            "once, its details withheld until the date set, under a recorded legal reference.",
            permissions=[*_model_permissions("ledger.sealedaccess", "view")],
            purposes=["sealed-investigation"],
        ),
        Role(
            code="agency-manager",
            title="Agency manager",
            summary="Manages partner agencies, their scopes, purposes and API keys; sees no resident data.",
            permissions=[
                *_model_permissions("services_core.agency", "view", "add", "change"),
                *_model_permissions("services_core.agencyscope", "view", "add", "change", "delete"),
                *_model_permissions("services_core.agencypurpose", "view", "add", "change", "delete"),
                *_model_permissions("services_core.agencykey", "view", "add", "change"),
            ],
            purposes=["partner-administration"],
            dashboard=True,
        ),
        Role(
            code=SUPERUSER,
            title="Superuser",
            summary="Django superuser (is_superuser): every permission. For the few who run the system.",
            permissions=[],
            purposes=[],
            dashboard=True,
        ),
    ]
}


def role_extend(code: str, *, permissions: list[str] = (), purposes: list[str] = ()) -> Role:
    """Add PERMISSIONS and PURPOSES to role CODE (for services that add models); run roles_sync after."""
    role = ROLES[code]
    role.permissions.extend(p for p in permissions if p not in role.permissions)
    role.purposes.extend(p for p in purposes if p not in role.purposes)
    return role


def roles_sync(apps=None) -> dict[str, int]:
    """Create each role's group and set its permissions to exactly those of the table that exist.

    APPS is a migration's historical registry, or None for the live one.
    Return the number of permissions each group now holds.
    """
    apps = apps or global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    result = {}
    for role in ROLES.values():
        group, _ = Group.objects.get_or_create(name=role.code)
        wanted = []
        for name in role.permissions:
            app_label, codename = name.split(".", 1)
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        result[role.code] = len(wanted)
    return result


def roles_sync_migration(apps, schema_editor=None) -> None:
    """Make the permissions of every model in APPS now (not after migrate), then sync the roles; for migrations."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps)


def user_roles(user) -> list[str]:
    """Return the role codes of USER: its groups that are roles, plus superuser."""
    codes = [name for name in user.groups.values_list("name", flat=True) if name in ROLES]
    if user.is_superuser and SUPERUSER not in codes:
        codes.append(SUPERUSER)
    return sorted(codes)


def user_purposes(user) -> list[str]:
    """Return the purposes USER may state for a working session, in table order."""
    from ledger.api import purposes_all

    registered = {purpose.code for purpose in purposes_all()}
    codes = user_roles(user)
    if SUPERUSER in codes:
        wanted = [purpose for role in ROLES.values() for purpose in role.purposes]
    else:
        wanted = [purpose for code in codes for purpose in ROLES[code].purposes]
    seen = []
    for purpose in wanted:
        if purpose in registered and purpose not in seen:
            seen.append(purpose)
    return seen


def user_may_see_dashboard(user) -> bool:
    """Return whether USER's roles include the aggregate dashboard."""
    return any(ROLES[code].dashboard for code in user_roles(user))
