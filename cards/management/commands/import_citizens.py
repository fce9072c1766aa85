import csv
import io
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
            with open(file, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise CommandError(f"cannot open {file}: {error.strerror}") from None
        text = self._decoded(data)
        rows = list(self._rows(io.StringIO(text, newline="")))
        shape_problems = [row for row in rows if len(row) == 3]
        records = [row for row in rows if len(row) == 2]
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

    def _decoded(self, data: bytes) -> str:
        """Return DATA as text, or report each line that is not UTF-8."""
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        problems = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                byte = line[error.start]
                problems.append((number, "row", f"is not UTF-8 text (byte 0x{byte:02x} at column {error.start + 1})"))
        self._report(problems)

    def _rows(self, handle):
        """Yield (line, {field: value}) for each record and (line, field, message) for each malformed one."""
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as error:
            self._report([(reader.line_num or 1, "header", _csv_message(error))])
        if header is None:
            self._report([(1, "header", "file is empty; expected " + ",".join(EXPECTED_HEADER))])
        if [column.strip().lower() for column in header] != EXPECTED_HEADER:
            found = ",".join(header)[:200].replace("\x00", "\\x00")
            self._report([(1, "header", "expected " + ",".join(EXPECTED_HEADER) + ", found " + found)])
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                # The reader cannot be trusted past a malformed record: report it and stop.
                yield reader.line_num, "row", _csv_message(error)
                return
            line = reader.line_num
            if not values or values == [""]:
                continue
            if len(values) != len(EXPECTED_HEADER):
                yield line, "row", f"expected {len(EXPECTED_HEADER)} fields, found {len(values)}"
                continue
            row = dict(zip(EXPECTED_HEADER, values, strict=True))
            with_nul = [field for field, value in row.items() if "\x00" in value]
            for field in with_nul:
                yield line, field, "contains a NUL byte"
            if not with_nul:
                yield line, row

    def _report(self, problems):
        for line, field, message in problems:
            self.stderr.write(f"line {line}: {field}: {message}")
        raise CommandError(f"{len(problems)} problem(s) found; nothing was saved.", returncode=1)


def _csv_message(error: csv.Error) -> str:
    message = str(error)
    if message.startswith("field larger than field limit"):
        return f"a field is longer than {csv.field_size_limit()} characters"
    return message
