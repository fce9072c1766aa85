import datetime

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric

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


def _real_shaped(county: str, birth: str, sequence: str = "042") -> str:
    # The check character comes from python-stdnum, not from the code under test.
    first17 = county + birth + sequence
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize(
    ("county", "birth"),
    [
        ("310115", "19600315"),  # Pudong New Area, a code in use since 1992: assigned after the birth
        ("110111", "19500101"),  # Fangshan, since 1986
        ("110118", "19701120"),  # Miyun District, since 2015
        ("110103", "19800704"),  # Chongwen, until 2010: withdrawn after the birth
        ("120110", "19550212"),  # Dongjiao until 1991, then Dongli: one code, two counties
        ("110105", "19491231"),  # Chaoyang, never changed
        ("440305", "19880808"),  # Nanshan, Shenzhen
        ("510104", "20010101"),  # Jinjiang, Chengdu
    ],
)
def test_parse_accepts_a_code_in_use_at_some_time_from_the_birth_year_to_today(county, birth):
    number = _real_shaped(county, birth)

    assert parse_national_id(number, today=datetime.date(2026, 12, 1)).number == number


def test_parse_says_a_code_never_assigned_was_never_assigned():
    number = _real_shaped("119999", "19800101")

    with pytest.raises(ValidationError) as raised:
        parse_national_id(number)

    assert raised.value.code == "region"
    assert "never assigned" in str(raised.value.messages[0])


@pytest.mark.parametrize(("county", "birth", "withdrawn"), [("110103", "20120101", 2010), ("110110", "19900101", 1986)])
def test_parse_says_a_code_withdrawn_before_the_birth_year_was_withdrawn(county, birth, withdrawn):
    number = _real_shaped(county, birth)

    with pytest.raises(ValidationError) as raised:
        parse_national_id(number)

    assert raised.value.code == "region_withdrawn"
    assert f"withdrawn in {withdrawn}, before the birth year {birth[:4]}" in str(raised.value.messages[0])


@pytest.mark.parametrize(
    "typed",
    [
        "３１０１１５１９６００３１５０４２{check}",  # full-width digits
        "３１０１１５　１９６００３１５　０４２{check}",  # full-width digits and ideographic spaces
        "310115 19600315 042{check}",
    ],
)
def test_parse_normalises_full_width_digits_and_spaces_to_the_ascii_number(typed):
    number = _real_shaped("310115", "19600315")
    check = number[-1] if number[-1] != "X" else "ｘ"

    assert parse_national_id(typed.format(check=check.translate(_FULL_WIDTH))).number == number


_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def test_parse_refuses_digits_of_other_scripts_rather_than_hashing_them_differently():
    number = _real_shaped("310115", "19600315")
    arabic_indic = number[:-1].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + number[-1]

    with pytest.raises(ValidationError) as raised:
        parse_national_id(arabic_indic)

    assert raised.value.code == "format"
