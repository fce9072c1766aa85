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

    assert page.status_code == 200 and len(svgs) == 5
    values = [value for svg in svgs for value in _values(svg)]
    assert "6" in values and "<5" in values
    assert all(value == "<5" or int(value) >= 5 for value in values)
    assert all(_small_numbers(svg) == [] for svg in svgs)
    for response in exports.values():
        rows = list(csv.reader(io.StringIO(response.content.decode())))[1:]
        assert rows and all(count == "<5" or int(count) >= 5 for _, count in rows)
    assert ["HOSP01", "<5"] in list(csv.reader(io.StringIO(exports["accesses-by-agency"].content.decode())))
    assert "Not available" not in page.content.decode() and "Sequencer lag" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_dashboard_is_closed_to_roles_without_it(client):
    admin_login(client, staff_create("registrar"))

    assert client.get("/admin/dashboard/").status_code == 404
    assert client.get("/admin/dashboard/cards-by-status.csv").status_code == 404


def _dispense_once():
    """Fill one prescription through the pharmacy API; return the dispensation."""
    import datetime as dt

    from services.pharmacy.models import Dispensation
    from tests.factories.pharmacy import pharmacy_with_client, prescription, qr_token
    from tests.factories.services import contribute, employer

    card = CardFactory()
    contribute(card.resident, employer(), dt.date.today().replace(day=1), 1, insurances=["medical"])
    _agency, client = pharmacy_with_client()
    session = client.post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()["session"]
    rx = prescription(card.resident, min_fill_interval_days=0)
    response = client.post(
        "/api/v1/pharmacy/dispensations",
        {"session": session, "prescription": rx.pk, "quantity": 1, "price": "10.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="chart-1",
    )
    assert response.status_code == 201, response.content
    return Dispensation.objects.get()


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_grants_and_pharmacy_charts_reveal_no_count_below_five(client):
    import datetime as dt

    from django.utils import timezone

    from services.grants.models import Application
    from tests.factories.grants import ProgrammeFactory, apply

    programme = ProgrammeFactory()
    for _ in range(7):
        apply(programme, ResidentFactory())
    Application.objects.filter(pk__in=Application.objects.values_list("pk", flat=True)[:2]).update(status="eligible")
    dispensation = _dispense_once()
    yesterday = timezone.now() - dt.timedelta(days=1)
    for _ in range(6):
        dispensation.pk = None
        dispensation.dispensed_at = yesterday
        dispensation.save()
    admin_login(client, staff_create("grants-approver"))

    page = client.get("/admin/dashboard/").content.decode()
    exports = {
        code: list(csv.reader(io.StringIO(client.get(f"/admin/dashboard/{code}.csv").content.decode())))[1:]
        for code in ("applications-per-week", "dispensations-per-day")
    }

    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    assert [f"{monday:%Y-%m-%d} submitted", "5"] in exports["applications-per-week"]
    assert [f"{monday:%Y-%m-%d} eligible", "<5"] in exports["applications-per-week"]
    assert [f"{timezone.localdate():%Y-%m-%d}", "<5"] in exports["dispensations-per-day"]
    assert [f"{yesterday.astimezone(timezone.get_current_timezone()):%Y-%m-%d}", "6"] in exports[
        "dispensations-per-day"
    ]
    for rows in exports.values():
        assert rows and all(count == "<5" or int(count) >= 5 for _, count in rows)
    svgs = re.findall(r"<svg[^>]*onecard-chart.*?</svg>", page, flags=re.S)
    assert len(svgs) == 5 and "Not available" not in page
    values = [value for svg in svgs for value in _values(svg)]
    assert "6" in values and all(value == "<5" or int(value) >= 5 for value in values)
    assert all(_small_numbers(svg) == [] for svg in svgs)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_worklists_page_has_no_heading_without_content(client):
    admin_login(client, staff_create("card-officer"))

    page = client.get("/admin/worklists/").content.decode()

    assert "Coming with later services" not in page
    assert not re.search(r"<h2>[^<]*</h2>\s*<ul>\s*</ul>", page)
