import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import translation

from cards.admin import card_change_describe
from cards.models import Card, Resident
from tests.factories import ResidentFactory, UserFactory
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def admin_request(data=None):
    request = RequestFactory().post("/admin/cards/card/", data or {})
    request.user = UserFactory(is_staff=True, is_superuser=True)
    # What django_otp's middleware sets for a session verified by a device.
    request.user.is_verified = lambda: True
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def run_action(model, name, queryset, data=None):
    model_admin = admin.site._registry[model]
    request = admin_request(data)
    function = model_admin.get_actions(request)[name][0]
    return function(model_admin, request, queryset), request


def test_issue_card_action_issues_a_pending_card(caseworker_context):
    resident = ResidentFactory()

    run_action(Resident, "issue_card", Resident.objects.filter(pk=resident.pk))

    assert resident.cards.get().status == "pending"


def test_suspend_action_asks_for_a_reason_first(caseworker_context):
    card = CardFactory()

    response, _ = run_action(Card, "suspend_cards", Card.objects.filter(pk=card.pk))

    assert response.template_name == "admin/cards/card/transition.html"
    card.refresh_from_db()
    assert card.status == "active"


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        ("suspend_cards", "active", "suspended"),
        ("resume_cards", "suspended", "active"),
        ("revoke_cards", "active", "revoked"),
        ("reissue_cards", "active", "replaced"),
    ],
)
def test_transition_actions_apply_with_the_reason_given(caseworker_context, name, before, after):
    card = CardFactory(status=before)

    response, _ = run_action(Card, name, Card.objects.filter(pk=card.pk), {"apply": "1", "reason": "administrative"})

    assert response is None
    card.refresh_from_db()
    assert (card.status, card.status_reason) == (after, "administrative")


def test_a_refused_transition_is_a_message_not_an_error(caseworker_context):
    card = CardFactory(status="revoked")

    _, request = run_action(
        Card, "suspend_cards", Card.objects.filter(pk=card.pk), {"apply": "1", "reason": "administrative"}
    )

    assert "cannot be suspended" in [str(m) for m in request._messages][0]


def test_card_history_shows_its_sequenced_ledger_records(caseworker_context, commit_path):
    card = CardFactory()
    with commit_path():
        run_action(Card, "suspend_cards", Card.objects.filter(pk=card.pk), {"apply": "1", "reason": "suspected-fraud"})

    with translation.override("en"):
        html = admin.site._registry[Card].history(card)

    assert "cards.cards.suspend" in html and "active → suspended (suspected fraud)" in html
    assert "test-caseworker" in html


@pytest.mark.parametrize(
    ("detail", "english", "chinese"),
    [
        (
            "active->lost reported-lost",
            "active → reported lost (reported lost or stolen)",
            "有效 → 已挂失（挂失或被盗）",
        ),
        ("->pending first-issue", "→ pending activation (first issue)", "→ 待激活（首次签发）"),
        (
            "->pending damaged replaces card:7",
            "→ pending activation (damaged), replacing card:7",
            "→ 待激活（损坏），替换 card:7",
        ),
    ],
)
def test_a_card_status_change_is_shown_in_words(detail, english, chinese):
    with translation.override("en"):
        assert card_change_describe(detail) == english
    with translation.override("zh-hans"):
        assert card_change_describe(detail) == chinese


def test_a_card_history_detail_that_is_no_status_change_is_shown_as_recorded():
    assert card_change_describe("static valid") == "static valid"


def test_card_history_shows_only_that_card_oldest_first(caseworker_context, commit_path):
    other = CardFactory(status="active")
    card = CardFactory(resident=other.resident, status="revoked")
    with commit_path():
        run_action(Card, "revoke_cards", Card.objects.filter(pk=other.pk), {"apply": "1", "reason": "deceased"})
        Card.objects.filter(pk=card.pk).update(status="active")
        for name in ("suspend_cards", "resume_cards"):
            run_action(Card, name, Card.objects.filter(pk=card.pk), {"apply": "1", "reason": "administrative"})

    html = admin.site._registry[Card].history(card)

    assert html.index("cards.cards.suspend") < html.index("cards.cards.resume")
    assert "cards.cards.revoke" not in html
