"""Persian normalization, as the workbook spec defines it.

Agencies type the same word with Arabic or Persian letters, Persian, Arabic-Indic or Latin
digits, with a zero-width non-joiner, a space or nothing between the parts of a compound.
Everything that is compared (headers, codes, titles, enumeration values) goes through these
functions first; the text as written is kept separately for display.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LETTERS = str.maketrans(
    {
        "ي": "ی",
        "ك": "ک",
        "ى": "ی",
        "ة": "ه",
        "ۀ": "ه",
        "أ": "ا",
        "إ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "\u200c": " ",  # ZWNJ counts as a space
        "\u200d": "",
        "\u200f": "",  # RLM
        "\u200e": "",  # LRM
        "\ufeff": "",  # BOM / ZWNBSP
        "\u00a0": " ",
        "\u00ad": "",  # soft hyphen: invisible, left behind by word processors and PDFs
    }
)
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TATWEEL = "\u0640"
# Arabic Presentation Forms-A and -B: the positional glyphs (initial, medial, final, isolated) and
# ligatures that text copied from a PDF often carries instead of the letters (ﻣﺠﻮﺯ for مجوز).
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]+")
_SPACES = re.compile(r"\s+")


def latin_digits(text: str) -> str:
    """Persian and Arabic-Indic digits become Latin; nothing else changes."""
    return text.translate(_DIGITS)


def fold_presentation_forms(text: str) -> str:
    """Arabic presentation forms become the letters they show (NFKC of those characters only).

    NFKC on the whole text would also rewrite characters that are meant as written (superscript
    digits, full-width Latin, the ﬁ ligature, the Kelvin sign…); the presentation forms have no
    meaning of their own, so only they are folded.
    """
    return _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def _drop_marks(text: str) -> str:
    # Arabic diacritics (harakat, tanwin, shadda, superscript alef) are combining marks.
    return "".join(ch for ch in text if not unicodedata.combining(ch) and ch != _TATWEEL)


@lru_cache(maxsize=1 << 16)  # pure; a load normalizes the same cells over and over
def normalize_text(text: str) -> str:
    """Presentation forms folded, letters and digits unified, marks and soft hyphens dropped, ZWNJ
    as space, white space collapsed."""
    text = unicodedata.normalize("NFC", fold_presentation_forms(str(text)))
    text = _drop_marks(text.translate(_LETTERS)).translate(_DIGITS)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)
def normalize_key(text: str) -> str:
    """The form headers, codes and enumeration values are compared in: no spaces, lower case."""
    return normalize_text(text).replace(" ", "").casefold()
