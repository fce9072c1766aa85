"""Validate and decode the 18-character GB 11643 resident identity number."""

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import numdb

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
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
# A county entry in python-stdnum's cn/loc table: "[start-end]name", either year open, or a bare name.
_COUNTY_RANGE = re.compile(r"^\[(?P<start>[0-9]*)-(?P<end>[0-9]*)\]")


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
    """Return VALUE in the one form every check, hash and comparison uses: NFKC, no spaces, upper-case X.

    NFKC turns full-width digits and letters (\uff13\uff11\uff10, \uff58) and the ideographic
    space into their ASCII forms, so a number typed on a Chinese keyboard is the same number.
    """
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


@functools.cache
def _county_periods(code: str) -> tuple[tuple[int | None, int | None], ...]:
    """Return the (first year, last year) periods python-stdnum's table gives the six-digit CODE; () if none."""
    info = {key: value for _part, properties in numdb.get("cn/loc").info(code) for key, value in properties.items()}
    periods = []
    for county in filter(None, info.get("county", "").split(",")):
        found = _COUNTY_RANGE.match(county)
        if found is None:
            periods.append((None, None))
        else:
            periods.append(
                (int(found["start"]) if found["start"] else None, int(found["end"]) if found["end"] else None)
            )
    return tuple(periods)


def _region_check(code: str, *, birth_year: int, today: datetime.date) -> None:
    # A number keeps the code of the county that assigned it, which may be years after the birth
    # (first issue at 16, the 1984-89 rollout, moves before 1999): a code in use at any time from
    # the birth year to today is valid. python-stdnum's cn.ric wants it in use in the birth year.
    periods = _county_periods(code)
    ends = [end for _start, end in periods if end is not None]
    if not periods or not ends and not any(start is None or start <= today.year for start, _end in periods):
        raise ValidationError(
            _("region code %(code)s was never assigned to a county"), code="region", params={"code": code}
        )
    if not any((end is None or end >= birth_year) and (start is None or start <= today.year) for start, end in periods):
        withdrawn = max(ends)
        raise ValidationError(
            _("region code %(code)s was withdrawn in %(year)d, before the birth year %(birth_year)d"),
            code="region_withdrawn",
            params={"code": code, "year": withdrawn, "birth_year": birth_year},
        )


def parse_national_id(value: str, *, today: datetime.date | None = None) -> NationalId:
    """Return the decoded number, or raise ValidationError saying what is wrong."""
    today = today or datetime.date.today()
    number = normalize_national_id(value)
    if len(number) != 18:
        raise ValidationError(_("must be 18 characters, not %(length)d"), code="length", params={"length": len(number)})
    # ASCII only: str.isdigit() also accepts other scripts' digits, which would hash differently.
    if not _SHAPE.fullmatch(number):
        raise ValidationError(_("must be 17 digits followed by a digit or X"), code="format")
    if number[:2] not in PROVINCE_CODES:
        raise ValidationError(_("unknown province code %(code)s"), code="province", params={"code": number[:2]})
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("birth date %(date)s is not a real date"), code="birth_date", params={"date": number[6:14]}
        ) from None
    if birth_date > today or birth_date.year < 1900:
        raise ValidationError(
            _("birth date %(date)s is out of range"), code="birth_date", params={"date": birth_date.isoformat()}
        )
    if number[17] != check_character(number[:17]):
        raise ValidationError(_("check character does not match"), code="checksum")
    _region_check(number[:6], birth_year=birth_date.year, today=today)
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


class NationalIdFormField(forms.CharField):
    """A form field for a national ID as typed: its cleaned value is normalised, not yet validated."""

    def __init__(self, **kwargs):
        # Room for spaces between the groups; the normalised number is checked by whoever uses it.
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_national_id(value) if value else value
