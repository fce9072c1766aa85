"""Celery tasks for cards: each loads ids, opens its own access context, and calls one action."""

from celery import shared_task
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from ledger.api import Actor, access_context


def _system_context(name: str):
    return access_context(
        actor=Actor(type="system", id=f"cards.tasks.{name}"),
        role="system",
        channel="task",
        purpose="card-administration",
    )


@shared_task(ignore_result=True)
def card_activation_code_send(card_id: int, locked: bool = False) -> None:
    """Create the card's one-time activation code and email it; LOCKED says the previous one was tried too often."""
    from cards.actions import card_activation_code_create
    from cards.models import Card

    with _system_context("card_activation_code_send"):
        card = Card.objects.select_related("resident").get(pk=card_id)
        if not card.resident.email or card.status != Card.Status.PENDING:
            return
        # The code is made here, not passed in, so it never sits in the broker.
        code = card_activation_code_create(card=card)
        subjects, bodies = [], []
        # Residents state no language: the message goes in both of the portal's languages, Chinese first.
        for language in ("zh-hans", "en"):
            with translation.override(language):
                subjects.append(_activation_subject(locked=locked))
                bodies.append(_activation_body(locked=locked, last_digits=card.number[-4:], code=code))
        send_mail(
            subject=" / ".join(subjects),
            message="\n\n".join(bodies),
            from_email=None,
            recipient_list=[card.resident.email],
        )


def _activation_subject(*, locked: bool) -> str:
    return _("Your OneCard activation code was locked") if locked else _("Your OneCard activation code")


def _activation_body(*, locked: bool, last_digits: str, code: str) -> str:
    if locked:
        opening = _(
            "A wrong activation code for your card ending in %(digits)s was entered five times, so that code no "
            "longer works. If this was not you, someone may know your national ID; your card is safe and can only "
            "be activated with the new code below."
        )
    else:
        opening = _("Your card ending in %(digits)s is ready.")
    return "\n".join(
        [
            opening % {"digits": last_digits},
            _("Activation code: %(code)s") % {"code": code},
            _("It can be used once and expires in 14 days. Nobody from OneCard will ask you for it."),
        ]
    )


@shared_task(ignore_result=True)
def cards_expire_sweep() -> int:
    """Expire every card past its expiry date (daily, on beat)."""
    from cards.actions import cards_expire

    with _system_context("cards_expire_sweep"):
        return cards_expire()


@shared_task(ignore_result=True)
def cards_retention_sweep() -> int:
    """Erase expired photo images and delete spent wallet offers and nonces (daily, on beat)."""
    from cards.actions import credential_offers_purge, photos_erase_expired

    with _system_context("cards_retention_sweep"):
        return photos_erase_expired() + credential_offers_purge()


@shared_task(ignore_result=True)
def card_printable_render(card_id: int) -> None:
    """Render the printable card (PNG and PDF) and cache it."""
    from cards.actions import card_printable_cache_fill
    from cards.models import Card

    with _system_context("card_printable_render"):
        card_printable_cache_fill(card=Card.objects.select_related("resident").get(pk=card_id))
