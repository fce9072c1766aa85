"""The access history page: 30-day summary by organisation, folded system and own accesses, answers to reports."""

import datetime
import re

import pytest
from django.utils import timezone

from ledger.api import Actor, access_context, record
from portal.actions import access_report_answer
from portal.models import AccessReport
from tests.factories.core import AgencyFactory

pytestmark = pytest.mark.django_db
SELF = ("resident", "resident", "web", "self-service", "ok")


def as_agency(resident, code: str, action: str, purpose: str, times: int = 1) -> None:
    with access_context(actor=Actor(type="agency", id=code), role="insurer", channel="api", purpose=purpose):
        for _ in range(times):
            record(action=action, subject=resident)


def as_system(resident, action: str = "cards.credentials.dynamic.issue", times: int = 1) -> None:
    with access_context(
        actor=Actor(type="system", id="cards.tasks.x"), role="system", channel="task", purpose="card-administration"
    ):
        for _ in range(times):
            record(action=action, subject=resident)


@pytest.fixture
def insurers(db):
    return (
        AgencyFactory(code="ping-an", name_en="Ping An Insurance", name_zh_hans="平安保险"),
        AgencyFactory(code="city-hospital", name_en="City Hospital", name_zh_hans="市医院"),
    )


def section(page: str, css_class: str) -> str:
    match = re.search(rf'<section class="{css_class}".*?</section>', page, flags=re.S)
    return match.group(0) if match else ""


def test_the_page_opens_on_a_30_day_summary_by_organisation_with_a_chart(
    client_a, resident_a, insurers, ledger_sequenced, ledger_rows
):
    resident = resident_a[1]
    as_agency(resident, "ping-an", "health.visits.read", "insurance-claims", times=3)
    as_agency(resident, "city-hospital", "health.prescriptions.read", "medical-treatment")
    as_system(resident, times=4)
    ledger_sequenced()
    mark = len(ledger_rows())

    page = client_a.get("/me/access/").content.decode()
    summary = section(page, "access-summary")

    assert "4 accesses by 2 organisations and caseworkers." in summary
    assert summary.index("Ping An Insurance") < summary.index("City Hospital")
    assert "3 times, last on" in summary
    assert "Read your hospital visits" in summary and "To settle an insurance claim" in summary
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="onecard-chart summary-chart"' in summary
    body = page.split("</head>")[1]
    # The chart is drawn on the server: the only scripts are the site's own files, none inline.
    assert 'role="img"' in summary and all(' src="' in tag for tag in re.findall(r"<script[^>]*>", body))
    # OneCard's four, and this very reading of the page by the resident.
    assert "OneCard itself and you made 5 more accesses in that time" in summary
    # One page view, one record, the summary included.
    assert ledger_rows()[mark:] == [("portal.access_history.read", *SELF)]


def test_the_summary_counts_only_the_last_30_days(client_a, resident_a, insurers, ledger_sequenced, monkeypatch):
    import ledger.recording

    resident = resident_a[1]
    long_ago = timezone.now() - datetime.timedelta(days=31)
    with monkeypatch.context() as patched:
        patched.setattr(ledger.recording.timezone, "now", lambda: long_ago)
        as_agency(resident, "city-hospital", "health.visits.read", "medical-treatment", times=2)
    as_agency(resident, "ping-an", "health.visits.read", "insurance-claims")
    ledger_sequenced()

    page = client_a.get("/me/access/").content.decode()
    summary = section(page, "access-summary")

    assert "Ping An Insurance" in summary
    assert "City Hospital" not in summary
    assert "City Hospital" in section(page, "access-list")


def test_the_summary_is_in_chinese_for_a_chinese_reader(client_a, resident_a, insurers, ledger_sequenced):
    as_agency(resident_a[1], "ping-an", "health.visits.read", "insurance-claims", times=2)
    ledger_sequenced()
    client_a.cookies["django_language"] = "zh-hans"

    page = client_a.get("/me/access/").content.decode()

    assert "平安保险" in section(page, "access-summary")
    assert "平安保险读取了您的就诊记录，用于保险理赔。" in page


def test_system_and_own_accesses_are_folded_and_each_entry_opens_on_its_details_and_proof(
    client_a, resident_a, insurers, ledger_sequenced
):
    resident = resident_a[1]
    as_agency(resident, "ping-an", "health.visits.read", "insurance-claims")
    as_system(resident, times=2)
    client_a.get("/me/card/")
    ledger_sequenced()

    page = client_a.get("/me/access/").content.decode()
    listed = section(page, "access-list")
    main, _sep, folded = listed.partition('<details class="access-folded">')

    assert main.count('<li class="access-entry') == 1
    assert "Ping An Insurance read your hospital visits to settle an insurance claim." in main
    assert "OneCard made a one-use QR code of your card to manage your card." in folded
    assert "You viewed your card for your own use." in folded
    entry = re.search(r'<li class="access-entry".*?</li>', main, flags=re.S).group(0)
    assert "<details>" in entry and "<summary>" in entry
    assert 'class="verify"' in entry and "proof.json" in entry and "I do not recognise this" in entry
    assert "Through the interface for partner organisations" in entry


def test_filters_keep_working_and_show_folded_kinds_when_asked(client_a, resident_a, insurers, ledger_sequenced):
    resident = resident_a[1]
    as_agency(resident, "ping-an", "health.visits.read", "insurance-claims")
    as_agency(resident, "city-hospital", "health.visits.read", "medical-treatment")
    as_system(resident)
    ledger_sequenced()

    treatment = section(client_a.get("/me/access/?purpose=medical-treatment").content.decode(), "access-list")
    system = section(client_a.get("/me/access/?actor=system").content.decode(), "access-list")

    assert "City Hospital read your hospital visits" in treatment and "Ping An" not in treatment
    assert "OneCard made a one-use QR code" in system and "access-folded" not in system
    assert (
        'value="medical-treatment" selected>Medical treatment<'
        in client_a.get("/me/access/?purpose=medical-treatment").content.decode()
    )


def given_report(client, resident, ledger_sequenced) -> AccessReport:
    as_agency(resident, "ping-an", "health.visits.read", "insurance-claims")
    entry_index = ledger_sequenced()[-1]["index"]
    client.post(f"/me/access/{entry_index}/report/", {"text": "I have no policy with Ping An."})
    return AccessReport.objects.get(resident=resident)


def test_the_resident_sees_the_caseworkers_answer_and_replies_once_which_goes_back_to_the_worklist(
    client_a, resident_a, insurers, ledger_sequenced, ledger_rows, ledger_context
):
    from portal.worklists import WORKLISTS

    resident = resident_a[1]
    report = given_report(client_a, resident, ledger_sequenced)
    waiting = section(client_a.get("/me/access/").content.decode(), "access-reports")
    access_report_answer(
        report=report, status="explained", caseworker_note="Your employer's group policy is with Ping An."
    )
    page = client_a.get("/me/access/").content.decode()
    answered = section(page, "access-reports")
    mark = len(ledger_rows())

    replied = client_a.post(f"/me/access/reports/{report.pk}/reply/", {"text": "I left that employer in 2024."})
    again = client_a.post(f"/me/access/reports/{report.pk}/reply/", {"text": "Second reply."}, follow=True)

    report.refresh_from_db()
    assert "A caseworker is looking into it" in waiting
    assert "Your employer&#x27;s group policy is with Ping An." in answered
    assert f'action="/me/access/reports/{report.pk}/reply/"' in answered
    assert "Your report #" in page  # the entry links to its report
    assert replied.status_code == 302 and replied["Location"].endswith(f"#report-{report.pk}")
    assert "You have already replied to this answer" in again.content.decode()
    assert (report.status, report.resident_reply) == ("replied", "I left that employer in 2024.")
    assert ledger_rows()[mark:][0] == ("portal.access_reports.reply", *SELF)
    assert "portal.access_reports.reply" not in [row[0] for row in ledger_rows()[mark + 1 :]]
    replies = next(worklist for worklist in WORKLISTS if worklist.code == "access-report-replies")
    assert replies.count(AccessReport) == 1
    after = section(client_a.get("/me/access/").content.decode(), "access-reports")
    assert "I left that employer in 2024." in after and "/reply/" not in after


def test_no_reply_before_an_answer(client_a, resident_a, insurers, ledger_sequenced):
    report = given_report(client_a, resident_a[1], ledger_sequenced)

    response = client_a.post(f"/me/access/reports/{report.pk}/reply/", {"text": "Hello?"}, follow=True)

    report.refresh_from_db()
    assert report.replied_at is None and report.status == "open"
    assert "there is no answer yet" in response.content.decode()


def test_answering_records_the_answer_with_its_time(
    resident_a, insurers, client_a, ledger_sequenced, ledger_context, commit_path
):
    report = given_report(client_a, resident_a[1], ledger_sequenced)

    with commit_path():
        access_report_answer(report=report, status="investigating", caseworker_note="We asked Ping An.")

    report.refresh_from_db()
    assert report.answered_at is not None
    assert ledger_sequenced(action="portal.access_reports.answer")[-1]["object"].endswith("open->investigating")
