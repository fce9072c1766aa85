"""Count failed sign-ins per account, whatever identifier was typed for it.

django-axes counts failures under the "username" this module returns
(``AXES_USERNAME_CALLABLE``). A username and every spelling of the national ID
of the same account (spaces, full-width digits, a lower-case x) give one key,
``account:<id>``, so five wrong passwords lock the account however it was
named. A name that matches no account gets a keyed hash of its normalised form,
so axes's table never holds a typed national ID.
"""

import hashlib
import hmac
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from cards.national_id import parse_national_id
from cards.selectors import resident_account_id_by_national_id

_MEMO_ATTRIBUTE = "_onecard_login_keys"


def login_identifier_normalize(typed: str) -> tuple[str, bool]:
    """Return (normalised identifier, whether it is a national ID)."""
    try:
        return parse_national_id(typed).number, True
    except ValidationError:
        return unicodedata.normalize("NFKC", typed).strip(), False


def login_failure_key(request, credentials: dict | None) -> str | None:
    """Return the key django-axes counts this sign-in attempt's failures under."""
    typed = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if typed is None and request is not None:
        typed = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    if not typed:
        return None
    memo = getattr(request, _MEMO_ATTRIBUTE, None) if request is not None else None
    if memo is not None and typed in memo:
        return memo[typed]
    key = _key_for(str(typed))
    if request is not None:
        if memo is None:
            memo = {}
            setattr(request, _MEMO_ATTRIBUTE, memo)
        memo[typed] = key
    return key


def _key_for(typed: str) -> str:
    identifier, is_national_id = login_identifier_normalize(typed)
    if is_national_id:
        account_id = resident_account_id_by_national_id(national_id=identifier)
    else:
        account_id = get_user_model()._default_manager.filter(username=identifier).values_list("pk", flat=True).first()
    if account_id is not None:
        return f"account:{account_id}"
    digest = hmac.new(settings.ONECARD_LOOKUP_KEY, f"login-identifier:{identifier}".encode(), hashlib.sha256)
    return f"unknown:{digest.hexdigest()[:40]}"
