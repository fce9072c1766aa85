"""Answer partners' yes/no questions about a resident, recording one ledger entry per predicate."""

from django.db import transaction
from django.utils import timezone

from ledger.api import record
from services.checks.errors import PredicateNotAllowed
from services.checks.predicates import PredicateCall, predicate_parse
from services.core import catalogue
from services.core.calls import AgencyCall
from services.core.selectors import (
    agency_scopes,
    consent_active_exists,
    consent_missing,
    national_id_lookup,
    resident_find_by_lookup,
    unregistered_refuse,
)

MAX_PREDICATES = 20


def predicates_parse(*, texts: list) -> list[PredicateCall]:
    """Return the predicate calls TEXTS name, in order and without repeats; raise on any unknown one."""
    return [predicate_parse(text) for text in dict.fromkeys(texts)]


def predicates_authorise(*, calls: list[PredicateCall], call: AgencyCall) -> None:
    """Raise PredicateNotAllowed unless the agency holds each predicate's scope and its purpose allows it."""
    held = set(agency_scopes(agency=call.agency))
    for predicate_call in calls:
        scope = predicate_call.predicate.scope
        if scope not in held:
            raise PredicateNotAllowed(
                f"{predicate_call.text} needs the scope {scope}, which {call.agency.code} does not hold"
            )
        if not catalogue.purpose_allows_scope(call.purpose, scope):
            raise PredicateNotAllowed(f"the purpose {call.purpose} does not allow the scope {scope}")


def _consent_needed(scope: str) -> bool:
    declared = catalogue.scopes_all().get(scope)
    return bool(declared and declared.consent_required)


def checks_evaluate(*, national_id: str, texts: list, call: AgencyCall) -> dict[str, bool]:
    """Return {predicate: bool} for the resident NATIONAL_ID names; nothing else about them leaves.

    Every predicate is checked against the agency's scopes and the resident's
    consent before any is answered. An unregistered national ID is refused
    like a missing consent when any predicate needs consent, and answered
    False throughout otherwise, so the answer never tells who is registered.
    """
    calls = predicates_parse(texts=texts)
    predicates_authorise(calls=calls, call=call)
    lookup = national_id_lookup(national_id=national_id)
    resident = resident_find_by_lookup(lookup=lookup)
    needs_consent = [c for c in calls if _consent_needed(c.predicate.scope)]
    if resident is None:
        if needs_consent:
            # The same work and the same answer as for a registered resident who consented to none of them.
            unregistered_refuse(
                lookup=lookup,
                call=call,
                actions=[(f"checks.{c.predicate.name}.evaluate", c.text) for c in needs_consent],
                scopes=[c.predicate.scope for c in needs_consent],
            )
            raise consent_missing(call=call, asked=", ".join(c.text for c in needs_consent))
        return {c.text: False for c in calls}
    missing = [
        c
        for c in needs_consent
        if not consent_active_exists(
            resident=resident, agency=call.agency, scope=c.predicate.scope, purpose=call.purpose
        )
    ]
    if missing:
        with transaction.atomic():
            for c in missing:
                record(action=f"checks.{c.predicate.name}.evaluate", subject=resident, object=c.text, outcome="denied")
        raise consent_missing(call=call, asked=", ".join(c.text for c in missing))
    today = timezone.localdate()
    answers: dict[str, bool] = {}
    with transaction.atomic():
        for c in calls:
            answers[c.text] = bool(c.answer(resident=resident, on=today))
            record(action=f"checks.{c.predicate.name}.evaluate", subject=resident, object=c.text)
    return answers
