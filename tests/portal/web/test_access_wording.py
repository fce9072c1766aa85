"""Every access a resident can see is told in plain words, in English and Chinese, and never as a code."""

import html
import re

import pytest
from django.utils import translation

from ledger.api import Actor, access_context, purposes_all, record
from ledger.vocabulary import actions_all
from portal import wording
from tests.factories.core import AgencyFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "zh-hans"]
CJK = re.compile(r"[\u4e00-\u9fff]")
# An action code as the ledger writes one: lowercase words joined by "." or "_" (health.visits.read). Purpose
# codes are hyphenated like English words ("one-use"), so they are looked for by name, with the action codes.
CODE_SHAPE = re.compile(r"\b[a-z0-9]+(?:[._][a-z0-9]+)+\b")
# Latin words a Chinese sentence may keep: names of standards and the agency names of these tests.
LATIN_IN_CHINESE = {"QR", "ISO", "mdoc", "SD", "JWT", "Demo", "Bank"}


def codes() -> set[str]:
    return {action.code for action in actions_all()} | {purpose.code for purpose in purposes_all()}


def assert_plain(text: str, language: str) -> None:
    assert not CODE_SHAPE.search(text), f"{language}: a code in {text!r}"
    for code in codes():
        assert code not in text, f"{language}: {code} in {text!r}"
    if language == "zh-hans":
        assert CJK.search(text), f"not translated: {text!r}"
        latin = set(re.findall(r"[A-Za-z]+", text)) - LATIN_IN_CHINESE
        assert not latin, f"English left in Chinese: {latin} in {text!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_declared_action_reads_as_a_sentence_without_codes(language):
    with translation.override(language):
        for action in actions_all():
            told = wording.sentence(
                who_name=wording.who(actor_type="system", actor_id="x", role="system", own=set(), agencies={}),
                action=action.code,
                purpose="insurance-claims",
            )
            assert_plain(told.text, language)
            assert_plain(told.did, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_declared_purpose_reads_as_a_reason_and_a_name_without_codes(language):
    with translation.override(language):
        for purpose in purposes_all():
            assert_plain(wording.reason(purpose.code), language)
            assert_plain(wording.purpose_label(purpose.code), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_who_how_and_outcome_are_plain_words(language):
    with translation.override(language):
        texts = [
            wording.who(actor_type="staff", actor_id="s1-x", role=role, own=set(), agencies={})
            for role in [*wording.STAFF_ROLES, "staff", "some-new-group"]
        ]
        texts += [
            wording.who(actor_type=kind, actor_id="p1-x", role="x", own=set(), agencies={})
            for kind in ("agency", "resident", "system")
        ]
        texts += [wording.channel(code) for code in [*wording.CHANNELS, "carrier-pigeon"]]
        texts += [wording.outcome(code) for code in [*wording.OUTCOMES, "exploded"]]
        for text in texts:
            assert_plain(text, language)


def test_the_sentence_reads_as_the_issue_asks_in_both_languages():
    with translation.override("en"):
        english = wording.sentence(
            who_name="Ping An Insurance", action="health.visits.read", purpose="insurance-claims"
        )
    with translation.override("zh-hans"):
        chinese = wording.sentence(who_name="平安保险", action="health.visits.read", purpose="insurance-claims")

    assert english.text == "Ping An Insurance read your hospital visits to settle an insurance claim."
    assert chinese.text == "平安保险读取了您的就诊记录，用于保险理赔。"


def test_an_action_or_purpose_retired_since_still_reads_without_its_code():
    with translation.override("en"):
        told = wording.sentence(who_name="Demo Bank", action="old.thing.read", purpose="old-purpose")

    assert told.text == "Something was done with your data, by Demo Bank, for a purpose that is no longer in use."


def visible_text(page: str) -> str:
    """Return what a reader sees of PAGE: no tags, attributes, scripts or hidden messages for the verifier."""
    page = re.sub(r'<div hidden id="verify-messages".*?</div>', "", page, flags=re.S)
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_shows_every_declared_action_and_purpose_without_a_code(client_a, resident_a, language):
    """Record one access per declared action, with every declared purpose in turn, and read every page."""
    from ledger.sequencer import sequence

    AgencyFactory(code="demo-bank", name_en="Demo Bank", name_zh_hans="示范银行")
    resident = resident_a[1]
    purposes = [purpose.code for purpose in purposes_all()]
    for position, action in enumerate(actions_all()):
        with access_context(
            actor=Actor(type="agency", id="demo-bank"),
            role="bank",
            channel="api",
            purpose=purposes[position % len(purposes)],
        ):
            record(action=action.code, subject=resident)
    sequence()
    client_a.cookies["django_language"] = language

    url, seen = "/me/access/?actor=all", ""
    while url:
        page = client_a.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        seen += visible_text(page)
        older = re.search(r'href="(\?[^"]*before=\d+[^"]*)"', page)
        url = "/me/access/" + html.unescape(older.group(1)) if older else ""

    assert seen.count("示范银行" if language == "zh-hans" else "Demo Bank") >= len(actions_all())
    for code in codes():
        assert code not in seen, f"{language}: {code} shown on the page"
    assert not CODE_SHAPE.search(seen), CODE_SHAPE.search(seen)
