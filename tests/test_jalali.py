"""Jalali and ISO dates as agencies write them, and Jalali display."""

from __future__ import annotations

import datetime as dt

import pytest

from khadamat.jalali import DateFormatError, parse_date, to_jalali


@pytest.mark.parametrize(
    "written",
    ["۱۴۰۳/۰۴/۰۲", "1403/4/2", "1403/04/02", "١٤٠٣/٠٤/٠٢", "1403-04-02", "2024-06-22"],
)
def test_circular_date_in_every_accepted_spelling(written: str) -> None:
    # Circular 29168 is dated 1403/04/02, which is 22 June 2024.
    assert parse_date(written) == dt.date(2024, 6, 22)


@pytest.mark.parametrize("bad", ["1403/13/40", "1403/12/31", "2024-02-30", "22/06/2024", "", "فردا"])
def test_bad_dates_are_refused_with_what_was_expected(bad: str) -> None:
    with pytest.raises(DateFormatError) as err:
        parse_date(bad)
    assert bad in str(err.value) or "expected" in str(err.value)


def test_leap_year_last_day() -> None:
    assert parse_date("1403/12/30") == dt.date(2025, 3, 20)  # 1403 is a Jalali leap year


def test_display_in_jalali_with_persian_digits() -> None:
    assert to_jalali(dt.date(2024, 6, 22)) == "۱۴۰۳/۰۴/۰۲"
    assert to_jalali(dt.date(2024, 6, 22), persian_digits=False) == "1403/04/02"
