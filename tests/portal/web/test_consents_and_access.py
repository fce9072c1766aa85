import json
import re

import pytest
from django.utils.timezone import now

from ledger.api import Actor, access_context
from ledger.models import PendingEntry
from portal.models import AccessReport
from services.core.actions import consent_grant
from tests.factories.core import AgencyFactory
from tests.factories.portal import sign_in

pytestmark = pytest.mark.django_db
SELF = ("resident", "resident", "web", "self-service", "ok")
CONSENT = ("resident", "resident", "web", "consent-management", "ok")


@pytest.fixture
def bank(db):
    return AgencyFactory(code="demo-bank", name_en="Demo Bank", name_zh_hans="示范银行")


def given_consent(resident, agency):
    with access_context(
        actor=Actor(type="system", id="test"), role="test", channel="task", purpose="consent-management"
    ):
        return consent_grant(
            resident=resident, agency=agency, scope="residents:verify", purpose="identity-verification"
        )


def given_services_of(resident):
    """Give RESIDENT an employer, contributions, a claim, a visit and a prescription, each easy to spot."""
    import datetime

    from services.social_security.models import UnemploymentClaim
    from tests.factories.health import hospital, prescription, visit
    from tests.factories.services import contribute, employ, employer

    shipyard = employer(name_en="Tidewater Shipyard", name_zh_hans="Tidewater Shipyard")
    employ(resident, shipyard, started_on=datetime.date(2019, 1, 1))
    contribute(resident, shipyard, datetime.date(2024, 1, 1), 3)
    UnemploymentClaim.objects.create(
        resident=resident, unemployed_since=datetime.date(2025, 1, 1), reason="B-claim-reason"
    )
    clinic = hospital(name_en="Hillcrest Clinic", name_zh_hans="Hillcrest Clinic")
    visit(resident, clinic, diagnosis="Broken wrist")
    prescription(resident, clinic, drug_name="Oxycodone", controlled_class="narcotic", max_days_supply=5, quantity=10)


def given_agency_access(resident, agency_code="demo-bank"):
    from cards.selectors import card_list_for_resident

    with access_context(
        actor=Actor(type="agency", id=agency_code), role="bank", channel="api", purpose="identity-verification"
    ):
        card_list_for_resident(resident=resident)
    return PendingEntry.objects.order_by("-id").first()


def test_consents_page_lists_consents_and_records_the_list(client_a, resident_a, bank, ledger_rows):
    given_consent(resident_a[1], bank)
    rows = ledger_rows.__call__  # mark taken at fixture set-up

    response = client_a.get("/me/consents/")

    assert response.status_code == 200
    assert "Demo Bank" in response.content.decode()
    assert rows()[-1:] == [("services.consents.list", *SELF)]


def test_granting_a_consent_needs_step_up_and_records_the_grant(client, resident_a, bank, ledger_rows):
    user, resident, _card, device = resident_a
    sign_in(client, user, device)
    refused = client.post("/me/consents/grant/", {})
    sign_in(client, user, device, step_up=True)

    response = client.post(
        "/me/consents/grant/", {"agency": "demo-bank", "scope": "residents:verify", "purpose": "identity-verification"}
    )

    assert refused.status_code == 302 and refused["Location"].startswith("/account/step-up/")
    assert response.status_code == 302
    assert resident.consents.count() == 1
    assert ledger_rows() == [("services.consents.grant", *CONSENT)]


def test_a_purpose_that_does_not_fit_the_scope_is_refused(client, resident_a, bank):
    user, resident, _card, device = resident_a
    sign_in(client, user, device, step_up=True)

    response = client.post(
        "/me/consents/grant/", {"agency": "demo-bank", "scope": "residents:verify", "purpose": "drug-dispensing"}
    )

    assert response.status_code == 200
    assert resident.consents.count() == 0


def test_revoking_a_consent(client, resident_a, bank, ledger_rows):
    user, resident, _card, device = resident_a
    consent = given_consent(resident, bank)
    sign_in(client, user, device, step_up=True)

    response = client.post(f"/me/consents/{consent.receipt_id}/revoke/")

    consent.refresh_from_db()
    assert response.status_code == 302
    assert consent.revoked_at is not None
    assert ledger_rows()[-1] == ("services.consents.revoke", *CONSENT)


def test_receipt_download(client_a, resident_a, bank, ledger_rows):
    consent = given_consent(resident_a[1], bank)
    mark = len(ledger_rows())

    response = client_a.get(f"/me/consents/{consent.receipt_id}/receipt.json")

    receipt = json.loads(response.content)
    assert receipt["receipt_id"] == str(consent.receipt_id)
    assert ledger_rows()[mark:] == [("services.consents.receipt", *SELF)]


def test_access_history_shows_an_agency_access_with_filters(client_a, resident_a, bank, ledger_rows):
    given_agency_access(resident_a[1])
    mark = len(ledger_rows())

    everyone = client_a.get("/me/access/")
    banks_only = client_a.get("/me/access/?actor=staff")

    assert "Demo Bank" in everyone.content.decode()
    assert "Identity verification" in everyone.content.decode()
    assert "Demo Bank" not in banks_only.content.decode()
    assert ledger_rows()[mark:] == [("portal.access_history.read", *SELF)] * 2


def _main_and_folded(page: str) -> tuple[str, str]:
    """Split the history page into its main list of accesses and the folded section after it."""
    listed = page.split('<section class="access-list"', 1)[1]
    main, _sep, folded = listed.partition('<details class="access-folded">')
    return main, folded.split("</details>\n  {% endif %}", 1)[0]


def test_access_history_folds_my_own_and_onecards_accesses_away_by_default(client_a, resident_a):
    client_a.get("/me/card/")
    own_read = "You made the QR code of your card for your own use."

    main, folded = _main_and_folded(client_a.get("/me/access/").content.decode())
    everyone, _nothing_folded = _main_and_folded(client_a.get("/me/access/?actor=all").content.decode())

    assert own_read not in main
    assert own_read in folded
    assert own_read in everyone
    assert "cards.credentials.static.issue" not in main + folded + everyone


def test_reporting_an_unrecognised_access_opens_a_case(client_a, resident_a, ledger_rows):
    entry = given_agency_access(resident_a[1])
    mark = len(ledger_rows())

    response = client_a.post(f"/me/access/p{entry.pk}/report/", {"text": "I never went to this bank."})

    assert response.status_code == 302
    report = AccessReport.objects.get()
    assert report.resident == resident_a[1]
    assert "demo-bank" in report.entry_summary
    assert report.status == "open"
    assert ledger_rows()[mark:] == [("portal.access_reports.open", *SELF)]


def test_proof_of_an_unsealed_entry_is_not_available_yet(client_a, resident_a):
    entry = given_agency_access(resident_a[1])

    response = client_a.get(f"/me/access/p{entry.pk}/proof.json")

    assert response.status_code == 409


def test_every_portal_url_refuses_another_residents_identifiers(client, resident_a, resident_b, bank):
    """Walk each portal URL as resident A with resident B's identifiers: 404/403/redirect, never B's data."""
    user_a, _resident_a, card_a, device_a = resident_a
    _user_b, resident_b_record, card_b, _device_b = resident_b
    consent_b = given_consent(resident_b_record, bank)
    entry_b = given_agency_access(resident_b_record)
    given_services_of(resident_b_record)
    from tests.factories.grants import ProgrammeFactory, apply

    application_b = apply(ProgrammeFactory(), resident_b_record)
    report_b = AccessReport.objects.create(
        resident=resident_b_record,
        entry_summary="x",
        text="B-report-text",
        caseworker_note="B-answer",
        answered_at=now(),
    )
    from tests.factories import ResidentFactory
    from tests.portal.web.test_family import given_adult_grant

    proxy_grant_b = given_adult_grant(resident_b_record, ResidentFactory())
    sign_in(client, user_a, device_a, step_up=True)
    identifiers = {
        "code": "no-such-programme",
        "application_id": application_b.pk,
        "grant_id": proxy_grant_b.pk,
        "receipt_id": consent_b.receipt_id,
        "reference": f"p{entry_b.pk}",
        "uidb64": "x",
        "token": "x",
        "section": "health",
        "report_id": report_b.pk,
    }
    b_secrets = [
        card_b.number,
        card_b.number_display,
        str(consent_b.receipt_id),
        resident_b_record.full_name,
        "Broken wrist",
        "Oxycodone",
        "B-claim-reason",
        "B-report-text",
        "B-answer",
    ]
    from portal.web import urls as portal_urls

    walked = 0
    for pattern in portal_urls.urlpatterns:
        names = list(pattern.pattern.converters)
        path = "/" + str(pattern.pattern)
        for name in names:
            path = re.sub(rf"<(\w+:)?{name}>", str(identifiers[name]), path)
        assert "<" not in path, path
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            body = response.content.decode(errors="replace") if not response.streaming else ""
            for secret in b_secrets:
                assert secret not in body, f"{method.upper()} {path} leaked {secret!r}"
            if {"receipt_id", "reference", "application_id", "report_id", "grant_id"} & set(names):
                assert response.status_code in (403, 404, 405), f"{method.upper()} {path} -> {response.status_code}"
            walked += 1
        sign_in(client, user_a, device_a, step_up=True)
    assert walked == 2 * len(portal_urls.urlpatterns)
    card_b.refresh_from_db()
    assert card_b.status == "active"
    consent_b.refresh_from_db()
    assert consent_b.revoked_at is None
    assert list(AccessReport.objects.filter(resident=resident_b_record)) == [report_b]
    report_b.refresh_from_db()
    assert report_b.replied_at is None
    proxy_grant_b.refresh_from_db()
    assert proxy_grant_b.ended_at is None
    assert card_a.pk != card_b.pk


def test_access_history_pages_down_the_ledger_keeping_the_filters(client_a, resident_a, bank):
    import html

    from ledger.sequencer import sequence

    for _ in range(60):
        given_agency_access(resident_a[1])
    client_a.get("/me/card/")  # own reads, left out by the agency filter
    sequence()

    first = client_a.get("/me/access/?actor=agency")
    older = re.search(r'href="(\?[^"]*before=\d+[^"]*)">Older accesses', first.content.decode())
    second = client_a.get("/me/access/" + html.unescape(older.group(1)))

    assert first.content.decode().count('<li class="access-entry') == 50
    assert "actor=agency" in older.group(1)
    assert second.content.decode().count('<li class="access-entry') == 10
    assert second.content.decode().count("Demo Bank listed your cards to check who you are.") == 10
    assert "Older accesses" not in second.content.decode()
    assert "Newest accesses" in second.content.decode()


def test_verify_is_offered_against_the_published_log_key(client_a):
    page = client_a.get("/me/access/").content.decode()

    assert 'data-log-key-url="/ledger/key"' in page
    assert "not yet witnessed" in page


@pytest.mark.parametrize(
    "path",
    [
        "/me/access/?before=%C2%B2",  # "²": isdigit() but not int()
        "/me/access/?before=99999999999999999999999",
        "/me/access/%C2%B9/report/",
        "/me/access/p%C2%B2/proof.json",
        "/me/access/99999999999999999999999/proof.json",
    ],
)
def test_numbers_that_are_not_plain_digits_never_make_a_500(client_a, settings, path):
    settings.DEBUG = False
    client_a.raise_request_exception = False

    response = client_a.get(path)

    assert response.status_code in (200, 404)
