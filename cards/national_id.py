"""Validate and decode the 18-character GB 11643 resident identity number."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

# GB/T 2260 province-level codes (the first two digits).
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip

# ISO 7064 MOD 11-2 weights for the first 17 digits.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


@dataclass(frozen=True)
class NationalId:
    number: str
    birth_date: datetime.date
    sex: str
    province_code: str


def check_character(first_17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def normalize_national_id(value: str) -> str:
    """Return the number without spaces and with an upper-case X."""
    return "".join(str(value).split()).upper()


def parse_national_id(value: str, *, today: datetime.date | None = None) -> NationalId:
    """Return the decoded number, or raise ValidationError saying what is wrong."""
    number = normalize_national_id(value)
    if len(number) != 18:
        raise ValidationError(_("must be 18 characters, not %(length)d"), code="length", params={"length": len(number)})
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("must be 17 digits followed by a digit or X"), code="format")
    if number[:2] not in PROVINCE_CODES:
        raise ValidationError(_("unknown province code %(code)s"), code="province", params={"code": number[:2]})
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("birth date %(date)s is not a real date"), code="birth_date", params={"date": number[6:14]}
        ) from None
    if birth_date > (today or datetime.date.today()) or birth_date.year < 1900:
        raise ValidationError(
            _("birth date %(date)s is out of range"), code="birth_date", params={"date": birth_date.isoformat()}
        )
    if number[17] != check_character(number[:17]):
        raise ValidationError(_("check character does not match"), code="checksum")
    try:
        ric.validate(number)
    except (stdnum_exceptions.ValidationError, KeyError):  # stdnum raises KeyError for some unknown counties
        raise ValidationError(
            _("region code %(code)s is not a known county"), code="region", params={"code": number[:6]}
        ) from None
    return NationalId(
        number=number,
        birth_date=birth_date,
        sex="M" if int(number[16]) % 2 else "F",
        province_code=number[:2],
    )


def validate_national_id(value: str) -> None:
    """Raise ValidationError unless VALUE is a valid resident identity number."""
    parse_national_id(value)


def mask_national_id(number: str) -> str:
    """Return the number with everything but the region and last four characters hidden."""
    return number[:3] + "*" * 11 + number[-4:] if len(number) == 18 else "*" * len(number)
