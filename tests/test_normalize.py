"""Each normalization rule of the workbook spec, one test each."""

from __future__ import annotations

import unicodedata

import pytest

from khadamat.normalize import latin_digits, normalize_key, normalize_text
from khadamat.titles import title_key, title_tokens


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


# Text copied from a PDF carries Arabic presentation forms (positional glyphs and ligatures from
# the Presentation Forms-A/B blocks) where the letters belong: the same word, other code points.
PDF_TITLE = "ﺻﺪﻭﺭ ﭘﺮﻭاﻧﻪ ﮐﺴﺐ ﻭ ﻣﺠﻮﺯ ﺑﻬﺪاﺷﺘﯽ"  # as extracted from a PDF
TYPED_TITLE = "صدور پروانه کسب و مجوز بهداشتی"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("ﻣﺠﻮﺯ", "مجوز"),  # meem initial, jeem medial, waw final, zain isolated
        (PDF_TITLE, TYPED_TITLE),
        ("ﻻ", "لا"),  # the lam-alef ligature is two letters
        ("ﭖ ﭺ ﮊ ﮒ", "پ چ ژ گ"),  # the Persian letters' forms
        ("ﮎ ﯼ ﯿ", "ک ی ی"),  # keheh and Farsi yeh forms
        ("ﻲ ﻙ", "ی ک"),  # Arabic yeh and kaf forms end as the Persian letters, as the letters do
        ("ﷲ", "الله"),  # a word ligature: its letters, the marks dropped as everywhere
    ],
)
def test_presentation_forms_become_the_letters_they_show(written: str, expected: str) -> None:
    assert all(c == " " or ord(c) >= 0xFB50 or c == "ا" for c in written)  # glyphs, not letters
    assert normalize_text(written) == expected
    assert normalize_key(written) == normalize_key(expected)


def test_every_presentation_form_with_a_decomposition_is_folded() -> None:
    blocks = [*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)]
    folded = [chr(c) for c in blocks if unicodedata.decomposition(chr(c))]
    assert len(folded) > 700
    left = [
        c
        for c in folded
        if any(0xFB50 <= ord(x) <= 0xFDFF or 0xFE70 <= ord(x) <= 0xFEFF for x in normalize_text(c))
    ]
    assert left == []


def test_a_title_copied_from_a_pdf_has_the_typed_titles_tokens_and_key() -> None:
    assert title_tokens(PDF_TITLE) == title_tokens(TYPED_TITLE)
    assert title_key(title_tokens(PDF_TITLE)) == title_key(title_tokens(TYPED_TITLE))


def test_soft_hyphens_are_removed() -> None:
    assert normalize_text("بهره\u00adبرداری") == "بهرهبرداری"
    assert normalize_key("گواهی\u00adنامه") == normalize_key("گواهی‌نامه") == normalize_key("گواهینامه")
    assert normalize_text("certifi\u00adcate") == "certificate"


@pytest.mark.parametrize("kept", ["m²", "ﬁle", "ＡＢ", "①", "½"])
def test_other_compatibility_characters_are_kept_as_written(kept: str) -> None:
    # Full NFKC would rewrite these; only the Arabic presentation forms are folded.
    assert normalize_text(kept) == kept
