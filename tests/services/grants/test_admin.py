"""A caseworker runs a programme from creation to reconciled payments through the admin, never the shell."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from cards.models import CardPayment
from ledger.api import Actor, access_context, actor_pseudonym
from services.grants import actions
from services.grants.models import Application, Cycle, Disbursement, Programme
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.grants import ProgrammeFactory, apply, assess
from tests.factories.services import entries
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def caseworker_client(role: str, purpose: str = "grant-review"):
    """Return (user, client) for a ROLE caseworker logged into the admin with PURPOSE stated."""
    user, client = staff_create(role), Client()
    admin_login(client, user)
    purpose_state(client, purpose)
    return user, client


def decide(client, application, decision, reason=""):
    return client.post(f"/admin/grants/application/{application.pk}/decide/", {"decision": decision, "reason": reason})


def test_a_programme_runs_from_creation_to_reconciled_payments_in_the_admin(django_capture_on_commit_callbacks):
    manager, manager_client = caseworker_client("grants-approver", "grant-administration")
    _reviewer, reviewer_client = caseworker_client("grants-reviewer")
    approver, approver_client = caseworker_client("grants-approver")
    bank = AgencyFactory(kind="bank")
    today = timezone.localdate()
    created = manager_client.post(
        "/admin/grants/programme/add/",
        {
            "code": "heating",
            "name_en": "Winter heating",
            "name_zh_hans": "冬季取暖补贴",
            "opens_on": today - datetime.timedelta(days=1),
            "closes_on": today + datetime.timedelta(days=30),
            "paying_agency": bank.pk,
            "formula": "fixed",
            "amount_base": "800.00",
            "amount_per_dependant": "0",
            "two_approvers_above": "5000",
            "budget_cap": "10000",
            "age_min": "18",
        },
    )
    assert created.status_code == 302, created.context and created.context["adminform"].form.errors
    programme = Programme.objects.get(code="heating")
    resident = ResidentFactory()
    CardFactory(resident=resident)
    application = assess(apply(programme, resident))

    assert decide(reviewer_client, application, "take").status_code == 302
    assert decide(reviewer_client, application, "recommend", "age and residence checked").status_code == 302
    refused = decide(reviewer_client, application, "approve", "self-approval")
    assert refused.status_code == 200 and refused.context["form"].non_field_errors()
    assert decide(approver_client, application, "approve", "within the rules").status_code == 302

    assert (
        manager_client.post("/admin/grants/cycle/add/", {"programme": programme.pk, "pays_on": today}).status_code
        == 302
    )
    cycle = Cycle.objects.get()
    own = manager_client.post("/admin/grants/cycle/", {"action": "approve_cycles", "_selected_action": [cycle.pk]})
    unsigned = manager_client.post("/admin/grants/cycle/", {"action": "run_batch", "_selected_action": [cycle.pk]})
    assert own.status_code == 302 and unsigned.status_code == 302
    assert Cycle.objects.get().approved_by is None
    signed = approver_client.post("/admin/grants/cycle/", {"action": "approve_cycles", "_selected_action": [cycle.pk]})
    assert signed.status_code == 302 and Cycle.objects.get().approved_by == approver
    with django_capture_on_commit_callbacks() as queued_batches:
        queued = manager_client.post("/admin/grants/cycle/", {"action": "run_batch", "_selected_action": [cycle.pk]})
    assert queued.status_code == 302 and len(queued_batches) == 1
    with access_context(
        actor=Actor(type="system", id="t"), role="system", channel="task", purpose="grant-administration"
    ):
        actions.cycle_batch_run(cycle=cycle)  # what the queued task runs after commit
    disbursement = Disbursement.objects.get()
    with access_context(
        actor=Actor(type="agency", id=bank.code), role="bank", channel="api", purpose="grant-disbursement"
    ):
        actions.disbursement_confirm(reference=disbursement.reference, agency=bank, outcome="paid")

    report = manager_client.get(f"/admin/grants/cycle/{cycle.pk}/reconciliation/")
    csv_response = manager_client.get(f"/admin/grants/cycle/{cycle.pk}/reconciliation/?format=csv")
    assert report.context["rows"][1][1:] == (1, disbursement.amount)
    assert str(disbursement.reference) in csv_response.content.decode()
    assert CardPayment.objects.get().amount == disbursement.amount
    assert Application.objects.get().status == "paid"
    assert "<svg" in manager_client.get(f"/admin/grants/programme/{programme.pk}/change/").content.decode()
    manager_pseudonym = actor_pseudonym(kind="staff", reference=str(manager.pk))
    assert entries(action="grants.disbursements.export")[-1:] == [
        ("grants.disbursements.export", manager_pseudonym, "grant-administration", "ok")
    ]
    listed = manager_client.get("/admin/grants/disbursement/")
    assert listed.status_code == 200
    assert entries(action__contains=".admin.list")[-1:] == [
        ("grants.disbursements.admin.list", manager_pseudonym, "grant-administration", "ok")
    ]


def test_the_worklist_and_an_application_page_record_under_the_stated_purpose():
    reviewer, client = caseworker_client("grants-reviewer")
    application = assess(apply(ProgrammeFactory(), ResidentFactory()))
    pseudonym = actor_pseudonym(kind="staff", reference=str(reviewer.pk))

    listed = client.get("/admin/grants/application/")
    opened = client.get(f"/admin/grants/application/{application.pk}/change/")

    assert (listed.status_code, opened.status_code) == (200, 200)
    assert entries(action__contains=".admin.") == [
        ("grants.applications.admin.list", pseudonym, "grant-review", "ok"),
        ("grants.applications.admin.read", pseudonym, "grant-review", "ok"),
    ]


def test_the_decide_page_asks_for_a_purpose_first():
    reviewer, client = staff_create("grants-reviewer"), Client()
    admin_login(client, reviewer)
    application = assess(apply(ProgrammeFactory(), ResidentFactory()))

    response = decide(client, application, "take")

    assert response.status_code == 302 and response["Location"].startswith("/admin/purpose/?next=")
    assert Application.objects.get().reviewer is None
