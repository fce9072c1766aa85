"""Write CSV that a spreadsheet opens as data, never as formulas.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by Excel, LibreOffice and Google Sheets
(``=HYPERLINK(...)`` sends the reader's data elsewhere). Every CSV OneCard
writes goes through ``csv_writer``, which prefixes such text with an
apostrophe; numbers are written as they are, so a negative amount stays a number.
"""

import csv
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """Return VALUE as a CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _GuardedWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **options) -> _GuardedWriter:
    """Return a csv.writer on STREAM (OPTIONS as for csv.writer) that guards every cell with csv_cell."""
    return _GuardedWriter(csv.writer(stream, **options))
