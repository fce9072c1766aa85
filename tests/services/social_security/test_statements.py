import csv
import datetime
import io
from decimal import Decimal

from services.social_security.selectors import Statement, StatementLine
from services.social_security.statements import statement_csv


def test_the_statement_csv_writes_an_employers_formula_as_text():
    line = StatementLine(
        month=datetime.date(2024, 1, 1),
        employer_code="E1",
        employer_name='=HYPERLINK("http://evil.example","x")',
        insurance="pension",
        base=Decimal("-5000.00"),
        employer_amount=Decimal("800.00"),
        employee_amount=Decimal("400.00"),
    )
    statement = Statement(
        resident_name="Li Wei",
        national_id_masked="1101**********0011",
        generated_at=datetime.datetime.now(),
        lines=[line],
    )

    rows = list(csv.reader(io.StringIO(statement_csv(statement).decode("utf-8-sig"))))

    assert rows[1][2] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1][4] == "-5000.00"
