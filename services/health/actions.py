"""Record visits and issue prescriptions."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cards.models import Resident
from ledger.api import record
from services.core.models import Agency
from services.health.coverage import coverage_on, insured_share
from services.health.errors import HealthRecordInvalid
from services.health.models import Prescription, Visit

UNREGISTERED = "no registered resident has this national ID"


def _full_clean(instance, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise HealthRecordInvalid(error.message_dict) from None


def _resident_check(resident: Resident | None) -> Resident:
    # Only after every other check: what a refusal says must not depend on whether the ID is registered.
    if resident is None:
        raise HealthRecordInvalid({"national_id": [UNREGISTERED]})
    return resident


def _hospital_check(hospital: Agency) -> None:
    if hospital.kind != Agency.Kind.HOSPITAL:
        raise HealthRecordInvalid({"hospital": [f"{hospital.code} is not a hospital"]})


@transaction.atomic
def visit_record(
    *,
    hospital: Agency,
    resident: Resident | None,
    visited_on: datetime.date,
    icd10_code: str,
    diagnosis: str,
    cost: Decimal,
) -> Visit:
    """Record a visit; the insured share follows from the resident's coverage on the day of the visit.

    RESIDENT is None when a partner named a national ID nobody holds: that is
    refused only once everything else about the visit has been checked.
    """
    _hospital_check(hospital)
    if visited_on > timezone.localdate():
        raise HealthRecordInvalid({"visited_on": ["must not be in the future"]})
    visit = Visit(
        hospital=hospital,
        visited_on=visited_on,
        icd10_code=icd10_code.strip().upper(),
        diagnosis=diagnosis.strip(),
        cost=cost,
    )
    _full_clean(visit, exclude=["resident", "reimbursement_rate", "insured_share"])
    visit.resident = _resident_check(resident)
    coverage = coverage_on(resident=resident, on=visited_on)
    visit.reimbursement_rate = coverage.reimbursement_rate
    visit.insured_share = insured_share(cost=cost, rate=coverage.reimbursement_rate)
    _full_clean(visit)
    visit.save()
    record(action="health.visits.record", subject=resident, object=f"visit:{visit.pk}")
    return visit


@transaction.atomic
def prescription_issue(
    *,
    hospital: Agency,
    resident: Resident,
    prescriber: str,
    drug_code: str,
    drug_name: str,
    strength: str,
    form: str,
    quantity: int,
    max_days_supply: int,
    valid_until: datetime.date,
    repeats_allowed: int = 0,
    min_fill_interval_days: int = 0,
    controlled_class: str = Prescription.Controlled.NONE,
    visit_id: int | None = None,
) -> Prescription:
    """Issue a prescription to RESIDENT from HOSPITAL, optionally tied to one of their visits there.

    RESIDENT is None when a partner named a national ID nobody holds: that is
    refused only once everything else about the prescription has been checked.
    """
    _hospital_check(hospital)
    prescription = Prescription(
        hospital=hospital,
        prescriber=prescriber.strip(),
        drug_code=drug_code.strip(),
        drug_name=drug_name.strip(),
        strength=strength.strip(),
        form=form,
        quantity=quantity,
        repeats_allowed=repeats_allowed,
        min_fill_interval_days=min_fill_interval_days,
        max_days_supply=max_days_supply,
        controlled_class=controlled_class,
        valid_until=valid_until,
    )
    _full_clean(prescription, exclude=["resident", "visit"])
    prescription.resident = _resident_check(resident)
    if visit_id is not None:
        prescription.visit = Visit.objects.filter(pk=visit_id, resident=resident, hospital=hospital).first()
        if prescription.visit is None:
            raise HealthRecordInvalid({"visit_id": ["is not a visit of this resident at this hospital"]})
    _full_clean(prescription)
    prescription.save()
    record(action="health.prescriptions.issue", subject=resident, object=f"prescription:{prescription.pk}")
    return prescription


@transaction.atomic
def prescription_cancel(*, prescription: Prescription) -> Prescription:
    """Stop PRESCRIPTION from being dispensed again."""
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    prescription.status = Prescription.Status.CANCELLED
    prescription.save(update_fields=["status"])
    record(
        action="health.prescriptions.cancel", subject=prescription.resident, object=f"prescription:{prescription.pk}"
    )
    return prescription
