"""Check the fields of a resident record and say what is wrong with each."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cards.national_id import NationalId, parse_national_id

_PHONE = re.compile(r"^\+?[0-9]{7,15}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
FULL_NAME_MAX_LENGTH = 100
# RFC 5321's limit on a forward path, and the model field's max_length.
EMAIL_MAX_LENGTH = 254
# Control (Cc), format (Cf: bidirectional overrides such as U+202E, zero-width U+200B),
# surrogate, private-use and unassigned code points: none belongs in a printed name,
# and some make a name display as another.
_NAME_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def _name_refused_character(name: str) -> str | None:
    """Return the first character of NAME that no name may hold, as U+XXXX, or None."""
    for character in name:
        if unicodedata.category(character) in _NAME_REFUSED_CATEGORIES:
            return f"U+{ord(character):04X}"
    return None


def _first_message(error: ValidationError) -> str:
    return str(error.messages[0])


def resident_fields_clean(*, national_id: str, full_name: str, phone: str, email: str) -> tuple[dict, dict[str, str]]:
    """Return (cleaned values, {field: message}) for one resident record."""
    errors: dict[str, str] = {}
    cleaned: dict = {}
    try:
        parsed: NationalId = parse_national_id(national_id or "")
        cleaned["national_id"] = parsed.number
    except ValidationError as error:
        errors["national_id"] = _first_message(error) if national_id else "is required"
    full_name = " ".join((full_name or "").split())
    refused = _name_refused_character(full_name)
    if not full_name:
        errors["full_name"] = "is required"
    elif refused:
        errors["full_name"] = f"must not contain control or invisible formatting characters ({refused})"
    elif len(full_name) > FULL_NAME_MAX_LENGTH:
        errors["full_name"] = f"must be at most {FULL_NAME_MAX_LENGTH} characters"
    cleaned["full_name"] = full_name
    phone = _PHONE_SEPARATORS.sub("", phone or "")
    if phone and not _PHONE.match(phone):
        errors["phone"] = "must be 7 to 15 digits, optionally starting with +"
    cleaned["phone"] = phone
    email = (email or "").strip()
    if len(email) > EMAIL_MAX_LENGTH:
        errors["email"] = f"must be at most {EMAIL_MAX_LENGTH} characters"
    elif email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "is not a valid email address"
    cleaned["email"] = email
    return cleaned, errors
