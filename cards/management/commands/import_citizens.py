import csv
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cards.actions import IMPORT_FIELDS, residents_import
from cards.errors import ImportRejected
from ledger.api import Actor, access_context

EXPECTED_HEADER = list(IMPORT_FIELDS)


class Command(BaseCommand):
    help = "Import residents from a CSV file (national_id,full_name,phone,email); all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to a UTF-8 CSV file with a header row")
        parser.add_argument("--dry-run", action="store_true", help="check every row but save nothing")

    def handle(self, *args, file, dry_run, **options):
        try:
            handle = open(file, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
        except OSError as error:
            raise CommandError(f"cannot open {file}: {error.strerror}") from None
        with handle:
            try:
                rows = list(self._rows(handle))
            except UnicodeDecodeError:
                raise CommandError(f"{file} is not UTF-8 text") from None
            except csv.Error as error:
                raise CommandError(f"{file}: {error}") from None
        shape_problems = [(line, "row", row) for line, row in rows if isinstance(row, str)]
        records = [(line, row) for line, row in rows if isinstance(row, dict)]
        show = sys.stderr.isatty() and options.get("verbosity", 1) > 0
        try:
            with access_context(
                actor=Actor(type="system", id="import_citizens"),
                role="registrar",
                channel="command",
                purpose="registration",
            ):
                count = residents_import(
                    rows=records,
                    dry_run=dry_run or bool(shape_problems),
                    progress=lambda items: tqdm(items, desc="checking", unit="row", disable=not show, file=sys.stderr),
                )
        except ImportRejected as rejected:
            self._report(sorted(shape_problems + rejected.problems))
        if shape_problems:
            self._report(shape_problems)
        verb = "would import" if dry_run else "imported"
        self.stdout.write(self.style.SUCCESS(f"{verb} {count} resident(s)"))

    def _rows(self, handle):
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            self._report([(1, "header", "file is empty; expected " + ",".join(EXPECTED_HEADER))])
        if [column.strip().lower() for column in header] != EXPECTED_HEADER:
            self._report([(1, "header", "expected " + ",".join(EXPECTED_HEADER) + ", found " + ",".join(header))])
        for values in reader:
            line = reader.line_num
            if not values or values == [""]:
                continue
            if len(values) != len(EXPECTED_HEADER):
                yield line, f"expected {len(EXPECTED_HEADER)} fields, found {len(values)}"
                continue
            yield line, dict(zip(EXPECTED_HEADER, values, strict=True))

    def _report(self, problems):
        for line, field, message in problems:
            self.stderr.write(f"line {line}: {field}: {message}")
        raise CommandError(f"{len(problems)} problem(s) found; nothing was saved.", returncode=1)
