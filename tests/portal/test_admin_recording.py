import csv
import io

import pytest

from cards.models import Card, Resident
from ledger.api import Actor, access_context, subject_pseudonym
from portal.actions import access_report_open
from services.core.actions import consent_grant
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.portal.staff import admin_login, fast_password_hashing, ledger_rows, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def registrar(client):
    user = staff_create("registrar")
    admin_login(client, user)
    purpose_state(client, "registration")
    return user


@pytest.fixture
def card_officer(client):
    user = staff_create("card-officer")
    admin_login(client, user)
    purpose_state(client, "card-administration")
    return user


def test_resident_pages_ask_for_a_purpose_first_and_record_nothing_until_then(client):
    admin_login(client, staff_create("registrar"))
    resident = ResidentFactory()

    listing = client.get("/admin/cards/resident/")
    change = client.get(f"/admin/cards/resident/{resident.pk}/change/")

    assert listing.status_code == 302 and listing["Location"].startswith("/admin/purpose/?next=")
    assert change.status_code == 302 and change["Location"].startswith("/admin/purpose/?next=")
    assert ledger_rows() == []


def test_the_purpose_form_offers_only_the_roles_purposes(client):
    admin_login(client, staff_create("registrar"))

    refused = purpose_state(client, "card-administration")
    accepted = purpose_state(client, "registration")

    assert refused.status_code == 200 and refused.context["form"].errors
    assert accepted.status_code == 302 and client.session["onecard_purpose"] == "registration"
    assert b"registration" in client.get("/admin/").content


def test_a_changelist_records_one_entry_per_resident_shown(client, registrar):
    residents = ResidentFactory.create_batch(3)

    response = client.get("/admin/cards/resident/")

    assert response.status_code == 200
    rows = ledger_rows(action="cards.residents.admin.list")
    assert sorted(row["subject"] for row in rows) == sorted(subject_pseudonym(r) for r in residents)
    assert {(row["actor_type"], row["channel"], row["purpose"]) for row in rows} == {("staff", "admin", "registration")}


def test_a_change_view_records_the_resident_read(client, registrar):
    resident = ResidentFactory()

    response = client.get(f"/admin/cards/resident/{resident.pk}/change/")

    assert response.status_code == 200
    rows = ledger_rows(action="cards.residents.admin.read")
    assert [(row["subject"], row["object"]) for row in rows] == [
        (subject_pseudonym(resident), f"resident:{resident.pk}")
    ]


def test_a_national_id_search_is_recorded_as_a_search_without_the_number(client, registrar):
    resident, _other = ResidentFactory.create_batch(2)

    response = client.post("/admin/cards/resident/search/", {"q": resident.national_id}, follow=True)

    assert list(response.context["cl"].result_list) == [resident]
    rows = ledger_rows(action="cards.residents.admin.search")
    assert [(row["subject"], row["object"]) for row in rows] == [(subject_pseudonym(resident), "national-id")]
    assert ledger_rows(action="cards.residents.admin.list") == []
    assert all(resident.national_id not in str(row) for row in ledger_rows())


def test_a_name_search_is_recorded_as_a_text_search(client, registrar):
    resident = ResidentFactory(full_name="Zhou Xiaoming")

    client.post("/admin/cards/resident/search/", {"q": "Xiaoming"}, follow=True)

    rows = ledger_rows(action="cards.residents.admin.search")
    assert [(row["subject"], row["object"]) for row in rows] == [(subject_pseudonym(resident), "text")]


def test_an_export_is_recorded_per_resident_with_its_row_count(client, registrar):
    residents = ResidentFactory.create_batch(2)

    response = client.get("/admin/cards/resident/export.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0][0] == "full_name" and len(lines) == 3
    rows = ledger_rows(action="cards.residents.admin.export")
    assert sorted(row["subject"] for row in rows) == sorted(subject_pseudonym(r) for r in residents)
    assert {row["object"] for row in rows} == {"csv rows=2"}


def test_an_export_keeps_the_changelist_filter(client, card_officer):
    lost = CardFactory(status=Card.Status.LOST)
    CardFactory(status=Card.Status.ACTIVE)

    response = client.get("/admin/cards/card/export.csv", {"status__exact": "lost"})

    assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 2
    rows = ledger_rows(action="cards.cards.admin.export")
    assert [(row["subject"], row["object"]) for row in rows] == [(subject_pseudonym(lost.resident), "csv rows=1")]


def test_an_export_needs_a_purpose_too(client):
    admin_login(client, staff_create("registrar"))
    ResidentFactory()

    response = client.get("/admin/cards/resident/export.csv")

    assert response.status_code == 302 and ledger_rows() == []


def test_an_admin_action_records_each_resident_it_touches(client, card_officer):
    card = CardFactory(status=Card.Status.ACTIVE)

    response = client.post(
        "/admin/cards/card/",
        {"action": "suspend_cards", "_selected_action": [card.pk], "apply": "1", "reason": "administrative"},
    )

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.status == Card.Status.SUSPENDED
    rows = ledger_rows(action="cards.cards.admin.action")
    assert [(row["subject"], row["object"]) for row in rows] == [
        (subject_pseudonym(card.resident), "action suspend_cards")
    ]
    assert ledger_rows(action="cards.cards.suspend", purpose="card-administration")


def test_a_card_change_view_records_the_holder(client, card_officer):
    card = CardFactory()

    client.get(f"/admin/cards/card/{card.pk}/change/")

    rows = ledger_rows(action="cards.cards.admin.read")
    assert [row["subject"] for row in rows] == [subject_pseudonym(card.resident)]


def test_the_consent_list_records_the_residents_it_shows(client, registrar):
    resident = ResidentFactory()
    agency = AgencyFactory(grants=(["residents:verify"], ["identity-verification"]))
    with access_context(
        actor=Actor(type="system", id="test"), role="system", channel="command", purpose="registration"
    ):
        consent_grant(resident=resident, agency=agency, scope="residents:verify", purpose="identity-verification")

    client.get("/admin/services_core/consent/")

    rows = ledger_rows(action="services_core.consents.admin.list")
    assert [row["subject"] for row in rows] == [subject_pseudonym(resident)]


def test_the_access_report_list_records_each_resident_it_shows(client):
    from portal.models import AccessReport

    report = AccessReport.objects.create(resident=ResidentFactory(), entry_summary="an entry", text="not me")
    admin_login(client, staff_create("auditor"))
    purpose_state(client, "access-report-investigation")

    response = client.get("/admin/portal/accessreport/")

    assert response.status_code == 200
    rows = ledger_rows(action="portal.access_reports.admin.list")
    assert [(row["subject"], row["purpose"]) for row in rows] == [
        (subject_pseudonym(report.resident), "access-report-investigation")
    ]


def test_answering_an_access_report_records_the_change_itself(client):
    resident = ResidentFactory()
    with access_context(actor=Actor(type="resident", id="r"), role="resident", channel="web", purpose="self-service"):
        report = access_report_open(resident=resident, entry_index=None, entry_summary="seen", text="not me")
    admin_login(client, staff_create("auditor"))
    purpose_state(client, "access-report-investigation")

    response = client.post(
        f"/admin/portal/accessreport/{report.pk}/change/",
        {"status": "upheld", "caseworker_note": "The access was not allowed; the officer was told."},
    )

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "upheld"
    rows = ledger_rows(action="portal.access_reports.answer")
    assert [(row["subject"], row["object"], row["role"], row["purpose"]) for row in rows] == [
        (
            subject_pseudonym(resident),
            f"access-report:{report.pk} status open->upheld",
            "auditor",
            "access-report-investigation",
        )
    ]


def test_a_history_page_asks_for_a_purpose_first_and_records_nothing_until_then(client):
    admin_login(client, staff_create("registrar"))
    resident = ResidentFactory()

    response = client.get(f"/admin/cards/resident/{resident.pk}/history/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/purpose/?next=")
    assert ledger_rows() == []


def test_a_history_page_with_a_purpose_records_the_resident_read(client, registrar):
    resident = ResidentFactory()

    response = client.get(f"/admin/cards/resident/{resident.pk}/history/")

    assert response.status_code == 200
    rows = ledger_rows(action="cards.residents.admin.read")
    assert [(row["subject"], row["object"]) for row in rows] == [
        (subject_pseudonym(resident), f"resident:{resident.pk}")
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_delete_page_asks_for_a_purpose_first_deletes_and_records_nothing_until_then(client, method):
    admin_login(client, staff_create("superuser"))
    resident = ResidentFactory()

    response = getattr(client, method)(f"/admin/cards/resident/{resident.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302 and response["Location"].startswith("/admin/purpose/?next=")
    assert Resident.objects.filter(pk=resident.pk).exists()
    assert ledger_rows() == []
