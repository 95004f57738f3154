"""The one place that formats values for people: pages, reports and the CLI's tables.

A citizen reads `۳٬۰۰۰٬۰۰۰ ریال`, not `3000000`; `بله`, not `True`; `۱۴۰۳/۰۴/۰۲`, not `2024-06-22`;
`مدت زمان ارائه (روز)`, not `kh:durationDays`. Every face of Khadamat that shows a value to a
person calls these functions, so that a number never reads two ways on two screens.

Every function takes `lang`, "fa" (the default: Persian digits, Persian separators) or "en"
(Latin digits, a comma between thousands, English words). The names below are stable; other
modules (the HTML pages in api/, the report in khadamat/report/, the CLI) import them:

- `fa_digits(text)`            — Latin (and Arabic-Indic) digits in a text → Persian digits.
- `number(value, lang)`        — an integer or decimal with the thousands separator (٬ or ,);
                                 `20.0` reads `۲۰`, `2.5` reads `۲٫۵`.
- `money(rials, lang)`         — `۳٬۰۰۰٬۰۰۰ ریال` / `3,000,000 rials`.
- `days(count, lang)`          — `۲۰ روز` / `20 days` (`1 day`).
- `yes_no(flag, lang)`         — `بله` / `خیر`, `Yes` / `No`.
- `jalali_date(date, lang)`    — a date (datetime.date or ISO text) as Jalali YYYY/MM/DD.
- `counted(count, fa, en, lang)` — `۲ دفتر پیشخوان` / `2 counter offices`.
- `display(value, lang)`       — any plain value (bool, int, float, date, text) as people read it.
- `label(iri, lang)`           — the ontology's rdfs:label (or skos:prefLabel) of a property,
                                 class or concept in that language; None when it has none.
- `labels(lang)`               — every such label, {IRI: label}, read once from the ontology files.
- `language(asked, accept)`    — "fa" or "en" from a `?lang=` value and an Accept-Language header.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from khadamat.jalali import to_jalali
from khadamat.resources import data_path

LANGUAGES = ("fa", "en")
FA_THOUSANDS = "\u066c"  # ٬ ARABIC THOUSANDS SEPARATOR, the one Persian typesetting uses
FA_DECIMAL = "\u066b"  # ٫ ARABIC DECIMAL SEPARATOR
_TO_FA = str.maketrans("0123456789٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹")
_WORDS = {
    "fa": {"yes": "بله", "no": "خیر", "rial": "ریال", "day": "روز", "days": "روز"},
    "en": {"yes": "Yes", "no": "No", "rial": "rials", "day": "day", "days": "days"},
}
# The files whose labels name properties, classes and concepts on pages (ontology/*.ttl).
LABEL_FILES = ("khadamat.ttl", "schemes.ttl")
# Standard terms the ontology reuses without labelling them (it labels only its own and a few
# borrowed ones): their labels here, so that no page or report shows `dct:title` to a reader.
BORROWED_LABELS = {
    "http://purl.org/dc/terms/title": ("عنوان", "title"),
    "http://purl.org/dc/terms/description": ("شرح", "description"),
    "http://purl.org/dc/terms/identifier": ("شناسه", "identifier"),
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": ("نوع", "type"),
    "http://www.w3.org/2000/01/rdf-schema#label": ("نام", "name"),
    "http://www.w3.org/2004/02/skos/core#prefLabel": ("نام", "name"),
    "http://www.w3.org/2004/02/skos/core#altLabel": ("نام دیگر", "other name"),
    "http://www.w3.org/2004/02/skos/core#notation": ("نماد", "notation"),
}
_LABEL_PREDICATES = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
)


def _lang(lang: str | None) -> str:
    return lang if lang in LANGUAGES else "fa"


def fa_digits(text: Any) -> str:
    """The text with every Latin or Arabic-Indic digit written as a Persian digit."""
    return str(text).translate(_TO_FA)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number_ = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number_ if number_.is_finite() else None


def number(value: Any, lang: str = "fa") -> str:
    """A number with its thousands grouped: `۵٬۵۰۰٬۰۰۰`, `5,500,000`; whole decimals lose `.0`.

    Text that is not a number is returned as it is (with Persian digits in "fa")."""
    parsed = _decimal(value)
    if parsed is None:
        return fa_digits(value) if _lang(lang) == "fa" else str(value)
    whole = parsed == parsed.to_integral_value()
    text = f"{int(parsed):,}" if whole else f"{parsed.normalize():,f}"
    if _lang(lang) == "en":
        return text
    return fa_digits(text.replace(",", FA_THOUSANDS).replace(".", FA_DECIMAL))


def money(rials: Any, lang: str = "fa") -> str:
    """An amount in rials with its unit: `۳٬۰۰۰٬۰۰۰ ریال`, `3,000,000 rials`."""
    return f"{number(rials, lang)} {_WORDS[_lang(lang)]['rial']}"


def days(count: Any, lang: str = "fa") -> str:
    """A duration in days with its unit: `۲۰ روز`, `20 days`, `1 day`."""
    words = _WORDS[_lang(lang)]
    return f"{number(count, lang)} {words['day'] if _decimal(count) == 1 else words['days']}"


def yes_no(flag: Any, lang: str = "fa") -> str:
    """A boolean (or its xsd text `true`/`false`/`1`/`0`) as بله/خیر or Yes/No."""
    if isinstance(flag, str):
        flag = flag.strip().lower() in ("true", "1")
    return _WORDS[_lang(lang)]["yes" if flag else "no"]


def jalali_date(date: dt.date | str, lang: str = "fa") -> str:
    """A Gregorian date (or its ISO text) as Jalali YYYY/MM/DD; text that is not a date, as it is."""
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date.strip()[:10])
        except ValueError:
            return date
    if isinstance(date, dt.datetime):
        date = date.date()
    return to_jalali(date, persian_digits=_lang(lang) == "fa")


def counted(count: int, fa: str, en: str, lang: str = "fa") -> str:
    """A count with its noun: `۲ دفتر پیشخوان` (Persian nouns stay singular), `2 counter offices`.

    `en` is the plural English noun; a trailing "s" is dropped for one."""
    if _lang(lang) == "en":
        noun = en[:-1] if count == 1 and en.endswith("s") else en
        return f"{number(count, 'en')} {noun}"
    return f"{number(count)} {fa}"


def display(value: Any, lang: str = "fa") -> str:
    """Any plain value as a person reads it: booleans in words, numbers grouped, dates in Jalali."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value, lang)
    if isinstance(value, int | float | Decimal):
        return number(value, lang)
    if isinstance(value, dt.date):
        return jalali_date(value, lang)
    return str(value)


@lru_cache(maxsize=len(LANGUAGES))
def labels(lang: str = "fa") -> dict[str, str]:
    """{IRI: label} for every property, class and concept the ontology files label in `lang`."""
    wanted = _lang(lang)
    out: dict[str, str] = {iri: pair[LANGUAGES.index(wanted)] for iri, pair in BORROWED_LABELS.items()}
    folder = data_path("ontology")
    for name in LABEL_FILES:
        path = folder / name
        if not path.exists():
            continue
        for triple in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE):
            obj = triple.object
            subject = triple.subject.value
            # The ontology's own label wins over a borrowed one; the first label of a term wins.
            if (
                triple.predicate.value in _LABEL_PREDICATES
                and isinstance(obj, ox.Literal)
                and obj.language == wanted
                and isinstance(triple.subject, ox.NamedNode)
                and (subject not in out or subject in BORROWED_LABELS)
            ):
                out[subject] = obj.value
    return out


def label(iri: str, lang: str = "fa") -> str | None:
    """The ontology's label of an IRI in `lang` (None when the ontology does not label it)."""
    return labels(_lang(lang)).get(iri)


_QUALITY = re.compile(r"^\s*([A-Za-z]{2,3})(?:-[A-Za-z0-9]+)*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def language(asked: str | None = None, accept_language: str | None = None) -> str:
    """The reader's language: `?lang=` when it names one we have, else the best of Accept-Language.

    Persian when neither says anything we have (the catalog's own language)."""
    if asked and asked.strip().lower()[:2] in LANGUAGES:
        return asked.strip().lower()[:2]
    best, best_q = "fa", 0.0
    for part in (accept_language or "").split(","):
        match = _QUALITY.match(part)
        if not match:
            continue
        code = match.group(1).lower()
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if code in LANGUAGES and quality > best_q:
            best, best_q = code, quality
    return best
