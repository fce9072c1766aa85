"""The admin's resident search keeps national IDs out of URLs (and so out of access logs and Referer headers)."""

import re

import pytest

from ledger.api import subject_pseudonym
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.portal.staff import admin_login, fast_password_hashing, ledger_rows, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

URL_ATTRIBUTE = re.compile(rb'(?:href|action|src)="([^"]*)"')


@pytest.fixture
def officer(client):
    user = staff_create("card-officer")
    admin_login(client, user)
    purpose_state(client, "card-administration")
    return user


def urls_of(response) -> list[str]:
    """Return every URL the browser went to (redirects included) and every URL on the final page."""
    visited = [url for url, _status in response.redirect_chain] + [response.request["PATH_INFO"]]
    visited.append(response.request.get("QUERY_STRING", ""))
    return visited + [url.decode() for url in URL_ATTRIBUTE.findall(response.content)]


def test_a_national_id_search_finds_the_resident_and_no_url_carries_the_number(client, officer):
    resident = ResidentFactory()
    CardFactory(resident=resident)
    ResidentFactory()
    number = resident.national_id

    found = client.post("/admin/cards/resident/search/", {"q": number}, follow=True)
    page_two = client.get(found.redirect_chain[-1][0] + "&o=1", follow=True)
    export = client.get("/admin/cards/resident/export.csv?" + found.redirect_chain[-1][0].split("?", 1)[1])

    assert [row.pk for row in found.context["cl"].result_list] == [resident.pk]
    assert found.context["cl"].query == number
    assert [row.pk for row in page_two.context["cl"].result_list] == [resident.pk]
    assert export.content.decode().count("\n") == 2
    for url in urls_of(found) + urls_of(page_two):
        assert number not in url and number[:17] not in url
    searches = ledger_rows(action="cards.residents.admin.search")
    assert {(row["subject"], row["object"]) for row in searches} == {(subject_pseudonym(resident), "national-id")}


def test_the_search_box_posts_its_term(client, officer):
    ResidentFactory()

    response = client.get("/admin/cards/resident/")

    form = re.search(rb'<form id="changelist-search"[^>]*>', response.content).group(0)
    assert b'method="post"' in form and b'action="search/"' in form


def test_a_term_typed_into_the_address_is_not_searched_nor_recorded_as_a_search(client, officer):
    resident = ResidentFactory()

    response = client.get("/admin/cards/resident/", {"q": resident.national_id})

    assert response.status_code == 302 and resident.national_id not in response["Location"]
    assert ledger_rows() == []


def test_a_token_from_another_session_finds_nothing(client, officer):
    resident = ResidentFactory()
    found = client.post("/admin/cards/resident/search/", {"q": resident.national_id})
    other = client.__class__()
    admin_login(other, staff_create("card-officer"))
    purpose_state(other, "card-administration")
    mark = len(ledger_rows())

    response = other.get(found["Location"])

    assert response.status_code == 302 and "_search" not in response["Location"]
    assert len(ledger_rows()) == mark


def test_the_search_view_takes_only_a_post(client, officer):
    assert client.get("/admin/cards/resident/search/", {"q": "x"}).status_code == 405
