"""Private matching through the API: exact answers, one ledger entry per matched resident, nothing kept."""

import datetime

import pytest
from django.apps import apps
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.crypto import national_id_lookup_hash
from cards.models import Card
from ledger.api import subject_pseudonym
from services.core.models import Consent
from services.grants.models import Application
from services.matching import protocol
from services.matching.models import MatchingSession
from services.matching.tools import onecard_match as tool
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.grants import ProgrammeFactory
from tests.factories.services import consent, contribute, employer
from tests.idnumbers import make_national_id
from tests.services.matching.conftest import PURPOSE

pytestmark = pytest.mark.django_db


def stranger(n: int) -> str:
    """Return a valid national ID that no factory resident holds."""
    return make_national_id(county="310104", birth=f"1985{1 + n // 28 % 12:02d}{1 + n % 28:02d}", sequence=n % 900 + 1)


def match_entries(ledger_sequenced, action: str) -> list[dict]:
    return ledger_sequenced(action=action)


def test_a_partner_learns_exactly_which_of_its_ids_hold_an_active_card(partner, commit_path, ledger_sequenced):
    agency, gateway = partner
    active = [CardFactory().resident for _ in range(3)]
    suspended = CardFactory(status=Card.Status.SUSPENDED).resident
    cardless = ResidentFactory()
    ids = [active[0].national_id, suspended.national_id, stranger(1), active[2].national_id, cardless.national_id]

    with commit_path():
        matched = tool.match(gateway, set_name="active-card", ids=ids)

    assert matched == [active[0].national_id, active[2].national_id]
    entries = ledger_sequenced(action="matching.active_card.match")
    assert sorted(entry["subject"] for entry in entries) == sorted(
        subject_pseudonym(resident) for resident in (active[0], active[2])
    )
    assert {(e["actor"]["id"], e["purpose"], e["object"], e["outcome"]) for e in entries} == {
        (agency.code, PURPOSE, "active-card", "ok")
    }


def test_only_the_matched_residents_get_any_ledger_entry(partner, commit_path, ledger_sequenced):
    _agency, gateway = partner
    matched, unmatched = CardFactory().resident, ResidentFactory()
    already = {entry["index"] for entry in ledger_sequenced()}

    with commit_path():
        tool.match(gateway, set_name="active-card", ids=[matched.national_id, unmatched.national_id, stranger(2)])

    new = [entry for entry in ledger_sequenced() if entry["index"] not in already]
    assert [entry["subject"] for entry in new] == [subject_pseudonym(matched)]
    assert [entry["action"] for entry in new] == ["matching.active_card.match"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    residents=st.lists(st.booleans(), max_size=8),
    picks=st.lists(st.integers(min_value=0, max_value=7), max_size=8),
    strangers=st.sets(st.integers(min_value=0, max_value=5000), max_size=6),
)
def test_matches_are_exact_for_random_lists_against_random_sets(partner, residents, picks, strangers):
    _agency, gateway = partner
    created = [CardFactory().resident if has_card else ResidentFactory() for has_card in residents]
    chosen = [created[pick].national_id for pick in picks if pick < len(created)]
    ids = list(dict.fromkeys([*chosen, *(stranger(n) for n in strangers)]))
    in_set = {
        resident.national_id
        for resident in {card.resident for card in Card.objects.filter(status="active").select_related("resident")}
    }

    matched = tool.match(gateway, set_name="active-card", ids=ids) if ids else []

    assert matched == [national_id for national_id in ids if national_id in in_set]


def test_a_set_sent_in_several_chunks_matches_across_all_of_them(partner, monkeypatch, commit_path, ledger_sequenced):
    _agency, gateway = partner
    monkeypatch.setattr(protocol, "CHUNK_SIZE", 300)
    holders = [CardFactory().resident for _ in range(6)]

    with commit_path():
        matched = tool.match(gateway, set_name="active-card", ids=[r.national_id for r in holders] + [stranger(3)])

    assert sorted(matched) == sorted(r.national_id for r in holders)
    assert [path.rsplit("/", 2)[-2:] for path, _status in gateway.calls if "/chunks/" in path] == [
        ["chunks", "0"],
        ["chunks", "1"],
        ["chunks", "2"],
        ["chunks", "3"],
        ["chunks", "4"],  # the six residents found, sent again
    ]
    assert len(ledger_sequenced(action="matching.active_card.match")) == 6


def test_insured_months_matches_only_residents_who_consented(partner, commit_path, ledger_sequenced):
    agency, gateway = partner
    long_insured, short_insured, no_consent = ResidentFactory(), ResidentFactory(), ResidentFactory()
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=800)
    for resident, months in ((long_insured, 12), (short_insured, 11), (no_consent, 24)):
        contribute(resident, employer(), start.replace(day=1), months, insurances=["pension"])
    for resident in (long_insured, short_insured):
        consent(resident, agency, "matching:insured-months", PURPOSE)
    ids = [r.national_id for r in (long_insured, short_insured, no_consent)]

    with commit_path():
        matched = tool.match(gateway, set_name="insured-months:12", ids=ids)

    assert matched == [long_insured.national_id]
    entries = ledger_sequenced(action="matching.insured_months.match")
    assert [(e["subject"], e["object"]) for e in entries] == [(subject_pseudonym(long_insured), "insured-months:12")]


def test_a_consent_withdrawn_during_the_session_takes_the_resident_out_of_the_answer(
    partner, commit_path, ledger_sequenced
):
    agency, gateway = partner
    staying, leaving = ResidentFactory(), ResidentFactory()
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=800)
    for resident in (staying, leaving):
        contribute(resident, employer(), start, 12, insurances=["pension"])
        consent(resident, agency, "matching:insured-months", PURPOSE)
    original = gateway.post

    def post_withdrawing_before_the_answer(path, body):
        if path.endswith("/answer"):
            Consent.objects.filter(resident=leaving).update(revoked_at=timezone.now())
        return original(path, body)

    gateway.post = post_withdrawing_before_the_answer

    with commit_path():
        matched = tool.match(gateway, set_name="insured-months:12", ids=[staying.national_id, leaving.national_id])

    assert matched == [staying.national_id]
    entries = ledger_sequenced(action="matching.insured_months.match")
    assert [entry["subject"] for entry in entries] == [subject_pseudonym(staying)]


def test_grant_recipient_matches_the_residents_awarded_that_programme(partner, commit_path, ledger_sequenced):
    agency, gateway = partner
    programme, other = ProgrammeFactory(), ProgrammeFactory()
    paid, rejected, elsewhere = ResidentFactory(), ResidentFactory(), ResidentFactory()
    for resident, on, status in (
        (paid, programme, "paid"),
        (rejected, programme, "rejected"),
        (elsewhere, other, "paid"),
    ):
        Application.objects.create(programme=on, resident=resident, status=status, payout_account="6222020200001234567")
        consent(resident, agency, "matching:grant-recipient", PURPOSE)

    with commit_path():
        matched = tool.match(
            gateway,
            set_name=f"grant-recipient:{programme.code}",
            ids=[r.national_id for r in (paid, rejected, elsewhere)],
        )

    assert matched == [paid.national_id]
    entries = ledger_sequenced(action="matching.grant_recipient.match")
    assert [(e["subject"], e["object"]) for e in entries] == [
        (subject_pseudonym(paid), f"grant-recipient:{programme.code}")
    ]


def _stored_text(value) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def test_the_server_never_stores_the_partners_list(partner, commit_path):
    _agency, gateway = partner
    holder = CardFactory().resident
    others = [stranger(n) for n in range(10, 15)]
    registered_but_unmatched = ResidentFactory()
    ids = [holder.national_id, *others, registered_but_unmatched.national_id]

    with commit_path():
        tool.match(gateway, set_name="active-card", ids=ids)

    secret_forms = {national_id for national_id in others} | {national_id_lookup_hash(n) for n in others}
    found = []
    for model in apps.get_models():
        fields = [field.attname for field in model._meta.concrete_fields]
        for row in model.objects.values_list(*fields):
            text = " ".join(_stored_text(value) for value in row)
            found.extend((model.__name__, secret) for secret in secret_forms if secret in text)
    assert found == []
    session = MatchingSession.objects.get()
    assert (session.list_size, session.matched_count, session.ended_at is not None) == (len(ids), 1, True)
    assert [bytes(session.partner_setup), bytes(session.order), bytes(session.matched), bytes(session.client_key)] == [
        b""
    ] * 4
