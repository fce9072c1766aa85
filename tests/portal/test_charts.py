import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest

from cards.models import Card
from ledger.api import Actor, access_context, record
from portal import charts
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.portal.staff import admin_login, fast_password_hashing, staff_create  # noqa: F401 (fixture)

SVG = "{http://www.w3.org/2000/svg}"


def _values(svg: str) -> list[str]:
    return [element.text for element in ET.fromstring(svg).iter(f"{SVG}text") if element.get("class") == "value"]


def _bars(svg: str) -> list[ET.Element]:
    return [element for element in ET.fromstring(svg).iter(f"{SVG}rect") if "bar" in element.get("class", "")]


def test_counts_below_five_are_shown_as_less_than_five():
    assert [charts.cell(n) for n in (0, 1, 4, 5, 12)] == ["<5", "<5", "<5", "5", "12"]


def test_a_chart_shows_small_counts_only_as_less_than_five():
    chart = charts.Chart(code="c", title="t", rows=[("a", 0), ("b", 1), ("c", 4), ("d", 5), ("e", 40)])

    svg = charts.bar_svg(chart)

    assert _values(svg) == ["<5", "<5", "<5", "5", "40"]


def test_suppressed_bars_are_drawn_alike_whatever_their_count():
    chart = charts.Chart(code="c", title="t", rows=[("a", 1), ("b", 4), ("c", 0), ("d", 5), ("e", 40)])

    bars = _bars(charts.bar_svg(chart))

    assert {bar.get("width") for bar in bars[:3]} == {bars[3].get("width")}
    assert all(bar.get("fill") == "url(#suppressed)" for bar in bars[:3])


def test_the_csv_of_a_chart_suppresses_the_same_cells():
    chart = charts.Chart(code="c", title="t", rows=[("a", 3), ("b", 7)])

    lines = list(csv.reader(io.StringIO(charts.csv_text(chart))))

    assert lines == [["label", "count"], ["a", "<5"], ["b", "7"]]


def _small_numbers(text: str) -> list[str]:
    """Return the standalone numbers 0-4 in TEXT, outside SVG geometry attributes."""
    text = re.sub(r'\b(?:x|y|width|height|viewBox|patternTransform)="[^"]*"', "", text)
    return re.findall(r"(?<![\w.<#-])[0-4](?![\w.%-])", text)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_no_dashboard_chart_or_csv_reveals_a_count_below_five(client):
    for _ in range(3):
        CardFactory(status=Card.Status.LOST)
    for _ in range(6):
        CardFactory(status=Card.Status.ACTIVE)
    resident = ResidentFactory()
    hospital = Actor(type="agency", id="HOSP01")
    with access_context(actor=hospital, role="hospital", channel="api", purpose="registration"):
        for _ in range(2):
            record(action="cards.residents.lookup", subject=resident)
    admin_login(client, staff_create("card-officer"))

    page = client.get("/admin/dashboard/")
    svgs = re.findall(r"<svg[^>]*onecard-chart.*?</svg>", page.content.decode(), flags=re.S)
    exports = {code: client.get(f"/admin/dashboard/{code}.csv") for code in ("cards-by-status", "accesses-by-agency")}

    assert page.status_code == 200 and len(svgs) == 3
    values = [value for svg in svgs for value in _values(svg)]
    assert "6" in values and "<5" in values
    assert all(value == "<5" or int(value) >= 5 for value in values)
    assert all(_small_numbers(svg) == [] for svg in svgs)
    for response in exports.values():
        rows = list(csv.reader(io.StringIO(response.content.decode())))[1:]
        assert rows and all(count == "<5" or int(count) >= 5 for _, count in rows)
    assert ["HOSP01", "<5"] in list(csv.reader(io.StringIO(exports["accesses-by-agency"].content.decode())))
    assert "Not available" in page.content.decode() and "Sequencer lag" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_dashboard_is_closed_to_roles_without_it(client):
    admin_login(client, staff_create("registrar"))

    assert client.get("/admin/dashboard/").status_code == 404
    assert client.get("/admin/dashboard/cards-by-status.csv").status_code == 404
