import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from portal.roles import ROLES, user_purposes
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PAGES = {
    "resident-list": "/admin/cards/resident/",
    "resident-add": "/admin/cards/resident/add/",
    "card-list": "/admin/cards/card/",
    "photo-list": "/admin/cards/residentphoto/",
    "photo-add": "/admin/cards/residentphoto/add/",
    "consent-list": "/admin/services_core/consent/",
    "proxy-list": "/admin/portal/proxygrant/",
    "proxy-add": "/admin/portal/proxygrant/add/",
    "agency-list": "/admin/services_core/agency/",
    "agency-key-add": "/admin/services_core/agencykey/add/",
    "groups": "/admin/auth/group/",
    "dashboard": "/admin/dashboard/",
    "worklists": "/admin/worklists/",
    "ledger-entries": "/admin/ledger/entry/",
    "ledger-verifications": "/admin/ledger/verificationrun/",
    "sealed-list": "/admin/ledger/sealedaccess/",
    "employment-list": "/admin/social_security/employment/",
    "contribution-list": "/admin/social_security/contribution/",
    "claim-list": "/admin/social_security/unemploymentclaim/",
    "visit-list": "/admin/health/visit/",
    "prescription-list": "/admin/health/prescription/",
    "dispensation-list": "/admin/pharmacy/dispensation/",
    "settlement-list": "/admin/pharmacy/settlementreport/",
    "flag-list": "/admin/pharmacy/suspiciouspatternflag/",
    "programme-list": "/admin/grants/programme/",
    "application-list": "/admin/grants/application/",
    "cycle-list": "/admin/grants/cycle/",
    "disbursement-list": "/admin/grants/disbursement/",
}

# The matrix of docs/roles.md: what each role may open; everything else is forbidden.
ALLOWED = {
    "registrar": {
        "resident-list",
        "resident-add",
        "photo-list",
        "photo-add",
        "consent-list",
        "proxy-list",
        "proxy-add",
        "worklists",
    },
    "card-officer": {"resident-list", "card-list", "photo-list", "photo-add", "dashboard", "worklists"},
    "social-security-officer": {"resident-list", "worklists", "employment-list", "contribution-list", "claim-list"},
    "health-officer": {"resident-list", "worklists", "visit-list", "prescription-list"},
    "pharmacy-regulator": {
        "agency-list",
        "dashboard",
        "worklists",
        "dispensation-list",
        "settlement-list",
        "flag-list",
    },
    "grants-reviewer": {"resident-list", "worklists", "programme-list", "application-list"},
    "grants-approver": {
        "resident-list",
        "dashboard",
        "worklists",
        "programme-list",
        "application-list",
        "cycle-list",
        "disbursement-list",
    },
    "auditor": {"dashboard", "worklists", "ledger-entries", "ledger-verifications", "sealed-list"},
    "sealing-authority": {"worklists", "sealed-list"},
    "agency-manager": {"agency-list", "agency-key-add", "dashboard", "worklists"},
    "superuser": set(PAGES),
}

MATRIX = [(role, page, page in ALLOWED[role]) for role in ALLOWED for page in PAGES]


def test_the_matrix_covers_every_role():
    assert set(ALLOWED) == set(ROLES)


@pytest.mark.parametrize(("role", "page", "allowed"), MATRIX, ids=[f"{r}-{p}" for r, p, _ in MATRIX])
def test_role_matrix(client, role, page, allowed):
    user = staff_create(role)
    admin_login(client, user)
    purposes = user_purposes(user)
    if purposes:
        purpose_state(client, purposes[0])

    response = client.get(PAGES[page])

    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code in (403, 404)


def test_every_role_that_sees_residents_can_state_a_purpose():
    for code in ROLES:
        user = staff_create(code)
        if user.has_perm("cards.view_resident"):
            assert user_purposes(user), code


def test_the_migration_made_every_role_group_with_its_permissions():
    registrar = Group.objects.get(name="registrar")

    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)
    assert set(registrar.permissions.values_list("codename", flat=True)) == {
        "view_resident",
        "add_resident",
        "change_resident",
        "view_residentphoto",
        "add_residentphoto",
        "change_residentphoto",
        "view_consent",
        "add_consent",
        "view_proxygrant",
        "add_proxygrant",
        "change_proxygrant",
    }


def test_roles_sync_restores_a_tampered_group():
    auditor = Group.objects.get(name="auditor")
    auditor.permissions.clear()

    call_command("roles_sync", stdout=io.StringIO())

    assert auditor.permissions.filter(codename="view_pendingentry").exists()


def test_the_auditor_group_holds_the_ledger_permissions():
    auditor = Group.objects.get(name="auditor")

    assert {"view_entry", "view_checkpoint", "view_verificationrun"} <= set(
        auditor.permissions.values_list("codename", flat=True)
    )
