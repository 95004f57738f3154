"""khadamat.formatting: values as a person reads them, in Persian and in English.

The expected strings are written out by hand from the service card of examples/catalog
(fee 3000000 rials, counter tariff 5500000, duration 20.0 days, 1403/04/02 = 2024-06-22).
"""

from __future__ import annotations

import datetime as dt

import pytest

from khadamat.formatting import (
    FA_THOUSANDS,
    counted,
    days,
    display,
    fa_digits,
    jalali_date,
    label,
    labels,
    language,
    money,
    number,
    yes_no,
)

KH = "https://w3id.org/khadamat/ontology#"


def test_persian_digits_replace_latin_and_arabic_indic_ones() -> None:
    assert fa_digits("ماده 12") == "ماده ۱۲"
    assert fa_digits("١٢٣") == "۱۲۳"
    assert fa_digits(2100) == "۲۱۰۰"


@pytest.mark.parametrize(
    ("value", "fa", "en"),
    [
        (3000000, "۳٬۰۰۰٬۰۰۰", "3,000,000"),
        ("5500000", "۵٬۵۰۰٬۰۰۰", "5,500,000"),
        (2100, "۲٬۱۰۰", "2,100"),
        (20.0, "۲۰", "20"),
        (2.5, "۲٫۵", "2.5"),
        (999, "۹۹۹", "999"),
        (0, "۰", "0"),
        (-1500, "-۱٬۵۰۰", "-1,500"),
    ],
)
def test_numbers_are_grouped_by_thousands(value: object, fa: str, en: str) -> None:
    assert number(value) == fa
    assert number(value, "en") == en


def test_the_persian_separator_is_the_arabic_thousands_separator() -> None:
    assert FA_THOUSANDS == "\u066c"
    assert number(1000) == "۱" + "\u066c" + "۰۰۰"


def test_text_that_is_not_a_number_is_kept() -> None:
    assert number("بدون هزینه") == "بدون هزینه"
    assert number("nan") == "nan"


def test_money_in_rials_and_durations_in_days() -> None:
    assert money(3000000) == "۳٬۰۰۰٬۰۰۰ ریال"
    assert money(3000000, "en") == "3,000,000 rials"
    assert days(20.0) == "۲۰ روز"
    assert days(20.0, "en") == "20 days"
    assert days(1, "en") == "1 day"


@pytest.mark.parametrize(
    ("flag", "fa", "en"),
    [(True, "بله", "Yes"), (False, "خیر", "No"), ("true", "بله", "Yes"), ("0", "خیر", "No")],
)
def test_yes_and_no_in_words(flag: object, fa: str, en: str) -> None:
    assert yes_no(flag) == fa
    assert yes_no(flag, "en") == en


def test_dates_in_jalali() -> None:
    assert jalali_date(dt.date(2024, 6, 22)) == "۱۴۰۳/۰۴/۰۲"
    assert jalali_date("2024-06-22") == "۱۴۰۳/۰۴/۰۲"
    assert jalali_date("2024-06-22", "en") == "1403/04/02"
    assert jalali_date("not a date") == "not a date"


def test_counts_with_their_noun() -> None:
    assert counted(2, "دفتر پیشخوان", "counter offices") == "۲ دفتر پیشخوان"
    assert counted(1, "دفتر پیشخوان", "counter offices", "en") == "1 counter office"
    assert counted(1200, "خدمت", "services", "en") == "1,200 services"


def test_display_picks_the_reading_by_type() -> None:
    assert display(True) == "بله"
    assert display(False, "en") == "No"
    assert display(5500000) == "۵٬۵۰۰٬۰۰۰"
    assert display(dt.date(2024, 6, 22)) == "۱۴۰۳/۰۴/۰۲"
    assert display("پروانه") == "پروانه"
    assert display(None) == ""


def test_labels_come_from_the_ontology_in_both_languages() -> None:
    # ontology/khadamat.ttl: kh:durationDays rdfs:label "مدت زمان ارائه (روز)"@fa , "duration (days)"@en
    assert label(KH + "durationDays") == "مدت زمان ارائه (روز)"
    assert label(KH + "durationDays", "en") == "duration (days)"
    # ontology/schemes.ttl: khc:audience-G2C skos:prefLabel "G2C (دولت به شهروند)"@fa
    assert label("https://w3id.org/khadamat/code/audience-G2C") == "G2C (دولت به شهروند)"
    assert label("https://example.org/unknown") is None
    assert all(not v.startswith("kh:") for v in labels("fa").values())


@pytest.mark.parametrize(
    ("asked", "header", "expected"),
    [
        (None, None, "fa"),
        ("en", "fa", "en"),
        ("fa", "en-US,en;q=0.9", "fa"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "de, fa;q=0.5, en;q=0.4", "fa"),
        (None, "de, fr", "fa"),
        ("xx", "en", "en"),
    ],
)
def test_language_from_the_query_then_the_header(
    asked: str | None, header: str | None, expected: str
) -> None:
    assert language(asked, header) == expected
