"""Read what the resident portal shows: consents to manage, the access history, reports, notifications."""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cards.models import Card, Resident
from ledger.api import UnknownPurpose, action_get, pending_list_for_subject, purpose_check, record, subject_pseudonyms
from portal.models import AccessReport, ProxyGrant
from services.core import catalogue
from services.core.models import Agency, Consent

ACTOR_FILTERS = ("others", "all", "agency", "staff", "resident", "system")
# What a resident did for a family member: shown with "everyone but me", since it was not about their own data.
PROXY_ACTED = ("portal.proxies.start", "portal.proxies.act", "portal.proxies.stop")


def _localized(name_en: str, name_zh_hans: str) -> str:
    return name_zh_hans if (get_language() or "").lower().startswith("zh") else name_en


def service_name(service: catalogue.Service) -> str:
    """Return SERVICE's name in the active language."""
    return _localized(service.name_en, service.name_zh_hans)


def purpose_name(code: str) -> str:
    """Return the name of purpose CODE in the active language, or CODE for a purpose no longer declared."""
    try:
        return purpose_check(code).name
    except UnknownPurpose:
        return code


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
    """One access to the resident's data, as the history page shows it."""

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
    # For a family-proxy entry: the other person of the grant it names (portal.proxies.*).
    other_person: str = ""

    @property
    def sealed(self) -> bool:
        return self.index is not None

    def summary(self) -> str:
        return (
            f"{self.time.isoformat()} {self.actor_type}:{self.who} role={self.role} {self.action} "
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
        return _("Your OneCard account") if code == "portal" else code


_NO_PROXIES: tuple[dict[str, str], dict[str, str]] = ({}, {})


def _who(
    actor_type: str, actor_id: str, role: str, own: set[str], agencies: dict[str, Agency], proxies=_NO_PROXIES
) -> str:
    if actor_type == "resident" and actor_id in proxies[0]:
        return _("%(name)s, acting for you") % {"name": proxies[0][actor_id]}
    if actor_type == "agency":
        agency = agencies.get(actor_id)
        return _localized(agency.name_en, agency.name_zh_hans) if agency else actor_id
    if actor_type == "staff":
        return _("Caseworker (%(role)s)") % {"role": role}
    if actor_type == "resident":
        return _("You") if actor_id in own else _("Another resident")
    return _("OneCard system (%(component)s)") % {"component": actor_id}


@dataclass(frozen=True)
class AccessPage:
    """One page of the access history; NEXT_BEFORE is the ledger index the next page starts below, or None."""

    rows: list[AccessRow]
    next_before: int | None


# Sequenced entries are read in chunks of this many until a page is full: filters apply to the entry bytes.
_SCAN_CHUNK = 500


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
) -> AccessPage:
    """Return one page of the accesses to RESIDENT's data, newest first, filtered; record that they were read.

    The first page (BEFORE is None) starts with the entries still waiting to be sealed; the pages run on
    down the ledger by index, so a page never shifts when new accesses arrive.
    """
    record(action="portal.access_history.read", subject=resident)
    pseudonyms = subject_pseudonyms(resident)
    agencies = {agency.code: agency for agency in Agency.objects.all()}
    own = set(pseudonyms)
    proxies = _proxy_names(resident)

    def keep(row: AccessRow) -> bool:
        # What the resident did for a family member stays in view: it is not their own data.
        acted = row.action in PROXY_ACTED
        if actor == "others" and row.actor_type == "resident" and row.who == _("You") and not acted:
            return False
        if actor not in ("others", "all", "") and row.actor_type != actor:
            return False
        if (service and row.service != service) or (purpose and row.purpose != purpose):
            return False
        if (outcome and row.outcome != outcome) or (since and timezone.localdate(row.time) < since):
            return False
        return not (until and timezone.localdate(row.time) > until)

    result = []
    if before is None:
        pending = pending_list_for_subject(subject=resident)
        if actor == "others":
            pending = pending.exclude(
                Q(actor_type="resident") & Q(actor_id__in=pseudonyms) & ~Q(action__in=PROXY_ACTED)
            )
        elif actor in ACTOR_FILTERS and actor != "all":
            pending = pending.filter(actor_type=actor)
        for row in pending[:page_size]:
            access = _pending_access_row(row, own, agencies, proxies)
            if keep(access):
                result.append(access)
    cursor, more = before, True
    while len(result) < page_size and more:
        chunk = _sequenced_rows(resident, own, agencies, before=cursor, limit=_SCAN_CHUNK, proxies=proxies)
        more = len(chunk) == _SCAN_CHUNK
        for position, row in enumerate(chunk):
            cursor = row.index
            if keep(row):
                result.append(row)
                if len(result) == page_size:
                    more = more or position < len(chunk) - 1
                    break
    return AccessPage(result, cursor if more and cursor else None)


def _pending_access_row(row, own: set[str], agencies: dict, proxies=_NO_PROXIES) -> AccessRow:
    return AccessRow(
        reference=f"p{row.pk}",
        index=None,
        time=row.time,
        actor_type=row.actor_type,
        who=_who(row.actor_type, row.actor_id, row.role, own, agencies, proxies),
        role=row.role,
        channel=row.channel,
        action=row.action,
        service=_service_of(row.action),
        purpose=row.purpose,
        purpose_label=purpose_name(row.purpose),
        outcome=row.outcome,
        request_id=row.request_id,
        other_person=_other_person(row.action, row.object, proxies),
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
    for item in entry_list_for_subject(subject=resident, limit=limit, before=before):
        entry, actor = item["entry"], item["entry"]["actor"]
        rows.append(
            AccessRow(
                reference=str(item["index"]),
                index=item["index"],
                time=datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00")),
                actor_type=actor["type"],
                who=_who(actor["type"], actor["id"], actor["role"], own, agencies, proxies),
                role=actor["role"],
                channel=entry["channel"],
                action=entry["action"],
                service=_service_of(entry["action"]),
                purpose=entry["purpose"],
                purpose_label=purpose_name(entry["purpose"]),
                outcome=entry["outcome"],
                request_id=entry.get("request_id", ""),
                other_person=_other_person(entry["action"], entry["object"], proxies),
            )
        )
    return rows


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
    return AccessRow(
        reference=reference,
        index=None,
        time=row.time,
        actor_type=row.actor_type,
        who=_who(row.actor_type, row.actor_id, row.role, set(pseudonyms), agencies, proxies := _proxy_names(resident)),
        role=row.role,
        channel=row.channel,
        action=row.action,
        service=_service_of(row.action),
        purpose=row.purpose,
        purpose_label=purpose_name(row.purpose),
        outcome=row.outcome,
        request_id=row.request_id,
        other_person=_other_person(row.action, row.object, proxies),
    )


def access_reports_for_resident(*, resident: Resident) -> list[AccessReport]:
    """Return RESIDENT's reports of unrecognised access, newest first."""
    return list(AccessReport.objects.filter(resident=resident))


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
