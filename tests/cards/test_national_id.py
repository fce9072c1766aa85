import datetime

import pytest
from django.core.exceptions import ValidationError

from cards.national_id import check_character, mask_national_id, parse_national_id
from tests.idnumbers import make_national_id, national_id_ending_in_x


def test_parse_accepts_a_valid_number_and_derives_birth_date_sex_and_province():
    parsed = parse_national_id("11010519491231002X")

    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == datetime.date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.province_code == "11"


def test_parse_accepts_lower_case_x_and_spaces():
    number = national_id_ending_in_x()

    assert parse_national_id(" " + number[:6] + " " + number[6:-1] + number[-1].lower()).number == number


def test_odd_sequence_digit_is_male():
    assert parse_national_id(make_national_id(sequence=123)).sex == "M"


def test_check_character_follows_iso_7064_mod_11_2():
    # The published GB 11643 example.
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "format"),
        ("11010519491231002Y", "format"),
        ("99010519491231002X", "province"),
        ("00010519491231002X", "province"),
        ("110105194902300021", "birth_date"),
        ("110105189912310021", "birth_date"),
        ("110105194912310021", "checksum"),
    ],
)
def test_parse_rejects_each_invalid_class(value, code):
    with pytest.raises(ValidationError) as raised:
        parse_national_id(value)

    assert raised.value.code == code


def test_parse_rejects_a_birth_date_in_the_future():
    number = make_national_id(birth="20300101")

    with pytest.raises(ValidationError) as raised:
        parse_national_id(number, today=datetime.date(2026, 1, 1))

    assert raised.value.code == "birth_date"


def test_parse_rejects_an_unknown_county_with_a_good_check_character():
    number = make_national_id(county="119999")

    with pytest.raises(ValidationError) as raised:
        parse_national_id(number)

    assert raised.value.code == "region"


def test_mask_keeps_region_and_last_four():
    assert mask_national_id("11010519491231002X") == "110***********002X"
