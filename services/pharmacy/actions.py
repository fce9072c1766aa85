"""Open dispensing sessions, dispense, settle and flag; every step is recorded in the ledger."""

import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from cards.actions import card_token_verify
from cards.models import Resident
from ledger.api import record
from services.core.models import Agency
from services.health.coverage import coverage_on, insured_share
from services.health.models import Prescription
from services.pharmacy import lock_objects, rules
from services.pharmacy.errors import (
    ControlledCapExceeded,
    DispensingRefused,
    IntervalNotElapsed,
    NotAPharmacy,
    OtcLimitExceeded,
    PrescriptionNotDispensable,
    PrescriptionUnknown,
    ProductUnknown,
    QuantityExceeded,
    SessionInvalid,
    TokenInvalid,
    TraceabilityCodeUsed,
)
from services.pharmacy.models import (
    ControlledCap,
    Dispensation,
    DispensingSession,
    OtcProduct,
    SettlementReport,
    SuspiciousPatternFlag,
    TraceabilityCode,
)
from services.pharmacy.selectors import DispensablePrescription, prescriptions_dispensable

NOT_DYNAMIC = "not_dynamic"


@dataclass(frozen=True)
class SessionOpened:
    session: DispensingSession
    covered: bool
    prescriptions: list[DispensablePrescription]


@dataclass(frozen=True)
class Dispensed:
    dispensation: Dispensation
    traceability_codes: list[str]
    remaining_quantity: int | None  # of the prescription; None for an over-the-counter sale


def _pharmacy_check(pharmacy: Agency) -> None:
    if pharmacy.kind != Agency.Kind.PHARMACY:
        raise NotAPharmacy(f"{pharmacy.code} is not a pharmacy")


def session_open(*, pharmacy: Agency, token: str) -> SessionOpened:
    """Redeem the resident's one-use QR code and open a session listing what may be dispensed to them."""
    _pharmacy_check(pharmacy)
    opened = None
    with transaction.atomic():
        verification = card_token_verify(token=token)
        reason = verification.reason
        if verification.valid and verification.jti is None:
            # A static credential never expires within the minute; only the one-use code opens a session.
            reason = NOT_DYNAMIC
        if reason is None:
            opened = _session_create(pharmacy=pharmacy, card_id=verification.card_id, jti=verification.jti)
    if opened is None:
        raise TokenInvalid(reason or "invalid")
    return opened


def _session_create(*, pharmacy: Agency, card_id: int, jti: str) -> SessionOpened:
    from cards.models import Card

    card = Card.objects.get(pk=card_id)
    resident = lock_objects.resident_lock(resident_id=card.resident_id)
    now = timezone.now()
    coverage = coverage_on(resident=resident, on=timezone.localdate(now))
    session = DispensingSession(
        pharmacy=pharmacy,
        resident=resident,
        card=card,
        jti=jti,
        reimbursement_rate=coverage.reimbursement_rate,
        opened_at=now,
        expires_at=now + rules.SESSION_LIFETIME,
    )
    session.full_clean()
    session.save()
    record(
        action="pharmacy.sessions.open",
        subject=resident,
        object=f"session:{session.public_id} rate {coverage.reimbursement_rate}",
    )
    prescriptions = prescriptions_dispensable(resident=resident, now=now)
    record(
        action="pharmacy.prescriptions.read",
        subject=resident,
        object=f"session:{session.public_id} " + " ".join(f"prescription:{p.prescription.pk}" for p in prescriptions),
    )
    return SessionOpened(session=session, covered=coverage.covered, prescriptions=prescriptions)


def _codes_clean(codes: Sequence[str]) -> list[str]:
    cleaned = [code.strip() for code in codes]
    errors = []
    for code in cleaned:
        try:
            TraceabilityCode._meta.get_field("code").run_validators(code)
        except ValidationError:
            errors.append(f"{code!r} is not a 20-digit traceability code")
    if len(set(cleaned)) != len(cleaned):
        errors.append("a traceability code is listed twice")
    if errors:
        raise ValidationError({"traceability_codes": errors})
    return cleaned


def _codes_save(*, dispensation: Dispensation, codes: list[str]) -> None:
    used = list(TraceabilityCode.objects.filter(code__in=codes).values_list("code", flat=True))
    if used:
        raise TraceabilityCodeUsed(f"already sold: {', '.join(sorted(used))}")
    try:
        with transaction.atomic():
            TraceabilityCode.objects.bulk_create(
                TraceabilityCode(code=code, dispensation=dispensation) for code in codes
            )
    except IntegrityError:
        # Another pharmacy's transaction sold one of these boxes between the check and the insert.
        raise TraceabilityCodeUsed("a box with one of these codes was sold at the same moment") from None


def _dispense(
    *,
    pharmacy: Agency,
    session_id: uuid.UUID,
    traceability_codes: Sequence[str],
    label: str,
    fill: Callable[[DispensingSession, datetime.datetime], tuple[Dispensation, int | None]],
) -> Dispensed:
    _pharmacy_check(pharmacy)
    codes = _codes_clean(traceability_codes)
    found = DispensingSession.objects.filter(public_id=session_id, pharmacy=pharmacy).values_list("pk", "resident_id")
    if not found:
        raise SessionInvalid("no session with this id was opened by this pharmacy")
    session_pk, resident_id = found[0]
    try:
        with transaction.atomic():
            resident = lock_objects.resident_lock(resident_id=resident_id)
            session = lock_objects.session_lock(session_id=session_pk)
            now = timezone.now()
            if session.expires_at <= now:
                raise SessionInvalid("the session has expired; scan a fresh QR code")
            dispensation, remaining = fill(session, now)
            dispensation.full_clean()
            dispensation.save()
            _codes_save(dispensation=dispensation, codes=codes)
            record(
                action="pharmacy.dispensations.create",
                subject=resident,
                object=f"dispensation:{dispensation.pk} {label} quantity {dispensation.quantity}",
            )
            return Dispensed(dispensation=dispensation, traceability_codes=codes, remaining_quantity=remaining)
    except (DispensingRefused, SessionInvalid, PrescriptionUnknown) as refusal:
        # The refusal is recorded after the rollback: the attempt is part of the resident's history.
        with transaction.atomic():
            slug = getattr(refusal, "slug", type(refusal).__name__)
            record(
                action="pharmacy.dispensations.create",
                subject=Resident.objects.get(pk=resident_id),
                object=f"{label} refused {slug}",
                outcome="denied",
            )
        raise


def _summed(queryset, field: str) -> int:
    return queryset.aggregate(total=Sum(field))["total"] or 0


def _shares(*, price: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    insured = insured_share(cost=price, rate=rate)
    return insured, price - insured


def dispensation_create(
    *,
    pharmacy: Agency,
    session_id: uuid.UUID,
    prescription_id: int,
    quantity: int,
    price: Decimal,
    traceability_codes: Sequence[str] = (),
) -> Dispensed:
    """Dispense QUANTITY against a prescription of the session's cardholder, if every rule allows it."""

    def fill(session: DispensingSession, now: datetime.datetime) -> tuple[Dispensation, int]:
        if not Prescription.objects.filter(pk=prescription_id, resident_id=session.resident_id).exists():
            raise PrescriptionUnknown("the cardholder has no prescription with this id")
        prescription = lock_objects.prescription_lock(prescription_id=prescription_id)
        if not prescription.is_open(on=timezone.localdate(now)):
            raise PrescriptionNotDispensable(
                f"the prescription is {prescription.status} until {prescription.valid_until}"
            )
        if quantity > prescription.quantity:
            raise QuantityExceeded(f"one fill is at most {prescription.quantity}")
        fills = Dispensation.objects.filter(prescription=prescription)
        allowed = prescription.quantity * (1 if prescription.is_controlled else prescription.fills_allowed)
        remaining = allowed - _summed(fills, "quantity")
        if quantity > remaining:
            raise QuantityExceeded(f"{remaining} remain on this prescription")
        last = fills.aggregate(last=Max("dispensed_at"))["last"]
        interval = datetime.timedelta(days=prescription.min_fill_interval_days)
        if last is not None and now - last < interval:
            raise IntervalNotElapsed(f"the next fill may be dispensed from {(last + interval).isoformat()}")
        days = rules.days_supply(
            quantity=quantity, quantity_per_fill=prescription.quantity, max_days_supply=prescription.max_days_supply
        )
        if prescription.is_controlled:
            _controlled_check(prescription=prescription, resident_id=session.resident_id, days=days, now=now)
        insured, co_pay = _shares(price=price, rate=session.reimbursement_rate)
        dispensation = Dispensation(
            session=session,
            pharmacy=session.pharmacy,
            resident_id=session.resident_id,
            prescription=prescription,
            drug_code=prescription.drug_code,
            drug_name=prescription.drug_name,
            quantity=quantity,
            days_supply=days,
            controlled_class=prescription.controlled_class,
            price=price,
            reimbursement_rate=session.reimbursement_rate,
            insured_share=insured,
            resident_share=co_pay,
            dispensed_at=now,
        )
        return dispensation, remaining - quantity

    return _dispense(
        pharmacy=pharmacy,
        session_id=session_id,
        traceability_codes=traceability_codes,
        label=f"prescription:{prescription_id}",
        fill=fill,
    )


def _controlled_check(*, prescription: Prescription, resident_id: int, days: int, now: datetime.datetime) -> None:
    if prescription.repeats_allowed:
        raise ControlledCapExceeded("a controlled drug is never dispensed on repeats")
    most = min(prescription.max_days_supply, Prescription.CONTROLLED_MAX_DAYS_SUPPLY)
    if days > most:
        raise ControlledCapExceeded(f"a controlled fill is at most {most} days' supply")
    cap = ControlledCap.objects.filter(controlled_class=prescription.controlled_class).first()
    if cap is None:
        max_days, period_days = rules.CONTROLLED_CAP_DEFAULTS[prescription.controlled_class]
    else:
        max_days, period_days = cap.max_days_supply, cap.period_days
    used = _summed(
        Dispensation.objects.filter(
            resident_id=resident_id,
            controlled_class=prescription.controlled_class,
            dispensed_at__gt=now - datetime.timedelta(days=period_days),
        ),
        "days_supply",
    )
    if used + days > max_days:
        raise ControlledCapExceeded(
            f"{used} of {max_days} days' supply of {prescription.controlled_class} drugs "
            f"were dispensed in the last {period_days} days"
        )


def otc_dispensation_create(
    *,
    pharmacy: Agency,
    session_id: uuid.UUID,
    product_code: str,
    quantity: int,
    price: Decimal,
    traceability_codes: Sequence[str] = (),
) -> Dispensed:
    """Sell QUANTITY packs of a restricted over-the-counter product, within the resident's period limit."""
    product = OtcProduct.objects.select_related("restriction").filter(code=product_code, is_active=True).first()
    if product is None:
        raise ProductUnknown(f"no restricted product on sale has the code {product_code!r}")

    def fill(session: DispensingSession, now: datetime.datetime) -> tuple[Dispensation, None]:
        restriction = product.restriction
        amount = quantity * product.amount_mg
        used = _summed(
            Dispensation.objects.filter(
                resident_id=session.resident_id,
                product__restriction=restriction,
                dispensed_at__gt=now - datetime.timedelta(days=restriction.period_days),
            ),
            "restricted_amount_mg",
        )
        if used + amount > restriction.max_amount_mg:
            raise OtcLimitExceeded(
                f"{used} of {restriction.max_amount_mg} mg of {restriction.name} were sold to this resident "
                f"in the last {restriction.period_days} days; this sale adds {amount} mg"
            )
        # Restricted over-the-counter products are paid by the resident; insurance does not cover them.
        dispensation = Dispensation(
            session=session,
            pharmacy=session.pharmacy,
            resident_id=session.resident_id,
            product=product,
            drug_code=product.code,
            drug_name=product.name,
            quantity=quantity,
            restricted_amount_mg=amount,
            price=price,
            reimbursement_rate=Decimal("0.000"),
            insured_share=Decimal("0.00"),
            resident_share=price,
            dispensed_at=now,
        )
        return dispensation, None

    return _dispense(
        pharmacy=pharmacy,
        session_id=session_id,
        traceability_codes=traceability_codes,
        label=f"product:{product.code}",
        fill=fill,
    )


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


@transaction.atomic
def settlement_report_produce(*, pharmacy: Agency, day: datetime.date) -> SettlementReport:
    """Total PHARMACY's dispensations of DAY (local time); producing it again replaces the totals."""
    start, end = _day_bounds(day)
    totals = Dispensation.objects.filter(pharmacy=pharmacy, dispensed_at__gte=start, dispensed_at__lt=end).aggregate(
        count=Count("id"), price=Sum("price"), insured=Sum("insured_share"), resident=Sum("resident_share")
    )
    zero = Decimal("0.00")
    report, _created = SettlementReport.objects.select_for_update().get_or_create(
        pharmacy=pharmacy,
        day=day,
        defaults={"dispensation_count": 0, "total_price": zero, "insured_total": zero, "resident_total": zero},
    )
    report.dispensation_count = totals["count"]
    report.total_price = totals["price"] or zero
    report.insured_total = totals["insured"] or zero
    report.resident_total = totals["resident"] or zero
    report.produced_at = timezone.now()
    report.full_clean()
    report.save()
    return report


def settlement_reports_produce(*, day: datetime.date) -> list[SettlementReport]:
    """Produce the report of DAY for every pharmacy that dispensed that day."""
    start, end = _day_bounds(day)
    pharmacy_ids = (
        Dispensation.objects.filter(dispensed_at__gte=start, dispensed_at__lt=end)
        .values_list("pharmacy_id", flat=True)
        .distinct()
    )
    return [
        settlement_report_produce(pharmacy=pharmacy, day=day)
        for pharmacy in Agency.objects.filter(pk__in=list(pharmacy_ids)).order_by("code")
    ]


@transaction.atomic
def pharmacy_hopping_flag(*, now: datetime.datetime | None = None) -> list[SuspiciousPatternFlag]:
    """Flag each resident served by several pharmacies within the window who has no open flag of that kind."""
    now = now or timezone.now()
    since = now - rules.HOPPING_WINDOW
    hoppers = (
        Dispensation.objects.filter(dispensed_at__gt=since)
        .values("resident_id")
        .annotate(pharmacies=Count("pharmacy_id", distinct=True))
        .filter(pharmacies__gte=rules.HOPPING_PHARMACIES)
    )
    counts = {row["resident_id"]: row["pharmacies"] for row in hoppers}
    already = set(
        SuspiciousPatternFlag.objects.filter(
            Q(status=SuspiciousPatternFlag.Status.OPEN) | Q(raised_at__gt=since),
            kind=SuspiciousPatternFlag.Kind.PHARMACY_HOPPING,
            resident_id__in=list(counts),
        ).values_list("resident_id", flat=True)
    )
    raised = []
    for resident in Resident.objects.filter(pk__in=[pk for pk in counts if pk not in already]).order_by("pk"):
        flag = SuspiciousPatternFlag(
            resident=resident,
            kind=SuspiciousPatternFlag.Kind.PHARMACY_HOPPING,
            detail=f"{counts[resident.pk]} pharmacies in {rules.HOPPING_WINDOW.days} days",
            raised_at=now,
        )
        flag.full_clean()
        flag.save()
        record(action="pharmacy.flags.raise", subject=resident, object=f"flag:{flag.pk} {flag.kind}")
        raised.append(flag)
    return raised


@transaction.atomic
def flag_review(*, flag: SuspiciousPatternFlag, reviewer: str) -> SuspiciousPatternFlag:
    """Close FLAG as looked into by REVIEWER."""
    flag = SuspiciousPatternFlag.objects.select_for_update().select_related("resident").get(pk=flag.pk)
    if flag.status == SuspiciousPatternFlag.Status.OPEN:
        flag.status = SuspiciousPatternFlag.Status.REVIEWED
        flag.reviewed_at = timezone.now()
        flag.reviewed_by = reviewer[:80]
        flag.save(update_fields=["status", "reviewed_at", "reviewed_by"])
    record(action="pharmacy.flags.review", subject=flag.resident, object=f"flag:{flag.pk}")
    return flag
