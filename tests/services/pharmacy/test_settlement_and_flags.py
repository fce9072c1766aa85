"""Daily settlement reports per pharmacy, the CSV behind them, pharmacy-hopping flags, and the regulators' admin."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.api import actor_pseudonym
from services.pharmacy.models import Dispensation, SettlementReport, SuspiciousPatternFlag
from services.pharmacy.tasks import settlement_reports_daily, suspicious_patterns_flag
from tests.factories.pharmacy import pharmacy_with_client, prescription, qr_token
from tests.factories.services import entries
from tests.ledger.database import pending_discard
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]
REGULATION = "pharmacy-regulation"


@pytest.fixture
def regulator(client):
    """Log a pharmacy regulator into the admin with the regulation purpose stated; return (user, pseudonym)."""
    user = staff_create("pharmacy-regulator")
    admin_login(client, user)
    purpose_state(client, REGULATION)
    return user, actor_pseudonym(kind="staff", reference=str(user.pk))


def fill(client, card, rx, quantity, price, key):
    session = client.post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()["session"]
    response = client.post(
        "/api/v1/pharmacy/dispensations",
        {"session": session, "prescription": rx.pk, "quantity": quantity, "price": price},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_daily_task_totals_each_pharmacys_dispensations_of_the_day(pharmacy, card):
    agency, client = pharmacy
    rx = prescription(card.resident, min_fill_interval_days=0)
    fill(client, card, rx, 10, "100.00", "k1")
    fill(client, card, rx, 10, "50.00", "k2")
    _other, other_client = pharmacy_with_client()
    fill(other_client, card, rx, 5, "20.00", "k3")

    produced = settlement_reports_daily(day=timezone.localdate().isoformat())

    assert produced == 2
    report = SettlementReport.objects.get(pharmacy=agency)
    assert (report.dispensation_count, report.total_price, report.insured_total, report.resident_total) == (
        2,
        Decimal("150.00"),
        Decimal("105.00"),
        Decimal("45.00"),
    )


def test_producing_a_day_again_replaces_its_totals(pharmacy, card):
    agency, client = pharmacy
    rx = prescription(card.resident, min_fill_interval_days=0)
    today = timezone.localdate().isoformat()
    fill(client, card, rx, 10, "100.00", "k1")
    settlement_reports_daily(day=today)
    fill(client, card, rx, 10, "100.00", "k2")

    settlement_reports_daily(day=today)

    assert SettlementReport.objects.get(pharmacy=agency).dispensation_count == 2


def test_the_daily_task_defaults_to_yesterday_and_skips_days_without_dispensations(pharmacy, card):
    rx = prescription(card.resident)
    fill(pharmacy[1], card, rx, 10, "100.00", "k1")

    assert settlement_reports_daily() == 0
    assert not SettlementReport.objects.exists()


def test_the_settlement_csv_lists_the_dispensations_and_records_the_residents(pharmacy, card, client, regulator):
    _agency, api_client = pharmacy
    rx = prescription(card.resident, min_fill_interval_days=0)
    fill(api_client, card, rx, 10, "100.00", "k1")
    settlement_reports_daily(day=timezone.localdate().isoformat())
    report = SettlementReport.objects.get()
    pending_discard()

    response = client.get(f"/admin/pharmacy/settlementreport/{report.pk}/csv/")

    lines = response.content.decode().splitlines()
    assert lines[0].startswith("dispensation,dispensed_at,drug_code")
    assert lines[1].endswith(",10,100.00,0.700,70.00,30.00")
    officer = regulator[1]
    assert entries() == [("pharmacy.settlements.export", officer, REGULATION, "ok")]


def test_a_resident_at_three_pharmacies_within_seven_days_is_flagged_once(card):
    rx = prescription(card.resident, quantity=10, repeats_allowed=5, min_fill_interval_days=0)
    for n in range(3):
        _agency, client = pharmacy_with_client()
        fill(client, card, rx, 1, "10.00", f"k{n}")
    pending_discard()

    assert suspicious_patterns_flag() == 1
    assert suspicious_patterns_flag() == 0

    flag = SuspiciousPatternFlag.objects.get()
    assert (flag.resident, flag.kind, flag.status) == (card.resident, "pharmacy_hopping", "open")
    assert entries() == [("pharmacy.flags.raise", "pharmacy.tasks.suspicious_patterns_flag", REGULATION, "ok")]


def test_two_pharmacies_within_seven_days_raise_no_flag(card):
    rx = prescription(card.resident, quantity=10, repeats_allowed=5, min_fill_interval_days=0)
    for n in range(2):
        _agency, client = pharmacy_with_client()
        fill(client, card, rx, 1, "10.00", f"k{n}")

    assert suspicious_patterns_flag() == 0


def test_a_visit_more_than_seven_days_ago_does_not_count_towards_a_flag(card):
    rx = prescription(card.resident, quantity=10, repeats_allowed=5, min_fill_interval_days=0)
    for n in range(3):
        _agency, client = pharmacy_with_client()
        fill(client, card, rx, 1, "10.00", f"k{n}")
    Dispensation.objects.filter(pk=Dispensation.objects.order_by("id").first().pk).update(
        dispensed_at=timezone.now() - datetime.timedelta(days=7, seconds=1)
    )

    assert suspicious_patterns_flag() == 0


def test_the_flag_worklist_records_the_residents_shown_and_reviewing_closes_a_flag(card, client, regulator):
    flag = SuspiciousPatternFlag.objects.create(resident=card.resident, kind="pharmacy_hopping", detail="3 pharmacies")
    user, officer = regulator

    response = client.get("/admin/pharmacy/suspiciouspatternflag/")
    reviewed = client.post(
        "/admin/pharmacy/suspiciouspatternflag/", {"action": "mark_reviewed", "_selected_action": [flag.pk]}
    )

    assert (response.status_code, reviewed.status_code) == (200, 302)
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by) == ("reviewed", user.username)
    assert entries() == [
        ("pharmacy.flags.admin.list", officer, REGULATION, "ok"),
        ("pharmacy.flags.admin.action", officer, REGULATION, "ok"),
        ("pharmacy.flags.review", officer, REGULATION, "ok"),
    ]


def test_the_dispensation_list_and_page_record_what_they_show(pharmacy, card, client, regulator):
    rx = prescription(card.resident)
    fill(pharmacy[1], card, rx, 10, "100.00", "k1")
    dispensation = Dispensation.objects.get()
    pending_discard()

    listed = client.get("/admin/pharmacy/dispensation/")
    opened = client.get(f"/admin/pharmacy/dispensation/{dispensation.pk}/change/")

    assert (listed.status_code, opened.status_code) == (200, 200)
    officer = regulator[1]
    assert entries() == [
        ("pharmacy.dispensations.admin.list", officer, REGULATION, "ok"),
        ("pharmacy.dispensations.admin.read", officer, REGULATION, "ok"),
    ]


def test_the_settlement_csv_asks_for_a_purpose_first_and_records_nothing_until_then(pharmacy, card, client):
    rx = prescription(card.resident)
    fill(pharmacy[1], card, rx, 10, "100.00", "k1")
    settlement_reports_daily(day=timezone.localdate().isoformat())
    report = SettlementReport.objects.get()
    pending_discard()
    admin_login(client, staff_create("pharmacy-regulator"))

    response = client.get(f"/admin/pharmacy/settlementreport/{report.pk}/csv/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/purpose/?next=")
    assert entries() == []


def test_the_settlement_csv_writes_a_formula_as_text(pharmacy, card, client, regulator):
    _agency, api_client = pharmacy
    rx = prescription(card.resident, min_fill_interval_days=0, drug_name='=HYPERLINK("http://evil.example","x")')
    fill(api_client, card, rx, 10, "100.00", "k1")
    settlement_reports_daily(day=timezone.localdate().isoformat())
    report = SettlementReport.objects.get()

    response = client.get(f"/admin/pharmacy/settlementreport/{report.pk}/csv/")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example","x")'
