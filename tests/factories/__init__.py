import itertools

import factory

from cards.models import Resident
from portal.models import User
from tests.idnumbers import make_national_id

_sequence = itertools.count(1)


def _next_national_id() -> str:
    n = next(_sequence)
    return make_national_id(birth=f"19{60 + n // 900 % 40:02d}0101", sequence=n % 900 + 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    national_id_value = factory.LazyFunction(_next_national_id)
    full_name = factory.Sequence(lambda n: f"Resident {n}")
    phone = factory.Sequence(lambda n: f"1380000{n:04d}")
    email = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        national_id_value = kwargs.pop("national_id_value")
        resident = model_class(*args, **kwargs)
        resident.set_national_id(national_id_value)
        resident.save()
        return resident
