"""Factories and helpers for grants."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Permission
from django.utils import timezone

from ledger.api import Actor, access_context
from services.grants import actions
from services.grants.models import Programme
from tests.factories import UserFactory


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    code = factory.Sequence(lambda n: f"programme-{n}")
    name_en = factory.Sequence(lambda n: f"Programme {n}")
    name_zh_hans = factory.Sequence(lambda n: f"补助{n}")
    amount_base = Decimal("1000.00")
    budget_cap = Decimal("100000.00")
    two_approvers_above = Decimal("5000.00")
    opens_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))
    closes_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=10))


def caseworker(*codenames: str, **fields):
    """Return a staff user holding the grants permissions CODENAMES, e.g. 'review_application'."""
    user = UserFactory(is_staff=True, **fields)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="grants", codename__in=codenames))
    return type(user).objects.get(pk=user.pk)


def staff(user=None, purpose="grant-administration"):
    """Open an access context as USER in the admin."""
    who = f"user:{user.pk}" if user is not None else "test-caseworker"
    return access_context(actor=Actor(type="staff", id=who), role="caseworker", channel="admin", purpose=purpose)


def as_resident():
    return access_context(actor=Actor(type="resident", id="r1"), role="resident", channel="web", purpose="self-service")


def apply(programme, resident, *, payout_account="6222020200001234567", **fields):
    """Submit RESIDENT's application to PROGRAMME; in a test transaction the eligibility task waits for commit."""
    with as_resident():
        return actions.application_apply(
            programme=programme, resident=resident, payout_account=payout_account, **fields
        )


def assess(application):
    with access_context(
        actor=Actor(type="system", id="t"), role="system", channel="task", purpose="grant-administration"
    ):
        return actions.application_assess(application=application)


def to_review(application, reviewer, reason="documents complete"):
    """Take APPLICATION for review and recommend it, as REVIEWER."""
    with staff(reviewer):
        actions.application_review_start(application=application, user=reviewer)
        return actions.application_recommend(application=application, user=reviewer, reason=reason)


def cycle_signed_off(programme, *, creator=None, signer=None):
    """Open the next payment cycle of PROGRAMME as CREATOR and have SIGNER (another caseworker) sign it off."""
    creator = creator or caseworker("add_cycle")
    signer = signer or caseworker("approve_cycle")
    with staff(creator):
        cycle = actions.cycle_create(programme=programme, pays_on=programme.closes_on, user=creator)
    with staff(signer):
        return actions.cycle_approve(cycle=cycle, user=signer)
