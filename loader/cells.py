"""Parsing one cell: the value rules of the workbook spec, one function per kind of cell.

Every function takes the raw cell (text from a CSV, or whatever openpyxl returns: str, int,
float, bool, datetime) and returns a Python value or raises CellError saying what was expected.
Enumerations are matched against the SKOS labels of ontology/schemes.ttl, so that the accepted
spellings live with the concepts, not in code.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
from pyoxigraph import NamedNode

from khadamat.iris import segment
from khadamat.jalali import DateFormatError, parse_date
from khadamat.namespaces import KHC, SKOS
from khadamat.normalize import latin_digits, normalize_key
from khadamat.resources import data_path


class CellError(ValueError):
    """A cell whose value does not fit its column."""

    def __init__(self, expected: str, value: object = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.value = value


_MULTI = re.compile(r"[؛;\n\r]+")
_SEPARATORS = str.maketrans("", "", "٬,،_ \u00a0\u066c'")
_YES = frozenset({"بله", "yes", "y", "1", "true", "✓", "✔", "☑", "x", "دارد", "آری"})
_NO = frozenset({"خیر", "no", "n", "0", "false", "ندارد", "✗"})


def cell_text(raw: object) -> str | None:
    """Any cell as text, None when empty. Integral floats from Excel lose their '.0'."""
    if type(raw) is str:
        return raw.strip() or None
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    text = str(raw).strip()
    return text or None


def split_multi(text: str) -> list[str]:
    """A cell of several values separated by ؛ ; or a new line."""
    return [part.strip() for part in _MULTI.split(text) if part.strip()]


def parse_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    key = normalize_key(cell_text(raw) or "")
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError("yes or no (بله/خیر, yes/no, 1/0, ✓)", raw)


def parse_int(raw: object) -> int:
    """A whole number; Persian or Arabic digits and thousands separators (۱٬۲۰۰٬۰۰۰) are fine."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = latin_digits(cell_text(raw) or "").translate(_SEPARATORS)
    if not re.fullmatch(r"-?\d+", text):
        raise CellError("a whole number (e.g. ۱۲۰۰ or 1,200)", raw)
    return int(text)


def parse_money(raw: object) -> int:
    """An amount in rials: a non-negative whole number."""
    try:
        value = parse_int(raw)
    except CellError as exc:
        raise CellError("an amount in rials, a whole number (e.g. ۱٬۲۰۰٬۰۰۰)", raw) from exc
    if value < 0:
        raise CellError("an amount in rials, a whole number (e.g. ۱٬۲۰۰٬۰۰۰)", raw)
    return value


def parse_decimal(raw: object) -> Decimal:
    """A number that may have a fraction; '٫' and '.' are decimal points."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Decimal(str(raw))
    text = latin_digits(cell_text(raw) or "").replace("٫", ".").replace("٬", "").replace(",", "")
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise CellError("a number (e.g. 2 or 0.5)", raw) from exc
    if not value.is_finite():
        raise CellError("a number (e.g. 2 or 0.5)", raw)
    return value


def parse_cell_date(raw: object) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    return _parse_text_date(cell_text(raw) or "")


@lru_cache(maxsize=1 << 14)  # a catalog repeats its dates; jdatetime is slow to construct
def _parse_text_date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except DateFormatError as exc:
        raise CellError("a Jalali or ISO date (۱۴۰۳/۰۴/۰۲, 1403/4/2 or 2024-06-22)", text) from exc


def parse_digits(raw: object) -> str:
    """A service ID: digits only (Persian digits become Latin)."""
    text = latin_digits(cell_text(raw) or "").replace(" ", "")
    if not text.isdigit() or not text.isascii():
        raise CellError("a service ID of digits (e.g. 13091728000)", raw)
    return text


def parse_code(raw: object) -> str:
    """A code (agency, mission, law, license, office): the text as written, trimmed.

    Codes are compared with normalize_key and minted into IRIs by khadamat.iris, both of which
    normalize; the literal keeps what the agency wrote. A code that cannot be minted (direction
    marks such as U+200F, or other characters an IRI cannot hold) is refused here, by its cell."""
    text = cell_text(raw) or ""
    try:
        NamedNode("urn:khadamat:" + segment(text))
    except ValueError as exc:
        raise CellError("a code without direction marks or other invisible characters", raw) from exc
    return text


WEB_SCHEMES = frozenset({"http", "https"})
ADDRESS_SCHEMES = WEB_SCHEMES | {"mailto"}
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):(?!\d)", re.I)  # "host:8080" is a host and port, not a scheme


def parse_iri(raw: object, schemes: frozenset[str] = WEB_SCHEMES) -> NamedNode:
    """A web address; without a scheme it is taken as http. Only `schemes` are accepted.

    The IRI is shown as a link on entity pages: `javascript:`, `data:` or `file:` there would run
    script in a reader's browser or point into their machine, so any other scheme is refused.
    Pass ADDRESS_SCHEMES for a field that may hold an e-mail address (`mailto:`)."""
    text = (cell_text(raw) or "").strip()
    shown = " or ".join(f"{s}:" if s == "mailto" else f"{s}://" for s in sorted(schemes))
    expected = f"a web address starting with {shown} (e.g. https://www.example.ir)"
    scheme = _SCHEME.match(text)
    if scheme is None:
        text = "http://" + text
    elif scheme.group(1).lower() not in schemes:
        raise CellError(expected, raw)
    try:
        node = NamedNode(text)
    except ValueError as exc:
        raise CellError(expected, raw) from exc
    parts = urlsplit(node.value)
    if parts.scheme.lower() in WEB_SCHEMES and not parts.hostname:
        raise CellError(expected, raw)
    return node


ITEM_KINDS = {
    normalize_key(k): v
    for k, v in (("خدمت", "Service"), ("service", "Service"), ("وظیفه", "Task"), ("task", "Task"))
}


def parse_item_kind(raw: object) -> str:
    kind = ITEM_KINDS.get(normalize_key(cell_text(raw) or ""))
    if kind is None:
        raise CellError("خدمت (service) or وظیفه (task)", raw)
    return kind


class Enumerations:
    """The concepts of the khc: schemes by every accepted spelling, read from schemes.ttl."""

    def __init__(self, path: Path) -> None:
        self.by_scheme: dict[str, dict[str, NamedNode]] = {}
        self.labels: dict[str, list[str]] = {}
        self._seen: dict[tuple[str, str], NamedNode] = {}  # cells as written → concept (a cache)
        self._read(path)

    def _read(self, path: Path) -> None:
        in_scheme, pref_label = SKOS + "inScheme", SKOS + "prefLabel"
        spellings = {pref_label, SKOS + "altLabel", SKOS + "notation"}
        schemes: dict[NamedNode, str] = {}
        names: dict[NamedNode, list[str]] = {}
        shown: dict[NamedNode, str] = {}
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            subject, predicate, obj = quad.subject, quad.predicate.value, quad.object
            if not isinstance(subject, NamedNode) or not subject.value.startswith(KHC):
                continue
            if predicate == in_scheme:
                schemes[subject] = obj.value[len(KHC) :]
            elif predicate in spellings:
                names.setdefault(subject, []).append(obj.value)
                if predicate == pref_label and getattr(obj, "language", None) == "fa":
                    shown[subject] = obj.value
        for concept, scheme in schemes.items():
            index = self.by_scheme.setdefault(scheme, {})
            for name in names.get(concept, []):
                index.setdefault(normalize_key(name), concept)
            label = shown.get(concept) or next(iter(names.get(concept, [])), concept.value[len(KHC) :])
            self.labels.setdefault(scheme, []).append(label)

    def lookup(self, scheme: str, raw: object) -> NamedNode:
        text = cell_text(raw) or ""
        concept = self._seen.get((scheme, text))
        if concept is not None:
            return concept
        concept = self.by_scheme.get(scheme, {}).get(normalize_key(text))
        if concept is None:
            accepted = " · ".join(self.labels.get(scheme, [])) or f"(scheme khc:{scheme} is empty)"
            raise CellError(f"one of {accepted}", raw)
        self._seen[(scheme, text)] = concept
        return concept


@lru_cache(maxsize=2)
def enumerations(path: Path | None = None) -> Enumerations:
    """The enumerations of the installed ontology (cached: the file is read once per process)."""
    return Enumerations(path or data_path("ontology") / "schemes.ttl")
