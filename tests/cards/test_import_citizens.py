import csv

import pytest
from django.core.management import CommandError, call_command

from cards.models import Resident
from cards.selectors import resident_get_by_national_id
from tests.factories import ResidentFactory
from tests.idnumbers import make_national_id, many_national_ids

HEADER = ["national_id", "full_name", "phone", "email"]


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def run_import(path, *args):
    """Run the command; return (exit code, stdout, stderr)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_citizens", path, *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_saves_every_valid_row(tmp_path, ledger_context):
    numbers = list(many_national_ids(3))
    path = write_csv(
        tmp_path / "r.csv", [[n, f"Person {i}", "13800000000", f"p{i}@example.org"] for i, n in enumerate(numbers)]
    )

    code, out, _ = run_import(path)

    assert code == 0
    assert "imported 3 resident(s)" in out
    assert resident_get_by_national_id(national_id=numbers[1]).full_name == "Person 1"


@pytest.mark.django_db
def test_dry_run_saves_nothing(tmp_path):
    path = write_csv(tmp_path / "r.csv", [[n, "A", "", ""] for n in many_national_ids(2)])

    code, out, _ = run_import(path, "--dry-run")

    assert code == 0
    assert "would import 2" in out
    assert Resident.objects.count() == 0


@pytest.mark.django_db
def test_a_bad_row_at_line_5000_means_nothing_is_saved(tmp_path):
    rows = [[n, f"Person {i}", "", ""] for i, n in enumerate(many_national_ids(6000))]
    rows[4998][0] = "110105199003071230"  # line 5,000: header is line 1
    path = write_csv(tmp_path / "r.csv", rows)

    code, _, err = run_import(path)

    assert code == 1
    assert "line 5000: national_id: check character does not match" in err
    assert Resident.objects.count() == 0


@pytest.mark.django_db
def test_each_problem_is_reported_as_line_field_message(tmp_path):
    good = make_national_id(sequence=5)
    rows = [
        [good, "Good", "", ""],
        ["123", "Short", "", ""],
        [make_national_id(sequence=7), "", "abc", "not-an-email"],
        [good, "Again", "", ""],
    ]
    path = write_csv(tmp_path / "r.csv", rows)

    code, _, err = run_import(path)

    assert code == 1
    assert "line 3: national_id: must be 18 characters, not 3" in err
    assert "line 4: full_name: is required" in err
    assert "line 4: phone: must be 7 to 15 digits" in err
    assert "line 4: email: is not a valid email address" in err
    assert "line 5: national_id: duplicate of line 2" in err
    assert Resident.objects.count() == 0


@pytest.mark.django_db
def test_a_number_already_in_the_register_is_a_problem(tmp_path):
    existing = ResidentFactory()
    path = write_csv(
        tmp_path / "r.csv", [[make_national_id(sequence=9), "New", "", ""], [existing.national_id, "Dup", "", ""]]
    )

    code, _, err = run_import(path)

    assert code == 1
    assert "line 3: national_id: already registered" in err
    assert Resident.objects.count() == 1


@pytest.mark.django_db
def test_a_wrong_header_is_reported_on_line_1(tmp_path):
    path = write_csv(tmp_path / "r.csv", [[make_national_id(), "A", "", ""]], header=["id", "name", "phone", "email"])

    code, _, err = run_import(path)

    assert code == 1
    assert "line 1: header: expected national_id,full_name,phone,email" in err


@pytest.mark.django_db
def test_a_row_with_the_wrong_number_of_fields_is_reported(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("national_id,full_name,phone,email\n" + make_national_id() + ",A\n")

    code, _, err = run_import(str(path))

    assert code == 1
    assert "line 2: row: expected 4 fields, found 2" in err


@pytest.mark.django_db
def test_a_missing_file_is_a_clear_error(tmp_path):
    code, _, err = run_import(str(tmp_path / "absent.csv"))

    assert code == 1
    assert "cannot open" in err


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("national_id,full_name,phone,email\n110105199003071239,李伟,,\n".encode("gb18030"))

    code, _, err = run_import(str(path))

    assert code == 1
    assert "is not UTF-8" in err


@pytest.mark.django_db
def test_import_records_one_creation_per_resident(tmp_path):
    from ledger.models import PendingEntry

    path = write_csv(tmp_path / "r.csv", [[n, "A", "", ""] for n in many_national_ids(4)])

    run_import(path)

    assert PendingEntry.objects.filter(action="cards.residents.create", channel="command").count() == 4


@pytest.mark.django_db
def test_each_imported_resident_has_one_creation_entry_naming_them(tmp_path):
    from ledger.api import subject_pseudonym
    from ledger.models import PendingEntry

    numbers = list(many_national_ids(30))
    path = write_csv(tmp_path / "r.csv", [[n, f"Person {i}", "", ""] for i, n in enumerate(numbers)])

    assert run_import(path)[0] == 0

    residents = list(Resident.objects.all())
    created = PendingEntry.objects.filter(action="cards.residents.create")
    assert sorted(created.values_list("subject", flat=True)) == sorted(subject_pseudonym(r) for r in residents)
    assert {r.national_id for r in residents} == set(numbers)
    assert all(r.created_at is not None and r.updated_at is not None for r in residents)
    assert ResidentFactory().pk > max(r.pk for r in residents)
