"""Run a private match: start a session, take each chunk's answer, then answer the partner and record.

The protocol and why its roles are as they are: services/matching/protocol.py and docs/matching.md.
"""

import datetime
import logging
import secrets
from array import array
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cards.crypto import resident_data_open, resident_data_seal
from cards.models import Resident
from cards.selectors import national_ids_for_residents
from ledger.api import record_bulk
from services.core.calls import AgencyCall
from services.matching import limits, protocol
from services.matching.errors import ListTooLarge, MessageInvalid, QuotaExceeded, SessionOutOfStep
from services.matching.lock_objects import agency_lock, session_lock_for_call
from services.matching.models import MatchingSession
from services.matching.selectors import matching_ids_used_today
from services.matching.sets import MatchingSet, set_authorise, set_consented, set_members, set_parse

logger = logging.getLogger(__name__)

_KEY_LABEL = b"onecard:matching.client_key"
_ENDED = {"client_key": b"", "order": b"", "partner_setup": b"", "matched": b""}


@dataclass(frozen=True)
class ChunkRequest:
    """What the partner answers next: chunk NUMBER of OneCard's blinded set."""

    session: MatchingSession
    number: int | None  # None: every chunk is answered; ask for the answer
    request: str | None


def _ids(blob) -> array:
    ids = array("q")
    ids.frombytes(bytes(blob))
    return ids


def _chunk_ids(session: MatchingSession, number: int) -> array:
    if session.recheck_from is not None:
        number -= session.recheck_from
    order = _ids(session.order)
    return order[number * protocol.CHUNK_SIZE : (number + 1) * protocol.CHUNK_SIZE]


def _session_end(session: MatchingSession) -> None:
    session.ended_at = timezone.now()
    for field, value in _ENDED.items():
        setattr(session, field, value)


def _authorised_set(session: MatchingSession, call: AgencyCall) -> MatchingSet:
    # Checked at every step: a scope or purpose withdrawn mid-session stops it.
    matching_set = set_parse(session.set_name)
    set_authorise(matching_set=matching_set, call=call)
    return matching_set


def matching_sessions_end_expired() -> int:
    """Empty the protocol fields of every session past its expiry; return how many."""
    now = timezone.now()
    return MatchingSession.objects.filter(ended_at__isnull=True, expires_at__lte=now).update(ended_at=now, **_ENDED)


def matching_session_start(*, set_text, setup_text, call: AgencyCall) -> ChunkRequest:
    """Open a session matching the partner's blinded list against a set; return the first chunk to answer.

    Raise SetUnknown, SetNotAllowed, MessageInvalid, ListTooLarge or QuotaExceeded; nothing is stored then.
    """
    matching_set = set_parse(set_text)
    set_authorise(matching_set=matching_set, call=call)
    setup, count = protocol.partner_setup_parse(setup_text, at_most=10 * limits.max_ids_per_call())
    if count > limits.max_ids_per_call():
        raise ListTooLarge(f"the list has {count} IDs; one call accepts at most {limits.max_ids_per_call()}")
    matching_sessions_end_expired()
    _quota_check(call=call, count=count)  # before the set is read; again under the lock below
    members = set_members(matching_set=matching_set, call=call)
    padded = protocol.padded_size(len(members))
    order = array("q", members)
    order.extend([protocol.PADDING] * (padded - len(members)))
    secrets.SystemRandom().shuffle(order)
    key = protocol.client_key_new()
    with transaction.atomic():
        agency_lock(agency_id=call.agency.pk)
        _quota_check(call=call, count=count)
        session = MatchingSession.objects.create(
            agency=call.agency,
            purpose=call.purpose,
            case_id=call.case_id or "",
            set_name=matching_set.text,
            list_size=count,
            set_size=padded,
            chunks=protocol.chunk_count(padded),
            expires_at=timezone.now() + datetime.timedelta(seconds=limits.session_seconds()),
            client_key=resident_data_seal(key, label=_KEY_LABEL),
            order=order.tobytes(),
            partner_setup=setup,
        )
    return ChunkRequest(session=session, number=0, request=_chunk_request(session, 0, key))


def _quota_check(*, call: AgencyCall, count: int) -> None:
    used = matching_ids_used_today(agency=call.agency)
    if used + count > limits.max_ids_per_day():
        raise QuotaExceeded(
            f"{call.agency.code} has matched {used} IDs today; {count} more would pass the daily limit of "
            f"{limits.max_ids_per_day()}"
        )


def _chunk_request(session: MatchingSession, number: int, key: bytes) -> str:
    ids = _chunk_ids(session, number)
    # Always one query, even for a chunk of padding only (the re-check when nobody was found): an empty
    # list would skip it, and the answer's timing would tell the partner whether anyone was found.
    residents = [i for i in ids if i != protocol.PADDING] or [protocol.PADDING]
    national_ids = national_ids_for_residents(resident_ids=residents)
    items = [national_ids.get(i) or protocol.padding_item() for i in ids]
    return protocol.chunk_request(key=key, items=items)


def matching_chunk_answer(*, session_id, number: int, response_text, call: AgencyCall) -> ChunkRequest:
    """Take the partner's answer to chunk NUMBER; return the next chunk, or None when all are answered.

    Once every chunk of the set is answered, the residents found are sent
    again, reshuffled under fresh keys and padded to the list's size, and must
    all be found again. A partner
    can move answers around inside a chunk (nothing in the protocol proves each
    answer is at its place), which would make other residents look found; such
    a resident cannot be found a second time, since its place can only be
    filled by taking the answer of a resident truly on the list, which then
    fails in turn.

    A re-check that fails is not told to the partner: only a resident found in
    run 1 can fail it, so a refusal would tell a partner that spoils the
    re-check on purpose whether anyone on its list is in the set, with nothing
    recorded. The session goes on as if nothing had happened, and its answer
    holds nobody (as when nobody is found); nothing is recorded.
    """
    with transaction.atomic():
        session = session_lock_for_call(session_id=session_id, call=call)
        _authorised_set(session, call)
        if number != session.chunks_done:
            raise SessionOutOfStep(
                f"the session expects chunk {session.chunks_done}, not {number}"
                if session.chunks_done < session.chunks
                else "every chunk is answered; ask for the answer"
            )
        changed = ["matched", "chunks_done", "client_key"]
        ids = _chunk_ids(session, number)
        positions = protocol.chunk_matches(
            key=resident_data_open(session.client_key, label=_KEY_LABEL),
            setup=bytes(session.partner_setup),
            response_text=response_text,
            expected=len(ids),
        )
        found = [ids[position] for position in positions if ids[position] != protocol.PADDING]
        matched = _ids(session.matched)
        if session.recheck_from is not None:
            if len(found) != sum(1 for resident_id in ids if resident_id != protocol.PADDING):
                session.recheck_failed = True
                changed.append("recheck_failed")
        else:
            matched.extend(found)
            if len(matched) > session.list_size:
                raise MessageInvalid("the responses match more residents than the list has IDs")
        session.matched = matched.tobytes()
        session.chunks_done += 1
        if session.chunks_done == session.chunks and session.recheck_from is None:
            changed += ["order", "recheck_from", "chunks"]
            # The re-check always holds as many items as the list, padded: nothing is recorded yet, so its
            # size must not tell the partner whether, or how many, residents were found.
            recheck = array("q", matched)
            recheck.extend([protocol.PADDING] * (session.list_size - len(matched)))
            secrets.SystemRandom().shuffle(recheck)
            session.order = recheck.tobytes()
            session.recheck_from = session.chunks
            session.chunks += -(-len(recheck) // protocol.CHUNK_SIZE)
        following = session.chunks_done if session.chunks_done < session.chunks else None
        # A fresh key for each chunk: an answer copied from one chunk into another decrypts to nothing.
        key = protocol.client_key_new() if following is not None else b""
        session.client_key = resident_data_seal(key, label=_KEY_LABEL) if key else b""
        # The set's order (8 bytes a resident) and the partner's list are not written again for each chunk.
        session.save(update_fields=sorted(set(changed)))
    if following is None:
        return ChunkRequest(session=session, number=None, request=None)
    return ChunkRequest(session=session, number=following, request=_chunk_request(session, following, key))


def matching_session_answer(*, session_id, request_text, call: AgencyCall) -> tuple[str, str]:
    """Answer the partner's blinded list with the residents found, recording one entry for each; end the session.

    Return OneCard's setup and response (run 2): from them the partner learns
    which of its entries are among the residents found, and nothing else.
    """
    with transaction.atomic():
        session = session_lock_for_call(session_id=session_id, call=call)
        matching_set = _authorised_set(session, call)
        if session.chunks_done < session.chunks:
            raise SessionOutOfStep(f"the session expects chunk {session.chunks_done} before the answer")
        request = protocol.partner_request_parse(request_text, at_most=session.list_size)
        # A consent withdrawn since the session started takes the resident out of the answer, and off the record.
        found = set_consented(matching_set=matching_set, call=call, resident_ids=sorted(set(_ids(session.matched))))
        if session.recheck_failed:
            # Run 1's finds cannot be trusted, and the partner must not tell this answer from one that found
            # nobody: it holds nobody, and nobody is recorded.
            logger.warning(
                "matching session %s: the partner's answers failed the re-check; it was answered with nobody",
                session.pk,
            )
            found = []
        national_ids = national_ids_for_residents(resident_ids=found)
        setup, response = protocol.answer(request=request, items=list(national_ids.values()))
        record_bulk(
            action=matching_set.kind.action,
            subjects=[Resident(pk=resident_id) for resident_id in national_ids],
            object=matching_set.text,
        )
        session.matched_count = len(national_ids)
        _session_end(session)
        session.save(update_fields=["matched_count", "ended_at", *_ENDED])
    return setup, response
