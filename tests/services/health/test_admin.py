"""The health officers' admin: the prescription export writes every column and records what it shows."""

import csv
import io

import pytest

from ledger.api import subject_pseudonym
from tests.factories import ResidentFactory
from tests.factories.pharmacy import prescription
from tests.portal.staff import admin_login, fast_password_hashing, ledger_rows, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def health_officer(client):
    user = staff_create("health-officer")
    admin_login(client, user)
    purpose_state(client, "health-administration")
    return user


def test_the_prescription_export_writes_the_form_column_and_records_each_resident(client, health_officer):
    residents = ResidentFactory.create_batch(3)
    for resident in residents:
        prescription(resident, form="capsule")

    response = client.get("/admin/health/prescription/export.csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][3] == "form" and [row[3] for row in rows[1:]] == ["capsule"] * 3
    exported = ledger_rows(action="health.prescriptions.admin.export")
    assert sorted(row["subject"] for row in exported) == sorted(subject_pseudonym(r) for r in residents)


def test_an_export_writes_a_formula_as_text(client, health_officer):
    prescription(ResidentFactory(), drug_name='=HYPERLINK("http://evil.example","x")')

    response = client.get("/admin/health/prescription/export.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","x")'
