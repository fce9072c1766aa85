"""Render a contribution statement as CSV or PDF."""

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cards.spreadsheet import csv_writer
from services.social_security.months import month_label

CSV_HEADER = ["month", "employer_code", "employer_name", "insurance", "base", "employer_amount", "employee_amount"]
# A CID font ships with every PDF reader, so Chinese names render without embedding a font file.
_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def statement_csv(statement) -> bytes:
    """Return STATEMENT as UTF-8 CSV (with a byte-order mark, so spreadsheet programs read the Chinese names)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in statement.lines:
        writer.writerow(
            [
                month_label(line.month),
                line.employer_code,
                line.employer_name,
                line.insurance,
                line.base,
                line.employer_amount,
                line.employee_amount,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def statement_pdf(statement) -> bytes:
    """Return STATEMENT as an A4 PDF with a table of every contribution and the totals."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Social insurance contribution statement",
        author="OneCard",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    heading = ParagraphStyle("heading", fontName=_FONT, fontSize=14, leading=18)
    body = ParagraphStyle("body", fontName=_FONT, fontSize=9, leading=12)
    employer_total = sum((line.employer_amount for line in statement.lines), Decimal("0.00"))
    employee_total = sum((line.employee_amount for line in statement.lines), Decimal("0.00"))
    months = len({line.month for line in statement.lines})
    rows = [["Month 月份", "Employer 单位", "Insurance 险种", "Base 基数", "Employer 单位缴", "Employee 个人缴"]]
    rows += [
        [
            month_label(line.month),
            line.employer_name[:30],
            line.insurance,
            f"{line.base:,.2f}",
            f"{line.employer_amount:,.2f}",
            f"{line.employee_amount:,.2f}",
        ]
        for line in statement.lines
    ]
    rows.append(["Total 合计", "", "", "", f"{employer_total:,.2f}", f"{employee_total:,.2f}"])
    table = Table(rows, repeatRows=1, colWidths=[22 * mm, 50 * mm, 26 * mm, 26 * mm, 28 * mm, 28 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
                ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
            ]
        )
    )
    story = [
        Paragraph("Social insurance contribution statement 社会保险缴费明细", heading),
        Spacer(1, 4 * mm),
        Paragraph(f"Resident 参保人: {escape(statement.resident_name)} ({statement.national_id_masked})", body),
        Paragraph(f"Generated 生成时间: {statement.generated_at:%Y-%m-%d %H:%M} UTC", body),
        Paragraph(f"Months with contributions 缴费月数: {months}", body),
        Spacer(1, 4 * mm),
        table,
    ]
    document.build(story)
    return buffer.getvalue()
