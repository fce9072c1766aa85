"""The public page and releases.json, the partner API that publishes, and the resident's access history."""

import datetime

import pytest
from django.test import override_settings

from cards.models import Resident
from services.statistics.actions import period_publish
from services.statistics.periods import period_parse
from services.statistics.tables import TABLES
from tests.factories.core import agency_with_key
from tests.factories.portal import resident_with_account, sign_in
from tests.factories.services import api
from tests.services.statistics import data

pytestmark = pytest.mark.django_db

PERIOD = period_parse(data.PERIOD)


def test_releases_json_lists_each_release_with_its_privacy_parameters_and_the_budget(client, statistician):
    data.resident()
    period_publish(period=PERIOD, tables=["residents", "grant-payments"])

    body = client.get("/statistics/releases.json").json()

    assert {(release["table"], release["period"]) for release in body["releases"]} == {
        ("residents", "2025-09"),
        ("grant-payments", "2025-09"),
    }
    residents = next(release for release in body["releases"] if release["table"] == "residents")
    assert residents["privacy"]["mechanism"] == "discrete_gaussian"
    assert residents["privacy"]["measure"] == "zCDP"
    assert residents["privacy"]["rho"] == 0.1
    assert residents["privacy"]["measures"]["count"]["sensitivity"] == 1.0
    assert residents["rows"][0]["label"] == "Beijing" and isinstance(residents["rows"][0]["value"], int)
    assert body["budget"] == {"2025-09": {"spent": 0.2, "limit": 0.5}}


def test_releases_json_names_no_resident(client, statistician):
    person = data.resident()
    period_publish(period=PERIOD, tables=["residents"])

    text = client.get("/statistics/releases.json").content.decode()

    assert person.full_name not in text and person.national_id not in text
    assert '"label_en"' not in text  # only the labels of the language asked


def test_the_page_shows_the_charts_and_the_privacy_parameters_in_english_and_chinese(client, statistician):
    data.resident()
    period_publish(period=PERIOD)

    english = client.get("/statistics/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/statistics/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "Residents registered, by province" in english and "<svg" in english
    assert "Privacy budget of 2025-09" in english and "ρ = 0.5" in english
    assert "按省份统计的登记居民" in chinese and "隐私预算" in chinese and "北京" in chinese


def test_the_page_before_any_release_says_so(client):
    response = client.get("/statistics/")

    assert response.status_code == 200 and "Nothing has been published yet." in response.content.decode()


def test_the_page_answers_a_malformed_month_with_a_message_not_an_error(client):
    response = client.get("/statistics/?period=2025-99")

    assert response.status_code == 200


def _publisher():
    return agency_with_key(kind="government", scopes=("statistics:publish",), purposes=("official-statistics",))


def test_the_api_publishes_a_table_then_returns_the_same_release(client):
    data.resident()
    _agency, key = _publisher()
    partner = api(key, "official-statistics")

    first = partner.post("/api/v1/statistics/releases", {"table": "residents", "period": "2025-09"}, format="json")
    again = partner.post("/api/v1/statistics/releases", {"table": "residents", "period": "2025-09"}, format="json")

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["rows"] == again.json()["rows"]


@override_settings(ONECARD_STATISTICS_TABLE_SHARES={code: 0.6 for code in TABLES})
def test_the_api_refuses_a_request_beyond_the_budget_as_problem_json():
    _agency, key = _publisher()
    partner = api(key, "official-statistics")
    partner.post("/api/v1/statistics/releases", {"table": "residents", "period": "2025-09"}, format="json")

    response = partner.post("/api/v1/statistics/releases", {"table": "card-uses", "period": "2025-09"}, format="json")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/privacy-budget-exhausted")
    assert "exhausted" in response.json()["detail"]


def test_the_api_refuses_a_month_not_yet_closed_and_a_malformed_one():
    _agency, key = _publisher()
    partner = api(key, "official-statistics")
    today = datetime.date.today()

    open_month = partner.post(
        "/api/v1/statistics/releases", {"table": "residents", "period": f"{today:%Y-%m}"}, format="json"
    )
    malformed = partner.post("/api/v1/statistics/releases", {"table": "residents", "period": "2025-9"}, format="json")

    too_early = partner.post("/api/v1/statistics/releases", {"table": "residents", "period": "1969-12"}, format="json")

    assert open_month.status_code == 409 and open_month.json()["type"].endswith("/period-not-closed")
    assert malformed.status_code == 400 and malformed["Content-Type"] == "application/problem+json"
    assert too_early.status_code == 400 and too_early.json()["type"].endswith("/period-invalid")


def test_an_agency_without_the_scope_cannot_publish():
    _agency, key = agency_with_key(kind="bank", scopes=("checks:age",), purposes=("credit-assessment",))

    response = api(key, "official-statistics").post(
        "/api/v1/statistics/releases", {"table": "residents", "period": "2025-09"}, format="json"
    )

    assert response.status_code == 403


def test_the_access_history_shows_the_releases_a_resident_was_counted_in_and_their_privacy_loss(
    client, commit_path, statistician
):
    user, person, _card, device = resident_with_account()
    Resident.objects.filter(pk=person.pk).update(created_at=data.IN_PERIOD)
    data.pharmacy_sessions(person, count=1)
    with commit_path():
        period_publish(period=PERIOD, tables=["residents", "card-uses", "prescriptions"])
    sign_in(client, user, device)

    page = client.get("/me/access/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Your data in published statistics" in page
    # Without a fill the resident is a zero in the prescriptions table: computed over their data all the same.
    assert "counted in 3 published tables" in page
    assert "Residents registered, by province" in page and "Card uses, by service and ISO week" in page
    assert "Prescriptions dispensed, by drug class and month" in page
    assert "Your privacy loss this year: ρ = 0.3," in page


def test_a_resident_not_counted_is_told_so(client):
    user, _person, _card, device = resident_with_account()
    sign_in(client, user, device)

    page = client.get("/me/access/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "has not been counted in any published statistics yet" in page


def test_the_home_page_links_to_the_statistics(client):
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert 'href="/statistics/"' in english and "Trend statistics, published under differential privacy" in english
    assert "在差分隐私保护下发布的趋势统计" in chinese
