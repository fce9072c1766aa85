"""A caseworker runs a programme from creation to reconciled payments through the admin, never the shell."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import timezone

from cards.models import CardPayment
from ledger.api import Actor, access_context
from services.grants import actions
from services.grants.models import Application, Cycle, Disbursement, Programme
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.grants import apply, assess, caseworker

pytestmark = pytest.mark.django_db


def request_as(user, data=None, path="/admin/"):
    request = RequestFactory().post(path, data) if data is not None else RequestFactory().get(path)
    user.is_verified = lambda: True
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def decide(user, application, decision, reason=""):
    model_admin = admin.site._registry[Application]
    return model_admin.decide_view(request_as(user, {"decision": decision, "reason": reason}), application.pk)


def test_a_programme_runs_from_creation_to_reconciled_payments_in_the_admin():
    manager = caseworker("add_programme", "change_programme", "add_cycle", "view_cycle", "run_disbursement")
    reviewer = caseworker("review_application", "view_application")
    approver = caseworker("approve_application", "view_application")
    bank = AgencyFactory(kind="bank")
    today = timezone.localdate()
    programme_admin = admin.site._registry[Programme]
    form = programme_admin.get_form(request_as(manager))(
        data={
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
        }
    )
    assert form.is_valid(), form.errors
    programme = form.save(commit=False)
    programme_admin.save_model(request_as(manager), programme, form, change=False)
    resident = ResidentFactory()
    CardFactory(resident=resident)
    application = assess(apply(programme, resident))

    assert decide(reviewer, application, "take").status_code == 302
    assert decide(reviewer, application, "recommend", "age and residence checked").status_code == 302
    refused = decide(reviewer, application, "approve", "self-approval")
    assert refused.status_code == 200 and refused.context_data["form"].non_field_errors()
    assert decide(approver, application, "approve", "within the rules").status_code == 302

    cycle_admin = admin.site._registry[Cycle]
    cycle = Cycle(programme=programme, pays_on=today)
    cycle_admin.save_model(request_as(manager), cycle, None, change=False)
    cycle_admin.run_batch(request_as(manager), Cycle.objects.filter(pk=cycle.pk))
    with access_context(
        actor=Actor(type="system", id="t"), role="system", channel="task", purpose="grant-administration"
    ):
        actions.cycle_batch_run(cycle=cycle)  # what the queued task runs after commit
    disbursement = Disbursement.objects.get()
    with access_context(
        actor=Actor(type="agency", id=bank.code), role="bank", channel="api", purpose="grant-disbursement"
    ):
        actions.disbursement_confirm(reference=disbursement.reference, agency=bank, outcome="paid")

    report = cycle_admin.reconciliation_view(request_as(manager), cycle.pk)
    csv_response = cycle_admin.reconciliation_view(request_as(manager, path="/admin/?format=csv"), cycle.pk)
    assert report.context_data["rows"][1][1:] == (1, disbursement.amount)
    assert str(disbursement.reference) in csv_response.content.decode()
    assert CardPayment.objects.get().amount == disbursement.amount
    assert Application.objects.get().status == "paid"
    assert "<svg" in programme_admin.burn_down(Programme.objects.get())
