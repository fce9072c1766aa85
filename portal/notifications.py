"""Tell residents who accessed their data: their notification setting, and the digests sent by e-mail or SMS.

A digest tells of the accesses by organisations (partner agencies) and
caseworkers since the previous one: who, when and why, never what was read.
It is made once per resident and period by ``access_digest_make`` (which
reads the resident's history as OneCard, and records that read), then sent by
``access_digest_deliver``, retried by its task until it goes; a digest whose
``sent_at`` is set is never sent again, and the ledger index it covered up to
is kept on the setting, so no access is told twice.
"""

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cards.models import Resident
from ledger.api import entry_list_for_subject, record, subject_pseudonyms
from portal import wording
from portal.models import AccessDigest, NotificationSetting
from portal.sms import sms_enabled, sms_send
from services.core.models import Agency

# The actor types a digest tells of: organisations and caseworkers, not OneCard itself or the resident.
TOLD_ACTORS = ("agency", "staff")
# At most this many accesses are listed one by one in an e-mail; the rest are counted.
LISTED_LIMIT = 30
_SCAN_CHUNK = 500


class NotificationRefused(Exception):
    """The setting cannot be saved: no e-mail address or phone number for the channel chosen."""


def _latest_index(resident: Resident) -> int:
    latest = entry_list_for_subject(subject=resident, limit=1)
    return latest[0]["index"] if latest else -1


@transaction.atomic
def notification_setting_update(
    *, resident: Resident, channel: str, frequency: str, language: str
) -> NotificationSetting:
    """Save how RESIDENT wants to be told of accesses; a digest newly turned on tells of accesses from now on."""
    setting, _created = NotificationSetting.objects.select_for_update().get_or_create(resident=resident)
    if frequency != NotificationSetting.Frequency.NEVER:
        if channel == NotificationSetting.Channel.EMAIL and not resident.email:
            raise NotificationRefused("no e-mail address in the register")
        if channel == NotificationSetting.Channel.SMS and not sms_enabled():
            raise NotificationRefused("this service sends no text messages")
        if channel == NotificationSetting.Channel.SMS and not resident.phone:
            raise NotificationRefused("no phone number in the register")
        if setting.frequency == NotificationSetting.Frequency.NEVER:
            setting.sent_through_index = max(setting.sent_through_index, _latest_index(resident))
    setting.channel, setting.frequency, setting.language = channel, frequency, language
    setting.full_clean()
    setting.save()
    record(
        action="portal.notification_settings.update",
        subject=resident,
        object=f"notification-setting:{setting.pk} {frequency} {channel} {language}",
    )
    return setting


def period_of(frequency: str, moment: datetime.datetime) -> str:
    """Return the period MOMENT falls in for FREQUENCY: its local date, or its ISO week ("2026-W49")."""
    day = timezone.localdate(moment)
    if frequency == NotificationSetting.Frequency.WEEKLY:
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def _entries_after(resident: Resident, index: int) -> list[dict]:
    """Return RESIDENT's sequenced entries above INDEX, oldest first."""
    found, before = [], None
    while True:
        chunk = entry_list_for_subject(subject=resident, limit=_SCAN_CHUNK, before=before)
        newer = [item for item in chunk if item["index"] > index]
        found.extend(newer)
        if len(newer) < len(chunk) or len(chunk) < _SCAN_CHUNK:
            break
        before = chunk[-1]["index"]
    return list(reversed(found))


def _portal_url(name: str) -> str:
    return settings.ONECARD_PORTAL_URL + reverse(name)


def _message(*, told: list[dict], since: datetime.datetime | None, channel: str) -> tuple[str, str]:
    """Return the subject and text of a digest of TOLD, in the active language: who, when, why; never what."""
    subject = _("OneCard: who accessed your data")
    history, settings_url = _portal_url("portal:access-history"), _portal_url("portal:notification-settings")
    if channel == NotificationSetting.Channel.SMS:
        counts: dict[str, int] = {}
        for item in told:
            counts[item["who"]] = counts.get(item["who"], 0) + 1
        names = _("; ").join(f"{who} ({count})" for who, count in counts.items())
        text = ngettext(
            "OneCard: %(count)s access to your data by %(names)s. Who, when and why: %(url)s",
            "OneCard: %(count)s accesses to your data by %(names)s. Who, when and why: %(url)s",
            len(told),
        ) % {"count": len(told), "names": names, "url": history}
        return subject, text
    if since is None:
        opening = _("These organisations accessed your data:")
    else:
        opening = _("These organisations accessed your data since %(since)s:") % {
            "since": timezone.localtime(since).strftime("%Y-%m-%d %H:%M")
        }
    lines = [opening, ""]
    for item in told[:LISTED_LIMIT]:
        when = timezone.localtime(item["time"]).strftime("%Y-%m-%d %H:%M")
        lines.append(_("- %(when)s: %(who)s, %(why)s") % {"when": when, "who": item["who"], "why": item["why"]})
    if len(told) > LISTED_LIMIT:
        lines.append(_("… and %(count)s more.") % {"count": len(told) - LISTED_LIMIT})
    lines += [
        "",
        _("Sign in to see what each of them did, check the proof, or report an access you do not recognise:"),
        history,
        "",
        _("You get this message because you asked for it. To change or stop it: %(url)s") % {"url": settings_url},
    ]
    return subject, "\n".join(lines)


@transaction.atomic
def access_digest_make(*, setting: NotificationSetting, now: datetime.datetime | None = None) -> AccessDigest | None:
    """Make SETTING's digest of the accesses by organisations since the last one, once per period, or None.

    Runs in a system access context: reading the resident's history is recorded
    (``portal.access_history.digest``), whether or not there is anything to tell.
    """
    setting = NotificationSetting.objects.select_for_update().select_related("resident").get(pk=setting.pk)
    if setting.frequency == NotificationSetting.Frequency.NEVER:
        return None
    resident = setting.resident
    channel = setting.channel
    if channel == NotificationSetting.Channel.SMS and not sms_enabled():
        # The operator turned text messages off: e-mail instead, or, with no address, nothing yet (the
        # accesses stay untold, not skipped, until the resident chooses e-mail; their settings page asks).
        if not resident.email:
            return None
        channel = NotificationSetting.Channel.EMAIL
    period = period_of(setting.frequency, now or timezone.now())
    if AccessDigest.objects.filter(resident=resident, frequency=setting.frequency, period=period).exists():
        return None
    entries = _entries_after(resident, setting.sent_through_index)
    record(action="portal.access_history.digest", subject=resident, object=f"after {setting.sent_through_index}")
    if not entries:
        return None
    own = set(subject_pseudonyms(resident))
    agencies = {agency.code: agency for agency in Agency.objects.all()}
    with translation.override(setting.language):
        told = []
        for item in entries:
            entry, actor = item["entry"], item["entry"]["actor"]
            if actor["type"] not in TOLD_ACTORS:
                continue
            told.append(
                {
                    "time": datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00")),
                    "who": wording.who(
                        actor_type=actor["type"], actor_id=actor["id"], role=actor["role"], own=own, agencies=agencies
                    ),
                    "why": wording.reason(entry["purpose"]),
                }
            )
        previous = AccessDigest.objects.filter(resident=resident).order_by("-created_at").first()
        since = previous.created_at if previous else None
        subject, body = _message(told=told, since=since, channel=channel)
    through = entries[-1]["index"]
    digest = None
    if told:
        digest = AccessDigest(
            resident=resident,
            channel=channel,
            frequency=setting.frequency,
            period=period,
            language=setting.language,
            from_index=setting.sent_through_index,
            through_index=through,
            accesses=len(told),
            subject=subject,
            body=body,
        )
        digest.full_clean()
        digest.save()
    setting.sent_through_index = through
    setting.save(update_fields=["sent_through_index", "updated_at"])
    return digest


def access_digest_deliver(*, digest: AccessDigest) -> bool:
    """Send DIGEST unless it went already; return whether it was sent now. Raises when the channel fails."""
    with transaction.atomic():
        AccessDigest.objects.filter(pk=digest.pk, sent_at__isnull=True).update(attempts=digest.attempts + 1)
    with transaction.atomic():
        # Locked while sending: a second worker given the same digest waits, then finds it sent.
        digest = AccessDigest.objects.select_for_update().select_related("resident").get(pk=digest.pk)
        if digest.sent_at is not None:
            return False
        resident = digest.resident
        if digest.channel == NotificationSetting.Channel.SMS and not sms_enabled() and resident.email:
            # The operator turned text messages off after the resident chose them: e-mail instead.
            digest.channel = NotificationSetting.Channel.EMAIL
            digest.save(update_fields=["channel"])
        if digest.channel == NotificationSetting.Channel.SMS:
            if not resident.phone or not sms_enabled():
                return False
            sms_send(to=resident.phone, text=digest.body)
        else:
            if not resident.email:
                return False
            send_mail(digest.subject, digest.body, None, [resident.email])
        digest.sent_at = timezone.now()
        digest.save(update_fields=["sent_at"])
        record(
            action="portal.access_digests.send", subject=resident, object=f"access-digest:{digest.pk} {digest.channel}"
        )
    return True


def notification_settings_due(*, frequency: str) -> list[int]:
    """Return the ids of the settings asking for FREQUENCY digests."""
    return list(NotificationSetting.objects.filter(frequency=frequency).values_list("pk", flat=True))


def access_digests_unsent(*, older_than: datetime.timedelta = datetime.timedelta(minutes=10)) -> list[int]:
    """Return the ids of digests made more than OLDER_THAN ago and still not sent (their task was lost)."""
    cutoff = timezone.now() - older_than
    return list(AccessDigest.objects.filter(sent_at__isnull=True, created_at__lt=cutoff).values_list("pk", flat=True))
