"""Build valid and invalid GB 11643 numbers for tests."""

import itertools

from cards.national_id import check_character

# County codes valid for every birth year used below (python-stdnum's table).
COUNTIES = ["110105", "310101", "110101", "110102", "310104", "310105", "120101", "110106"]


def make_national_id(*, county: str = "110105", birth: str = "19900307", sequence: int = 123) -> str:
    first17 = f"{county}{birth}{sequence:03d}"
    return first17 + check_character(first17)


def national_id_ending_in_x() -> str:
    for sequence in range(1000):
        number = make_national_id(sequence=sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives X")


def many_national_ids(count: int):
    """Yield COUNT distinct valid numbers."""
    dates = (
        f"{year}{month:02d}{day:02d}" for year in range(1950, 2000) for month in range(1, 13) for day in range(1, 29)
    )
    for produced, (birth, county, sequence) in enumerate(itertools.product(dates, COUNTIES, range(1, 1000, 37))):
        if produced >= count:
            return
        yield make_national_id(county=county, birth=birth, sequence=sequence)
