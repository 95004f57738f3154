"""RDF terms as the JSON the browse API answers and the pages show.

One mapping for every route: IRIs as {"iri", "label"}, literals as their value (with the
language when there is one), xsd:date also in Jalali, predicates as compact names (kh:title).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox

from khadamat.jalali import to_jalali
from khadamat.namespaces import PREFIXES, XSD
from khadamat.output import plain

_XSD_DATE = XSD + "date"


def curie(iri: str) -> str:
    """`https://w3id.org/khadamat/ontology#title` → `kh:title` (the IRI itself when no prefix fits)."""
    best = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else iri


def local_name(iri: str) -> str:
    """The last segment of an IRI (after '#' or '/')."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def jalali_of(literal: ox.Literal) -> str | None:
    """The Jalali form of an xsd:date literal, or None."""
    if literal.datatype is None or literal.datatype.value != _XSD_DATE:
        return None
    try:
        return to_jalali(dt.date.fromisoformat(literal.value))
    except ValueError:
        return None


def value(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None, label: ox.Literal | None = None
) -> Any:
    """A term as JSON: IRIs as objects with an optional label, literals as plain values."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        out: dict[str, Any] = {"iri": term.value}
        if label is not None:
            out["label"] = label.value
        return out
    if isinstance(term, ox.Literal):
        jalali = jalali_of(term)
        if jalali:
            return {"date": term.value, "jalali": jalali}
        if term.language:
            return {"value": term.value, "lang": term.language}
        return plain(term)
    return plain(term)


def text(term: ox.Literal | ox.NamedNode | None) -> str | None:
    return None if term is None else term.value


def properties(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """describe.rq rows (?p ?o ?label) folded into {compact predicate: [values]} (labels merged)."""
    folded: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        key = curie(row["p"].value)
        obj = row["o"]
        ident = str(obj)
        entry = folded[key].get(ident)
        if entry is None or (
            isinstance(entry, dict) and "label" not in entry and row.get("label") is not None
        ):
            folded[key][ident] = value(obj, row.get("label"))
    return {k: list(v.values()) for k, v in sorted(folded.items())}


def first_text(props: Mapping[str, list[Any]], key: str) -> str | None:
    """The first value of a property as text (the @fa label of a title, a code …)."""
    for item in props.get(key, []):
        if isinstance(item, dict):
            return item.get("value") or item.get("label") or item.get("iri")
        return str(item)
    return None
