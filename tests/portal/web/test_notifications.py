"""Residents told by e-mail or SMS, daily or weekly, in their language, who accessed their data; sent once, retried."""

import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from ledger.api import Actor, access_context, record
from portal import sms
from portal.models import AccessDigest, NotificationSetting
from portal.notifications import period_of
from portal.tasks import access_digests_send
from tests.factories.core import AgencyFactory
from tests.factories.portal import resident_with_account, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outboxes_empty(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ONECARD_SMS_BACKEND = "portal.sms.LocmemSmsBackend"
    settings.ONECARD_PORTAL_URL = "https://onecard.example"
    sms.outbox.clear()
    FailsOnce.failed = False
    yield
    sms.outbox.clear()


@pytest.fixture
def resident(db):
    user, resident, _card, device = resident_with_account()
    resident.phone = "13800138000"
    resident.save(update_fields=["phone"])
    return user, resident, device


@pytest.fixture
def insurer(db):
    return AgencyFactory(code="ping-an", name_en="Ping An Insurance", name_zh_hans="平安保险")


def subscribe(resident, **fields) -> NotificationSetting:
    from portal.notifications import notification_setting_update

    values = {"channel": "email", "frequency": "daily", "language": "en", **fields}
    with access_context(
        actor=Actor(type="resident", id="test"), role="resident", channel="web", purpose="self-service"
    ):
        return notification_setting_update(resident=resident, **values)


def partner_reads(resident, *, action="health.visits.read", purpose="insurance-claims", code="ping-an") -> None:
    with access_context(actor=Actor(type="agency", id=code), role="insurer", channel="api", purpose=purpose):
        record(action=action, subject=resident)


def system_and_own_accesses(resident) -> None:
    with access_context(
        actor=Actor(type="system", id="x"), role="system", channel="task", purpose="card-administration"
    ):
        record(action="cards.credentials.dynamic.issue", subject=resident)


def run_digests(commit_path, frequency="daily") -> None:
    with commit_path():
        access_digests_send.delay(frequency)


def test_a_daily_email_after_a_partner_access_tells_who_when_and_why_and_nothing_of_the_data(
    resident, insurer, ledger_sequenced, commit_path
):
    _user, person, _device = resident
    subscribe(person)
    partner_reads(person)
    system_and_own_accesses(person)
    ledger_sequenced()

    run_digests(commit_path)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [person.email]
    assert message.subject == "OneCard: who accessed your data"
    assert "Ping An Insurance, to settle an insurance claim" in message.body
    assert "https://onecard.example/me/access/" in message.body
    assert "https://onecard.example/me/notifications/" in message.body
    # Who, when and why only: not what was read, nor OneCard's own work.
    assert "visits" not in message.body and "QR" not in message.body and "OneCard made" not in message.body
    assert person.full_name not in message.body
    digest = AccessDigest.objects.get()
    assert digest.sent_at is not None and digest.accesses == 1


def test_the_digest_is_in_the_residents_language(resident, insurer, ledger_sequenced, commit_path):
    _user, person, _device = resident
    subscribe(person, language="zh-hans")
    partner_reads(person)
    ledger_sequenced()

    run_digests(commit_path)

    message = mail.outbox[0]
    assert message.subject == "一卡通：谁访问了您的数据"
    assert "平安保险，用于保险理赔" in message.body
    assert "Ping An" not in message.body


def test_the_same_accesses_are_never_told_twice_and_a_period_gets_one_digest(
    resident, insurer, ledger_sequenced, commit_path
):
    _user, person, _device = resident
    setting = subscribe(person)
    partner_reads(person)
    ledger_sequenced()
    run_digests(commit_path)
    partner_reads(person, purpose="identity-verification", action="cards.credentials.verify")
    ledger_sequenced()

    run_digests(commit_path)  # the same day: the period has its digest
    same_day = len(mail.outbox)
    AccessDigest.objects.update(period="2000-01-01")  # as if yesterday's
    run_digests(commit_path)
    run_digests(commit_path)

    assert same_day == 1
    assert len(mail.outbox) == 2
    assert "to check who you are" in mail.outbox[1].body
    assert "to settle an insurance claim" not in mail.outbox[1].body
    setting.refresh_from_db()
    assert setting.sent_through_index == AccessDigest.objects.order_by("-id").first().through_index


def test_nothing_is_sent_when_no_organisation_accessed_the_data(resident, ledger_sequenced, commit_path):
    _user, person, _device = resident
    subscribe(person)
    system_and_own_accesses(person)
    ledger_sequenced()

    run_digests(commit_path)

    assert mail.outbox == [] and not AccessDigest.objects.exists()


def test_accesses_before_subscribing_are_not_told(resident, insurer, ledger_sequenced, commit_path):
    _user, person, _device = resident
    partner_reads(person)
    ledger_sequenced()
    subscribe(person)

    run_digests(commit_path)

    assert mail.outbox == []


def test_weekly_digests_go_only_with_the_weekly_run(resident, insurer, ledger_sequenced, commit_path):
    _user, person, _device = resident
    subscribe(person, frequency="weekly")
    partner_reads(person)
    ledger_sequenced()

    run_digests(commit_path, "daily")
    daily = len(mail.outbox)
    run_digests(commit_path, "weekly")

    assert daily == 0 and len(mail.outbox) == 1
    assert AccessDigest.objects.get().period == period_of("weekly", datetime.datetime.now(datetime.UTC))
    assert period_of("weekly", datetime.datetime(2026, 12, 5, 12, tzinfo=datetime.UTC)) == "2026-W49"


def test_sms_through_the_configured_backend(resident, insurer, ledger_sequenced, commit_path):
    _user, person, _device = resident
    subscribe(person, channel="sms", language="zh-hans")
    partner_reads(person)
    partner_reads(person)
    ledger_sequenced()

    run_digests(commit_path)

    assert mail.outbox == []
    assert [message.to for message in sms.outbox] == ["13800138000"]
    text = sms.outbox[0].text
    assert "平安保险 (2)" in text and "2 次" in text and "https://onecard.example/me/access/" in text
    assert "就诊" not in text


def test_the_console_sms_backend_prints_the_message_with_the_number_masked(capsys):
    sms.ConsoleSmsBackend().send(sms.SmsMessage(to="13800138000", text="OneCard: 1 accesses"))

    assert capsys.readouterr().out == "SMS to *******8000: OneCard: 1 accesses\n"


class FailsOnce(EmailBackend):
    """The locmem backend, refusing its first message as an unreachable server would."""

    failed = False

    def send_messages(self, messages):
        if not FailsOnce.failed:
            FailsOnce.failed = True
            raise ConnectionRefusedError("mail server unreachable")
        return super().send_messages(messages)


class SmsFailsOnce(sms.LocmemSmsBackend):
    failed = False

    def send(self, message):
        if not SmsFailsOnce.failed:
            SmsFailsOnce.failed = True
            raise sms.SmsNotSent("gateway busy")
        super().send(message)


@pytest.fixture
def eager_retries():
    """Let eager tasks retry inline, as a worker retries after the backoff, instead of raising Retry to the caller."""
    from portal.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def test_a_failed_email_is_retried_and_sent_once(
    resident, insurer, ledger_sequenced, commit_path, settings, eager_retries
):
    settings.EMAIL_BACKEND = f"{__name__}.FailsOnce"
    _user, person, _device = resident
    subscribe(person)
    partner_reads(person)
    ledger_sequenced()

    run_digests(commit_path)

    assert FailsOnce.failed is True
    assert len(mail.outbox) == 1
    digest = AccessDigest.objects.get()
    assert digest.attempts == 2 and digest.sent_at is not None
    assert len(ledger_sequenced(action="portal.access_digests.send")) == 1


def test_a_failed_sms_is_retried_and_sent_once(
    resident, insurer, ledger_sequenced, commit_path, settings, eager_retries
):
    settings.ONECARD_SMS_BACKEND = f"{__name__}.SmsFailsOnce"
    SmsFailsOnce.failed = False
    _user, person, _device = resident
    subscribe(person, channel="sms")
    partner_reads(person)
    ledger_sequenced()

    run_digests(commit_path)

    assert SmsFailsOnce.failed is True and len(sms.outbox) == 1


def test_a_digest_already_sent_is_not_sent_again(resident, insurer, ledger_sequenced, commit_path):
    from portal.tasks import access_digest_deliver_task

    _user, person, _device = resident
    subscribe(person)
    partner_reads(person)
    ledger_sequenced()
    run_digests(commit_path)

    with commit_path():
        access_digest_deliver_task.delay(AccessDigest.objects.get().pk)

    assert len(mail.outbox) == 1


def test_reading_the_history_for_a_digest_is_recorded_as_onecard_and_so_is_the_sending(
    resident, insurer, ledger_sequenced, commit_path
):
    _user, person, _device = resident
    subscribe(person)
    partner_reads(person)
    ledger_sequenced()

    run_digests(commit_path)

    read = ledger_sequenced(action="portal.access_history.digest")
    sent = ledger_sequenced(action="portal.access_digests.send")
    assert [(entry["actor"]["type"], entry["actor"]["id"], entry["purpose"], entry["channel"]) for entry in read] == [
        ("system", "portal.access-digests", "access-notification", "task")
    ]
    assert sent[0]["object"].endswith(" email") and sent[0]["actor"]["type"] == "system"


def test_the_settings_page_saves_and_records(client, resident, ledger_rows):
    user, person, device = resident
    sign_in(client, user, device)
    mark = len(ledger_rows())

    page = client.get("/me/notifications/")
    saved = client.post("/me/notifications/", {"frequency": "weekly", "channel": "sms", "language": "zh-hans"})

    setting = NotificationSetting.objects.get(resident=person)
    assert (
        page.status_code == 200
        and "Tell me when an organisation or a caseworker accessed my data" in page.content.decode()
    )
    assert saved.status_code == 302
    assert (setting.frequency, setting.channel, setting.language) == ("weekly", "sms", "zh-hans")
    self_service = ("resident", "resident", "web", "self-service", "ok")
    assert ledger_rows()[mark:] == [
        ("portal.notification_settings.read", *self_service),
        ("portal.notification_settings.read", *self_service),
        ("portal.notification_settings.update", *self_service),
    ]


def test_the_settings_page_refuses_a_channel_without_an_address(client, resident):
    user, person, device = resident
    person.phone = ""
    person.save(update_fields=["phone"])
    sign_in(client, user, device)

    response = client.post("/me/notifications/", {"frequency": "daily", "channel": "sms", "language": "en"})

    assert response.status_code == 200
    assert "We have no address for this in the register" in response.content.decode()
    assert not NotificationSetting.objects.filter(resident=person).exists()


def test_bad_input_on_the_settings_page_is_a_form_message(client, resident):
    user, _person, device = resident
    sign_in(client, user, device)

    response = client.post("/me/notifications/", {"frequency": "hourly", "channel": "pigeon", "language": "xx"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_without_an_sms_backend_the_page_offers_email_only_and_refuses_sms(client, resident, settings):
    settings.ONECARD_SMS_BACKEND = ""
    user, person, device = resident
    sign_in(client, user, device)

    page = client.get("/me/notifications/").content.decode()
    response = client.post("/me/notifications/", {"frequency": "daily", "channel": "sms", "language": "en"})

    assert 'value="email"' in page and 'value="sms"' not in page
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not NotificationSetting.objects.filter(resident=person, channel="sms").exists()


def test_a_digest_chosen_by_sms_goes_by_email_once_the_operator_turns_sms_off(
    resident, insurer, ledger_sequenced, commit_path, settings
):
    _user, person, _device = resident
    person.email = "li@example.org"
    person.save(update_fields=["email"])
    subscribe(person, channel="sms")
    partner_reads(person)
    ledger_sequenced()
    settings.ONECARD_SMS_BACKEND = ""

    run_digests(commit_path)

    assert sms.outbox == []
    assert [message.to for message in mail.outbox] == [["li@example.org"]]
    assert AccessDigest.objects.get().channel == "email"


def test_with_sms_off_and_no_email_nothing_is_made_and_the_accesses_wait_for_the_resident(
    client, resident, insurer, ledger_sequenced, commit_path, settings
):
    user, person, device = resident
    person.email = ""
    person.save(update_fields=["email"])
    setting = subscribe(person, channel="sms")
    before = setting.sent_through_index
    partner_reads(person)
    ledger_sequenced()
    settings.ONECARD_SMS_BACKEND = ""

    run_digests(commit_path)

    assert not AccessDigest.objects.exists() and mail.outbox == [] and sms.outbox == []
    setting.refresh_from_db()
    assert setting.sent_through_index == before  # the access is still to be told
    sign_in(client, user, device)
    assert "Text messages are no longer sent" in client.get("/me/notifications/").content.decode()
