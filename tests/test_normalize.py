"""Each normalization rule of the workbook spec, one test each."""

from __future__ import annotations

import pytest

from khadamat.normalize import latin_digits, normalize_key, normalize_text


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("كد", "کد"),  # Arabic kaf
        ("مصطفى", "مصطفی"),  # alef maksura
        ("مدرسة", "مدرسه"),  # teh marbuta
    ],
)
def test_arabic_letters_become_persian(written: str, expected: str) -> None:
    assert normalize_text(written) == expected


def test_persian_and_arabic_indic_digits_become_latin() -> None:
    assert latin_digits("۱۴۰۳/۰۴/۰۲") == "1403/04/02"
    assert latin_digits("١٢٣٤٥٦٧٨٩٠") == "1234567890"
    assert normalize_text("شماره ۲۹۱۶۸") == "شماره 29168"


def test_tatweel_and_diacritics_are_dropped() -> None:
    assert normalize_text("خـــدمت") == "خدمت"
    assert normalize_text("مُدَرِّس") == "مدرس"


def test_zwnj_counts_as_a_space_and_whitespace_collapses() -> None:
    assert normalize_text("  شناسنامه\u200cخدمات \t\n دولت ") == "شناسنامه خدمات دولت"


def test_keys_compare_without_spaces() -> None:
    # The spec's own example: the three spellings match as headers and codes.
    forms = {normalize_key("تصدی\u200cگری"), normalize_key("تصدی گری"), normalize_key("تصدیگری")}
    assert forms == {"تصدیگری"}
    assert normalize_key("Service_ID ") == normalize_key("service_id")


def test_text_as_written_is_not_changed_by_latin_digits_outside_digits() -> None:
    assert latin_digits("صدور پروانه") == "صدور پروانه"
