import io
from decimal import Decimal

import pytest

from cards.spreadsheet import csv_cell, csv_writer


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://e.example")'])
def test_text_a_spreadsheet_would_run_is_prefixed_with_an_apostrophe(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"), [(Decimal("-12.50"), "-12.50"), (-3, "-3"), (None, ""), ("Li Wei", "Li Wei")]
)
def test_numbers_and_plain_text_are_written_as_they_are(value, cell):
    assert csv_cell(value) == cell


def test_the_writer_guards_every_cell_of_every_row():
    buffer = io.StringIO()

    csv_writer(buffer).writerows([["=a", 1], ["b", "@c"]])

    assert buffer.getvalue() == "'=a,1\r\nb,'@c\r\n"
