"""The sets a partner may match its list against, each named by a stable string.

- ``active-card``: residents holding an active card (scope ``matching:active-card``);
- ``insured-months:N``: residents with contributions for at least N calendar months, 1 to 1200
  (scope ``matching:insured-months``);
- ``grant-recipient:CODE``: residents awarded grant programme CODE (scope ``matching:grant-recipient``).

Where the scope needs consent, only the residents whose consent to this
agency, scope and purpose is in force are in the set: to the partner, a
resident who did not consent looks exactly like one who is not a member.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from cards.selectors import resident_ids_with_active_card
from services.core import catalogue
from services.core.calls import AgencyCall
from services.core.selectors import agency_scopes, consent_resident_ids
from services.grants.selectors import programme_recipient_ids
from services.matching.declaration import MatchingScope
from services.matching.errors import SetNotAllowed, SetUnknown
from services.social_security.selectors import resident_ids_with_contribution_months

_MAX_MONTHS = 1200


@dataclass(frozen=True)
class SetKind:
    name: str
    scope: str
    action: str
    members: Callable[[object], list[int] | None]  # argument -> resident ids; None: the argument names nothing
    argument: Callable[[str], object] | None = None
    argument_help: str = ""


@dataclass(frozen=True)
class MatchingSet:
    """A set as a partner named it, with its argument read."""

    text: str
    kind: SetKind
    argument: object = None


def _months(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= _MAX_MONTHS:
        raise ValueError(f"N must be a whole number of months from 1 to {_MAX_MONTHS}")
    return int(text)


def _programme(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", text):
        raise ValueError("CODE must be a grant programme's code (lower-case letters, digits, - and _)")
    return text


SET_KINDS: dict[str, SetKind] = {
    kind.name: kind
    for kind in (
        SetKind(
            "active-card",
            MatchingScope.ACTIVE_CARD,
            "matching.active_card.match",
            lambda _argument: resident_ids_with_active_card(),
        ),
        SetKind(
            "insured-months",
            MatchingScope.INSURED_MONTHS,
            "matching.insured_months.match",
            lambda months: resident_ids_with_contribution_months(months=months),
            _months,
            "insured-months:N",
        ),
        SetKind(
            "grant-recipient",
            MatchingScope.GRANT_RECIPIENT,
            "matching.grant_recipient.match",
            lambda code: programme_recipient_ids(code=code),
            _programme,
            "grant-recipient:CODE",
        ),
    )
}


def set_parse(text) -> MatchingSet:
    """Return the set TEXT names, or raise SetUnknown."""
    if not isinstance(text, str):
        raise SetUnknown("a set is a string such as 'active-card' or 'insured-months:12'")
    name, colon, raw = text.partition(":")
    kind = SET_KINDS.get(name)
    if kind is None:
        raise SetUnknown(f"unknown set {text!r}; known: active-card, insured-months:N, grant-recipient:CODE")
    if kind.argument is None:
        if colon:
            raise SetUnknown(f"{name} takes no argument")
        return MatchingSet(text=text, kind=kind)
    if not colon:
        raise SetUnknown(f"{name} needs an argument: {kind.argument_help}")
    try:
        return MatchingSet(text=text, kind=kind, argument=kind.argument(raw))
    except ValueError as error:
        raise SetUnknown(f"{text!r}: {error}") from None


def set_authorise(*, matching_set: MatchingSet, call: AgencyCall) -> None:
    """Raise SetNotAllowed unless the agency holds the set's scope and its purpose allows that scope."""
    scope = matching_set.kind.scope
    if scope not in agency_scopes(agency=call.agency):
        raise SetNotAllowed(f"{matching_set.text} needs the scope {scope}, which {call.agency.code} does not hold")
    if not catalogue.purpose_allows_scope(call.purpose, scope):
        raise SetNotAllowed(f"the purpose {call.purpose} does not allow the scope {scope}")


def set_members(*, matching_set: MatchingSet, call: AgencyCall) -> list[int]:
    """Return the ids of the residents in the set for this call: members who consented, where consent is needed."""
    members = matching_set.kind.members(matching_set.argument)
    if members is None:
        raise SetUnknown(f"{matching_set.text!r} names nothing OneCard holds")
    return set_consented(matching_set=matching_set, call=call, resident_ids=members)


def set_consented(*, matching_set: MatchingSet, call: AgencyCall, resident_ids) -> list[int]:
    """Return those of RESIDENT_IDS whose consent is in force now, or all of them where the set needs none."""
    scope = catalogue.scopes_all()[matching_set.kind.scope]
    if not scope.consent_required:
        return list(resident_ids)
    consented = consent_resident_ids(agency=call.agency, scope=scope.code, purpose=call.purpose)
    return [resident_id for resident_id in resident_ids if resident_id in consented]
