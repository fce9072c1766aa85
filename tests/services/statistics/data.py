"""Helpers writing the rows the trend tables count straight to their tables, at given times."""

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from cards.models import Resident
from services.grants.models import Application, Cycle, Disbursement
from services.pharmacy.models import Dispensation, DispensingSession
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.grants import ProgrammeFactory
from tests.factories.health import prescription as health_prescription
from tests.factories.health import visit

# A closed month with whole ISO weeks: 2025-09-01 is a Monday, 2025-09-28 a Sunday.
PERIOD = "2025-09"
IN_PERIOD = timezone.make_aware(datetime.datetime(2025, 9, 10, 12, 0))
IN_PERIOD_DAY = datetime.date(2025, 9, 10)


def resident(*, registered: datetime.datetime = IN_PERIOD - datetime.timedelta(days=30), **fields) -> Resident:
    person = ResidentFactory(**fields)
    Resident.objects.filter(pk=person.pk).update(created_at=registered)
    return person


def hospital_visits(person, *, count: int, on: datetime.date = IN_PERIOD_DAY) -> None:
    hospital = AgencyFactory(kind="hospital")
    for _ in range(count):
        visit(person, hospital, visited_on=on)


def pharmacy_sessions(person, *, count: int, at: datetime.datetime = IN_PERIOD, pharmacy=None) -> list:
    pharmacy = pharmacy or AgencyFactory(kind="pharmacy")
    card = person.cards.first() or CardFactory(resident=person)
    return [
        DispensingSession.objects.create(
            pharmacy=pharmacy,
            resident=person,
            card=card,
            jti=uuid.uuid4().hex,
            reimbursement_rate=Decimal("0.7"),
            opened_at=at,
            expires_at=at + datetime.timedelta(minutes=30),
        )
        for _ in range(count)
    ]


def fills(person, *, count: int, controlled_class: str = "none", at: datetime.datetime = IN_PERIOD) -> None:
    hospital = AgencyFactory(kind="hospital")
    script = health_prescription(person, hospital, controlled_class=controlled_class)
    for session in pharmacy_sessions(person, count=count, at=at):
        Dispensation.objects.create(
            session=session,
            pharmacy=session.pharmacy,
            resident=person,
            prescription=script,
            drug_code=script.drug_code,
            drug_name=script.drug_name,
            quantity=1,
            controlled_class=controlled_class,
            price=Decimal("10.00"),
            reimbursement_rate=Decimal("0.700"),
            insured_share=Decimal("7.00"),
            resident_share=Decimal("3.00"),
            dispensed_at=at,
        )


def grant_paid(person, *, amount: str, programme=None, at: datetime.datetime = IN_PERIOD):
    programme = programme or ProgrammeFactory()
    card = person.cards.first() or CardFactory(resident=person)
    application = Application.objects.create(
        programme=programme, resident=person, status="approved", amount=Decimal(amount), payout_account="6222"
    )
    cycle = Cycle.objects.create(
        programme=programme, number=Cycle.objects.filter(programme=programme).count() + 1, pays_on=at.date()
    )
    return Disbursement.objects.create(
        application=application, cycle=cycle, card=card, amount=Decimal(amount), status="paid", confirmed_at=at
    )
