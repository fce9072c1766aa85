import pytest

from portal.models import User
from tests.factories import UserFactory
from tests.factories.portal import resident_with_account

pytestmark = pytest.mark.django_db


def test_a_user_is_loaded_with_their_resident(django_assert_num_queries):
    user, resident, _card, _device = resident_with_account()

    with django_assert_num_queries(1):
        loaded = User.objects.get(pk=user.pk)
        assert loaded.resident.pk == resident.pk


def test_a_user_without_a_resident_still_has_none(django_assert_num_queries):
    staff = UserFactory(is_staff=True)
    staff.save()

    with django_assert_num_queries(1):
        loaded = User.objects.get(pk=staff.pk)
        assert not hasattr(loaded, "resident")
