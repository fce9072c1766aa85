"""Read what the resident portal shows: consents to manage, the access history, reports, notifications."""

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cards.models import Card, Resident
from ledger.api import action_get, pending_list_for_subject, record, sealed_contents, subject_pseudonyms
from portal import wording
from portal.models import AccessReport, NotificationSetting, ProxyGrant
from services.core import catalogue
from services.core.models import Agency, Consent

ACTOR_FILTERS = ("others", "all", "agency", "staff", "resident", "system")
# What a resident did for a family member: kept in view with the default filter, since it was not about their
# own data.
PROXY_ACTED = ("portal.proxies.start", "portal.proxies.act", "portal.proxies.stop")


def _localized(name_en: str, name_zh_hans: str) -> str:
    return name_zh_hans if (get_language() or "").lower().startswith("zh") else name_en


def service_name(service: catalogue.Service) -> str:
    """Return SERVICE's name in the active language."""
    return _localized(service.name_en, service.name_zh_hans)


def purpose_name(code: str) -> str:
    """Return the name of purpose CODE in the active language (never the code, even for a purpose retired since)."""
    return wording.purpose_label(code)


def agencies_for_consent() -> list[Agency]:
    """Return the active agencies a resident may give a consent to."""
    return list(Agency.objects.filter(is_active=True).order_by("code"))


def agency_get_active(*, code: str) -> Agency | None:
    """Return the active agency CODE, or None."""
    return Agency.objects.filter(code=code, is_active=True).first()


def consent_get_for_resident(*, resident: Resident, receipt_id) -> Consent | None:
    """Return RESIDENT's consent with RECEIPT_ID, or None when it is someone else's or does not exist.

    Not recorded on its own: the receipt or revocation that follows records the access.
    """
    return Consent.objects.filter(resident=resident, receipt_id=receipt_id).select_related("agency").first()


@dataclass(frozen=True)
class AccessRow:
    """One access to the resident's data, as the history page shows it: codes for the record, words for the reader."""

    reference: str
    index: int | None
    time: datetime.datetime
    actor_type: str
    who: str
    role: str
    channel: str
    action: str
    service: str
    purpose: str
    purpose_label: str
    outcome: str
    request_id: str
    # The actor's pseudonym or agency code, for caseworkers (AccessReport.entry_summary), never shown to the resident.
    actor_id: str = ""
    # Made by the resident themself (under any of their pseudonyms).
    own: bool = False
    # wording.sentence(): the whole access in one sentence, and what was done and why, in the active language.
    sentence: str = ""
    what: str = ""
    why: str = ""
    # For a family-proxy entry: the other person of the grant it names (portal.proxies.*).
    other_person: str = ""
    # A sealed access still withheld (ledger.sealing): the date its details are disclosed; TIME is then None.
    withheld_until: datetime.date | None = None

    @property
    def sealed(self) -> bool:
        return self.index is not None

    @property
    def folded(self) -> bool:
        """Return whether the page folds this access away by default: OneCard's own work, or the resident's.

        What the resident did for a family member (PROXY_ACTED) stays in view.
        """
        return self.actor_type == "system" or (self.own and self.action not in PROXY_ACTED)

    @property
    def outcome_label(self) -> str:
        return wording.outcome(self.outcome)

    @property
    def channel_label(self) -> str:
        return wording.channel(self.channel)

    def summary(self) -> str:
        if self.withheld_until is not None:
            return f"entry {self.index}: sealed access, disclosed on {self.withheld_until.isoformat()}"
        return (
            f"{self.time.isoformat()} {self.actor_type}:{self.actor_id} role={self.role} {self.action} "
            f"purpose={self.purpose} outcome={self.outcome} request={self.request_id}"
        )


def _other_person(action: str, object: str, proxies) -> str:
    if not action.startswith("portal.proxies."):
        return ""
    return proxies[1].get(object.split(" ", 1)[0], "")


def _service_of(action: str) -> str:
    declared = action_get(action)
    return declared.service if declared is not None else ""


def service_label(code: str) -> str:
    """Return the catalogue name of service CODE, or a name for the portal's own actions."""
    try:
        return service_name(catalogue.service_get(code))
    except KeyError:
        return _("Your OneCard account") if code == "portal" else _("Other")


_NO_PROXIES: tuple[dict[str, str], dict[str, str]] = ({}, {})


def _access_row(
    *,
    reference,
    index,
    time,
    actor_type,
    actor_id,
    role,
    channel,
    action,
    purpose,
    outcome,
    request_id,
    object,
    own,
    agencies,
    proxies=_NO_PROXIES,
) -> AccessRow:
    if actor_type == "resident" and actor_id in proxies[0]:
        who = _("%(name)s, acting for you") % {"name": proxies[0][actor_id]}
    else:
        who = wording.who(actor_type=actor_type, actor_id=actor_id, role=role, own=own, agencies=agencies)
    told = wording.sentence(who_name=who, action=action, purpose=purpose)
    return AccessRow(
        reference=reference,
        index=index,
        time=time,
        actor_type=actor_type,
        who=who,
        role=role,
        channel=channel,
        action=action,
        service=_service_of(action),
        purpose=purpose,
        purpose_label=wording.purpose_label(purpose),
        outcome=outcome,
        request_id=request_id,
        actor_id=actor_id,
        own=actor_type == "resident" and actor_id in own,
        sentence=told.text,
        what=told.did,
        why=told.why,
        other_person=_other_person(action, object, proxies),
    )


@dataclass(frozen=True)
class AccessPage:
    """One page of the access history; NEXT_BEFORE is the ledger index the next page starts below, or None.

    With the default filter, ROWS holds the accesses by organisations, caseworkers and other residents, and
    FOLDED the accesses in the same stretch of the ledger by OneCard itself and by the resident (at most
    FOLDED_LIMIT; FOLDED_MORE says there were more). SUMMARY is the 30-day summary, on the first page only.
    """

    rows: list[AccessRow]
    next_before: int | None
    folded: list[AccessRow] = field(default_factory=list)
    folded_more: bool = False
    summary: "AccessSummary | None" = None


@dataclass
class OrganisationSummary:
    """Who accessed the resident's data in the summary's period, how often, last when, and why."""

    who: str
    actor_type: str
    count: int = 0
    last: datetime.datetime | None = None
    whys: list[str] = field(default_factory=list)
    whats: list[str] = field(default_factory=list)

    def whats_text(self) -> str:
        return wording.listing(self.whats)

    def whys_text(self) -> str:
        return wording.listing(self.whys)


@dataclass
class AccessSummary:
    """The accesses of the last DAYS days by organisation (OneCard's own and the resident's counted apart)."""

    days: int
    since: datetime.datetime
    organisations: list[OrganisationSummary]
    accesses: int
    folded: int


# Sequenced entries are read in chunks of this many until a page is full: filters apply to the entry bytes.
_SCAN_CHUNK = 500
FOLDED_LIMIT = 50
SUMMARY_DAYS = 30


def access_history_for_resident(
    *,
    resident: Resident,
    actor: str = "others",
    service: str = "",
    purpose: str = "",
    outcome: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    before: int | None = None,
    page_size: int = 50,
    summary: bool = False,
) -> AccessPage:
    """Return one page of the accesses to RESIDENT's data, newest first, filtered; record that they were read.

    The first page (BEFORE is None) starts with the entries still waiting to be sealed; the pages run on
    down the ledger by index, so a page never shifts when new accesses arrive. ACTOR "others" (the
    default) folds OneCard's own accesses and the resident's away (AccessPage.folded). With SUMMARY,
    the page also carries the summary of the last SUMMARY_DAYS days by organisation: one read, one record.
    """
    record(action="portal.access_history.read", subject=resident)
    pseudonyms = subject_pseudonyms(resident)
    agencies = {agency.code: agency for agency in Agency.objects.all()}
    own = set(pseudonyms)
    proxies = _proxy_names(resident)
    folding = actor in ("others", "")

    def matches(row: AccessRow) -> bool:
        if actor not in ("others", "all", "") and row.actor_type != actor:
            return False
        if (service and row.service != service) or (purpose and row.purpose != purpose):
            return False
        if row.withheld_until is not None:
            # Nothing but its date is known of a withheld access: only date-free views list it.
            return not (service or purpose or outcome or since or until)
        if (outcome and row.outcome != outcome) or (since and timezone.localdate(row.time) < since):
            return False
        return not (until and timezone.localdate(row.time) > until)

    result, folded = [], []
    folded_more = False

    def take(row: AccessRow) -> bool:
        nonlocal folded_more
        if not matches(row):
            return False
        if folding and row.folded:
            if len(folded) < FOLDED_LIMIT:
                folded.append(row)
            else:
                folded_more = True
            return False
        result.append(row)
        return True

    if before is None:
        pending = pending_list_for_subject(subject=resident)
        if actor in ACTOR_FILTERS and actor not in ("all", "others"):
            pending = pending.filter(actor_type=actor)
        for row in pending[: page_size + FOLDED_LIMIT]:
            if len(result) < page_size:
                take(_pending_access_row(row, own, agencies, proxies))
    cursor, more = before, True
    while len(result) < page_size and more:
        chunk = _sequenced_rows(resident, own, agencies, before=cursor, limit=_SCAN_CHUNK, proxies=proxies)
        more = len(chunk) == _SCAN_CHUNK
        for position, row in enumerate(chunk):
            cursor = row.index
            if take(row) and len(result) == page_size:
                more = more or position < len(chunk) - 1
                break
    told = _summary(resident, own, agencies, proxies) if summary else None
    return AccessPage(result, cursor if more and cursor else None, folded, folded_more, told)


def _summary(resident: Resident, own: set[str], agencies: dict, proxies, *, days: int = SUMMARY_DAYS) -> AccessSummary:
    start = timezone.now() - datetime.timedelta(days=days)
    by_who: dict[tuple[str, str], OrganisationSummary] = {}
    accesses = folded = 0

    def count(row: AccessRow) -> None:
        nonlocal accesses, folded
        if row.folded:
            folded += 1
            return
        accesses += 1
        key = (row.actor_type, row.who)
        item = by_who.setdefault(key, OrganisationSummary(who=row.who, actor_type=row.actor_type))
        item.count += 1
        item.last = max(item.last or row.time, row.time)
        if row.why not in item.whys:
            item.whys.append(row.why)
        if row.what not in item.whats:
            item.whats.append(row.what)

    for row in pending_list_for_subject(subject=resident).filter(time__gte=start):
        count(_pending_access_row(row, own, agencies, proxies))
    cursor, more = None, True
    while more:
        chunk = _sequenced_rows(resident, own, agencies, before=cursor, limit=_SCAN_CHUNK, proxies=proxies)
        more = len(chunk) == _SCAN_CHUNK
        for row in chunk:
            cursor = row.index
            if row.withheld_until is not None:
                continue  # a sealed access has no time or actor until its date: the page lists it apart
            if row.time < start:
                more = False
                break
            count(row)
    organisations = sorted(by_who.values(), key=lambda item: (-item.count, item.who))
    return AccessSummary(days=days, since=start, organisations=organisations, accesses=accesses, folded=folded)


def _pending_access_row(row, own: set[str], agencies: dict, proxies=_NO_PROXIES) -> AccessRow:
    return _access_row(
        reference=f"p{row.pk}",
        index=None,
        time=row.time,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        role=row.role,
        channel=row.channel,
        action=row.action,
        purpose=row.purpose,
        outcome=row.outcome,
        request_id=row.request_id,
        object=row.object,
        own=own,
        agencies=agencies,
        proxies=proxies,
    )


def _sequenced_rows(
    resident: Resident,
    own: set[str],
    agencies: dict,
    *,
    before: int | None = None,
    limit: int = _SCAN_CHUNK,
    proxies=_NO_PROXIES,
) -> list[AccessRow]:
    from ledger.api import entry_list_for_subject

    rows = []
    items = entry_list_for_subject(subject=resident, limit=limit, before=before)
    released = sealed_contents(items)
    for item in items:
        entry = item["entry"]
        if item["index"] in released:
            if released[item["index"]] is None:
                rows.append(_withheld_row(item["index"], entry["sealed"]["unseal_on"]))
                continue
            entry = released[item["index"]]
        actor = entry["actor"]
        rows.append(
            _access_row(
                reference=str(item["index"]),
                index=item["index"],
                time=datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00")),
                actor_type=actor["type"],
                actor_id=actor["id"],
                role=actor["role"],
                channel=entry["channel"],
                action=entry["action"],
                purpose=entry["purpose"],
                outcome=entry["outcome"],
                request_id=entry.get("request_id", ""),
                object=entry.get("object", ""),
                own=own,
                agencies=agencies,
                proxies=proxies,
            )
        )
    return rows


def _withheld_row(index: int, unseal_on: str) -> AccessRow:
    return AccessRow(
        reference=str(index),
        index=index,
        time=None,
        actor_type="sealed",
        who="",
        role="",
        channel="",
        action="ledger.sealed.record",
        service="",
        purpose="",
        purpose_label="",
        outcome="",
        request_id="",
        withheld_until=datetime.date.fromisoformat(unseal_on),
    )


def access_completeness_for_resident(*, resident: Resident) -> dict:
    """Return RESIDENT's completeness bundle (every entry about them, with the proofs); record that they read it."""
    from ledger.api import completeness_bundle

    record(action="portal.access_history.read", subject=resident)
    return completeness_bundle(subject=resident)


def entry_number(text: str) -> int | None:
    """Return TEXT as a ledger index or row id, or None unless it is 1 to 18 ASCII digits.

    str.isdigit() accepts "²" and "٣", which int() refuses or reads; 19 digits overflow a database integer.
    """
    return int(text) if _ENTRY_NUMBER.fullmatch(text) else None


_ENTRY_NUMBER = re.compile(r"[0-9]{1,18}")


def access_entry_get_for_resident(*, resident: Resident, reference: str) -> AccessRow | None:
    """Return the access REFERENCE if it is about RESIDENT, else None."""
    if entry_number(reference) is not None:
        agencies = {agency.code: agency for agency in Agency.objects.all()}
        own = set(subject_pseudonyms(resident))
        index = int(reference)
        found = _sequenced_rows(resident, own, agencies, before=index + 1, limit=1, proxies=_proxy_names(resident))
        return found[0] if found and found[0].index == index else None
    if not reference.startswith("p") or entry_number(reference[1:]) is None:
        return None
    pseudonyms = subject_pseudonyms(resident)
    row = pending_list_for_subject(subject=resident).filter(pk=entry_number(reference[1:])).first()
    if row is None:
        return None
    agencies = {agency.code: agency for agency in Agency.objects.filter(code=row.actor_id)}
    return _pending_access_row(row, set(pseudonyms), agencies, _proxy_names(resident))


def access_reports_for_resident(*, resident: Resident) -> list[AccessReport]:
    """Return RESIDENT's reports of unrecognised access, newest first."""
    return list(AccessReport.objects.filter(resident=resident))


def access_report_get_for_resident(*, resident: Resident, report_id: int) -> AccessReport | None:
    """Return RESIDENT's report REPORT_ID, or None when it is someone else's or does not exist."""
    return AccessReport.objects.filter(resident=resident, pk=report_id).first()


def notification_setting_for_resident(*, resident: Resident) -> NotificationSetting:
    """Return how RESIDENT wants to be told of accesses (unsaved, never, when not set yet); record the read."""
    record(action="portal.notification_settings.read", subject=resident)
    found = NotificationSetting.objects.filter(resident=resident).first()
    return found or NotificationSetting(resident=resident, language=get_language() or "en")


@dataclass(frozen=True)
class Notification:
    level: str
    text: str


def notifications_for_resident(*, resident: Resident, card: Card | None) -> list[Notification]:
    """Return what the dashboard should tell RESIDENT: card status and the state of their reports."""
    notes = []
    if card is None:
        notes.append(Notification("info", _("You have no card yet. A caseworker issues it.")))
    elif card.status == Card.Status.PENDING:
        notes.append(Notification("info", _("Your new card is waiting for activation.")))
    elif card.status == Card.Status.SUSPENDED:
        notes.append(Notification("warning", _("Your card is suspended. Contact a service centre.")))
    elif card.status == Card.Status.LOST:
        notes.append(Notification("warning", _("Your card is reported lost. A caseworker will issue a new one.")))
    elif card.expires_on - timezone.localdate() < datetime.timedelta(days=60):
        notes.append(Notification("warning", _("Your card expires on %(date)s.") % {"date": card.expires_on}))
    for report in access_reports_for_resident(resident=resident):
        if report.status != AccessReport.Status.OPEN:
            notes.append(
                Notification(
                    "info",
                    _("Your report #%(id)s about an access: %(status)s.")
                    % {"id": report.pk, "status": report.get_status_display()},
                )
            )
    return notes


def proxy_grant_in_force(*, proxy: Resident, grant_id) -> ProxyGrant | None:
    """Return the grant GRANT_ID if PROXY may act under it today, else None.

    This is the permission check of every request made while acting for someone:
    an ended grant, another resident's grant or a child who turned 18 gives None.
    Nothing is recorded here: what the proxy then reads is recorded as it happens.
    """
    if not isinstance(grant_id, int):
        return None
    grant = ProxyGrant.objects.select_related("dependant", "proxy").filter(pk=grant_id, proxy=proxy).first()
    if grant is None or not grant.in_force(timezone.localdate()):
        return None
    return grant


@dataclass(frozen=True)
class FamilyProxies:
    """Who may act for a resident (GIVEN, with their open invitations) and for whom the resident may act (HELD)."""

    given: list[ProxyGrant]
    invitations: list[ProxyGrant]
    held: list[ProxyGrant]


def proxy_grants_for_resident(*, resident: Resident) -> FamilyProxies:
    """Return RESIDENT's family proxies in force and open invitations, recording the read."""
    today, now = timezone.localdate(), timezone.now()
    given = ProxyGrant.objects.filter(dependant=resident, ended_at=None).select_related("proxy")
    held = ProxyGrant.objects.filter(proxy=resident, ended_at=None).select_related("dependant")
    record(action="portal.proxies.list", subject=resident)
    return FamilyProxies(
        given=[grant for grant in given if grant.in_force(today)],
        invitations=[
            grant
            for grant in given
            if grant.proxy_id is None and grant.invitation_expires_at and grant.invitation_expires_at > now
        ],
        held=[grant for grant in held if grant.in_force(today)],
    )


def proxy_grant_get_for_resident(*, resident: Resident, grant_id: int) -> ProxyGrant | None:
    """Return the open grant or invitation GRANT_ID if RESIDENT is one of its two people, else None.

    Not recorded on its own: ending it, which follows, records under both people.
    """
    return (
        ProxyGrant.objects.filter(Q(dependant=resident) | Q(proxy=resident), pk=grant_id, ended_at=None)
        .select_related("dependant", "proxy")
        .first()
    )


def _proxy_names(resident: Resident) -> tuple[dict[str, str], dict[str, str]]:
    """Return who acted for RESIDENT (actor pseudonym to name) and the other person of each of their grants.

    Ended grants count too: the history keeps naming who acted, after it ended.
    """
    acted_by: dict[str, str] = {}
    others: dict[str, str] = {}
    grants = ProxyGrant.objects.filter(Q(dependant=resident) | Q(proxy=resident)).select_related("dependant", "proxy")
    for grant in grants:
        if grant.proxy is None:
            continue
        if grant.dependant_id == resident.pk:
            for pseudonym in subject_pseudonyms(grant.proxy):
                acted_by[pseudonym] = grant.proxy.full_name
            others[grant.ledger_object] = grant.proxy.full_name
        else:
            others[grant.ledger_object] = grant.dependant.full_name
    return acted_by, others


# Services whose data is health data (PIPL art. 28: sensitive personal information).
HEALTH_DATA_SERVICES = ("health", "pharmacy")


def scope_is_health_data(scope: str) -> bool:
    """Return whether a consent to SCOPE opens health data."""
    return any(
        any(declared.code == scope for declared in service.scopes)
        for service in catalogue.services_all()
        if service.code in HEALTH_DATA_SERVICES
    )
