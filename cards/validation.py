"""Check the fields of a resident record and say what is wrong with each."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cards.national_id import NationalId, parse_national_id

_PHONE = re.compile(r"^\+?[0-9]{7,15}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
FULL_NAME_MAX_LENGTH = 100


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
    if not full_name:
        errors["full_name"] = "is required"
    elif len(full_name) > FULL_NAME_MAX_LENGTH:
        errors["full_name"] = f"must be at most {FULL_NAME_MAX_LENGTH} characters"
    cleaned["full_name"] = full_name
    phone = _PHONE_SEPARATORS.sub("", phone or "")
    if phone and not _PHONE.match(phone):
        errors["phone"] = "must be 7 to 15 digits, optionally starting with +"
    cleaned["phone"] = phone
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "is not a valid email address"
    cleaned["email"] = email
    return cleaned, errors
