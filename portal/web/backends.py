"""Sign residents in with their national ID as well as their username."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from cards.national_id import parse_national_id
from cards.selectors import resident_get_by_national_id
from ledger.api import context_get_or_none
from portal.web.access import system_context


class NationalIdBackend(ModelBackend):
    """Authenticate a resident whose login name is their 18-character national ID."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        try:
            number = parse_national_id(username).number
        except ValidationError:
            return None
        resident = _resident_lookup(number)
        user = resident.user if resident is not None else None
        if user is None:
            # Spend the same time as a real check, so the answer does not tell who is registered.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def _resident_lookup(number: str):
    if context_get_or_none() is not None:
        return resident_get_by_national_id(national_id=number)
    with system_context("portal.login"):
        return resident_get_by_national_id(national_id=number)
