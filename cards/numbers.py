"""Card numbers: 19 digits, random, the last one a Luhn check digit."""

import secrets

from stdnum import luhn

CARD_NUMBER_LENGTH = 19


def card_number_generate() -> str:
    """Return a random 19-digit number whose last digit is its Luhn check digit."""
    # A leading 9 keeps every number 19 digits long and marks it as a OneCard number
    # (ISO/IEC 7812 major industry identifier 9: national assignment).
    body = "9" + "".join(str(secrets.randbelow(10)) for _ in range(CARD_NUMBER_LENGTH - 2))
    return body + luhn.calc_check_digit(body)


def card_number_is_valid(number: str) -> bool:
    """Return whether NUMBER has 19 digits and a correct Luhn check digit."""
    return isinstance(number, str) and len(number) == CARD_NUMBER_LENGTH and number.isdigit() and luhn.is_valid(number)
