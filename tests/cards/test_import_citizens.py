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


def write_lines(path, *lines: bytes) -> str:
    path.write_bytes(b"national_id,full_name,phone,email\n" + b"".join(line + b"\n" for line in lines))
    return str(path)


@pytest.mark.django_db
def test_a_nul_byte_is_a_problem_on_its_line_not_a_traceback(tmp_path):
    good = make_national_id(sequence=11).encode()
    path = write_lines(tmp_path / "r.csv", good + b",Li Wei,,", make_national_id(sequence=12).encode() + b",Li\x00Na,,")

    code, _, err = run_import(path)

    assert code == 1
    assert "line 3: full_name: contains a NUL byte" in err and "Traceback" not in err
    assert Resident.objects.count() == 0


@pytest.mark.django_db
def test_each_line_that_is_not_utf8_is_reported_with_its_number(tmp_path):
    path = write_lines(
        tmp_path / "r.csv",
        make_national_id(sequence=13).encode() + b",Li Wei,,",
        make_national_id(sequence=14).encode() + ",李娜,,".encode("gb18030"),
    )

    code, _, err = run_import(path)

    assert code == 1
    assert "line 3: row: is not UTF-8 text (byte 0xc0 at column 20)" in err
    assert "line 2:" not in err
    assert Resident.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "L" * 101, "full_name: must be at most 100 characters"),
        ("email", "a" * 250 + "@example.com", "email: must be at most 254 characters"),
        ("phone", "1" * 30, "phone: must be 7 to 15 digits"),
        ("full_name", "L" * 200_000, "row: a field is longer than"),
    ],
    ids=["name", "email", "phone", "beyond-the-csv-field-limit"],
)
def test_an_over_long_field_is_a_problem_on_its_line(tmp_path, field, value, message):
    row = {"national_id": make_national_id(sequence=15), "full_name": "Li Wei", "phone": "", "email": ""}
    row[field] = value
    path = write_csv(tmp_path / "r.csv", [[make_national_id(sequence=16), "Wang Fang", "", ""], list(row.values())])

    code, _, err = run_import(path)

    assert code == 1
    assert f"line 3: {message}" in err
    assert Resident.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("character", ["\u0007", "\u202e", "\u200b", "\u2066"], ids=["bell", "rlo", "zwsp", "lri"])
def test_control_and_bidirectional_characters_in_a_name_are_refused(tmp_path, character):
    path = write_csv(tmp_path / "r.csv", [[make_national_id(sequence=17), f"Li{character}Wei", "", ""]])

    code, _, err = run_import(path)

    assert code == 1
    code_point = f"U+{ord(character):04X}"
    assert f"line 2: full_name: must not contain control or invisible formatting characters ({code_point})" in err
    assert Resident.objects.count() == 0


@pytest.mark.django_db
def test_a_name_with_ordinary_spaces_and_chinese_characters_is_accepted(tmp_path, ledger_context):
    path = write_csv(tmp_path / "r.csv", [[make_national_id(sequence=18), "  欧阳\t娜娜 ", "", ""]])

    code, _, _ = run_import(path)

    assert code == 0
    assert Resident.objects.get().full_name == "欧阳 娜娜"
