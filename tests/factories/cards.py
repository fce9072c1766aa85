import datetime

import factory
from django.utils import timezone

from cards.models import Card
from cards.numbers import card_number_generate
from tests.factories import ResidentFactory


class CardFactory(factory.django.DjangoModelFactory):
    """A card written straight to the table, for tests that need a given status."""

    class Meta:
        model = Card

    resident = factory.SubFactory(ResidentFactory)
    number = factory.LazyFunction(card_number_generate)
    version = 1
    status = Card.Status.ACTIVE
    issued_on = factory.LazyFunction(timezone.localdate)
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3650))
