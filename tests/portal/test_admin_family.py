"""The staff admin's family proxies: a caseworker links a minor to a parent from documents, and ends a link."""

import datetime

import pytest
from django.utils import timezone

from ledger.api import subject_pseudonym
from portal.models import ProxyGrant
from tests.factories import ResidentFactory
from tests.idnumbers import make_national_id
from tests.portal.staff import admin_login, fast_password_hashing, ledger_rows, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def _born_years_ago(years: int) -> str:
    today = timezone.localdate()
    return (today.replace(year=today.year - years) - datetime.timedelta(days=1)).strftime("%Y%m%d")


@pytest.fixture
def registrar(client):
    user = staff_create("registrar")
    admin_login(client, user)
    purpose_state(client, "registration")
    return user


@pytest.fixture
def parent_and_child(db):
    parent_id = make_national_id(birth="19850304", sequence=321)
    child_id = make_national_id(birth=_born_years_ago(9), sequence=322)
    parent = ResidentFactory(national_id_value=parent_id)
    child = ResidentFactory(national_id_value=child_id)
    return parent, parent_id, child, child_id


def _link_form(parent_id: str, child_id: str, **fields) -> dict:
    return {
        "parent_national_id": parent_id,
        "child_national_id": child_id,
        "relationship": "parent",
        "reason": "The mother asked at the Huangpu service centre.",
        "document_reference": "Birth certificate N310101201601",
        **fields,
    }


def test_a_registrar_links_a_child_to_a_parent_and_both_get_the_entry(client, registrar, parent_and_child):
    parent, parent_id, child, child_id = parent_and_child

    form = client.get("/admin/portal/proxygrant/add/")
    response = client.post("/admin/portal/proxygrant/add/", _link_form(parent_id, child_id))

    assert form.status_code == 200 and "Document reference" in form.content.decode()
    assert response.status_code == 302
    grant = ProxyGrant.objects.get()
    assert (grant.proxy, grant.dependant, grant.kind, grant.document_reference) == (
        parent,
        child,
        "minor",
        "Birth certificate N310101201601",
    )
    rows = ledger_rows(action="portal.proxies.link")
    assert sorted((row["subject"], row["actor_type"], row["purpose"], row["object"]) for row in rows) == sorted(
        [
            (subject_pseudonym(child), "staff", "registration", grant.ledger_object),
            (subject_pseudonym(parent), "staff", "registration", grant.ledger_object),
        ]
    )


@pytest.mark.parametrize("missing", ["reason", "document_reference"])
def test_a_link_without_a_reason_or_document_is_refused_with_a_message(client, registrar, parent_and_child, missing):
    _parent, parent_id, _child, child_id = parent_and_child

    response = client.post("/admin/portal/proxygrant/add/", _link_form(parent_id, child_id, **{missing: "  "}))

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ProxyGrant.objects.exists()
    assert ledger_rows(action="portal.proxies.link") == []


def test_a_link_to_an_adult_is_refused_with_a_message(client, registrar, parent_and_child):
    _parent, parent_id, _child, _child_id = parent_and_child
    adult_id = make_national_id(birth="19990101", sequence=323)
    ResidentFactory(national_id_value=adult_id)

    response = client.post("/admin/portal/proxygrant/add/", _link_form(parent_id, adult_id))

    assert response.status_code == 200
    assert "The child is 18 or older" in response.content.decode()
    assert not ProxyGrant.objects.exists()


def test_a_link_to_an_unregistered_id_says_so_to_the_caseworker(client, registrar, parent_and_child):
    _parent, parent_id, _child, _child_id = parent_and_child

    response = client.post(
        "/admin/portal/proxygrant/add/", _link_form(parent_id, make_national_id(birth="20160101", sequence=999))
    )

    assert response.status_code == 200
    assert "No resident is registered with this national ID." in response.content.decode()


def test_opening_a_link_records_the_look_and_ending_it_records_under_both(client, registrar, parent_and_child):
    _parent, parent_id, child, child_id = parent_and_child
    client.post("/admin/portal/proxygrant/add/", _link_form(parent_id, child_id))
    grant = ProxyGrant.objects.get()

    opened = client.get(f"/admin/portal/proxygrant/{grant.pk}/change/")
    client.post("/admin/portal/proxygrant/", {"action": "end_grants", "_selected_action": [grant.pk], "index": 0})

    assert opened.status_code == 200
    assert [row["subject"] for row in ledger_rows(action="portal.proxies.admin.read")] == [subject_pseudonym(child)]
    grant.refresh_from_db()
    assert grant.ended_by == "caseworker"
    assert len(ledger_rows(action="portal.proxies.end", object=f"{grant.ledger_object} by caseworker")) == 2
