"""The browse API's values (khadamat.api.views) as a person reads them on a page.

views.value() gives the JSON the API answers ({"iri", "label"}, {"value", "lang"}, {"date",
"jalali"}, numbers, booleans); a page shows the same values through khadamat.formatting: concept
labels in the reader's language, yes/no in words, grouped Persian digits with their unit, Jalali
dates, and the property's label from the ontology instead of its compact name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from khadamat.api.views import local_name

from khadamat import formatting
from khadamat.namespaces import PREFIXES

Link = Callable[[str], str | None]
_CONCEPTS = "https://w3id.org/khadamat/code/"
_LIST_SEPARATORS = ("؛", ";")


def expand(key: str) -> str:
    """`kh:title` → its full IRI (the key itself when it names no known prefix)."""
    prefix, _, local = key.partition(":")
    return PREFIXES[prefix] + local if prefix in PREFIXES and local else key


def property_label(key: str, lang: str) -> str:
    """The ontology's label of a compact property name; its local name when the ontology has none."""
    return formatting.label(expand(key), lang) or local_name(expand(key))


def _items(text: str) -> list[str]:
    for separator in _LIST_SEPARATORS:
        if separator in text:
            return [part.strip() for part in text.split(separator) if part.strip()]
    return [text]


def shown(value: Any, lang: str, link: Link, fmt: str | None = None) -> dict[str, Any]:
    """One value as {"text"} plus "href" (a link), "datetime" (a date) or "items" (a list)."""
    if isinstance(value, Mapping) and "iri" in value:
        iri = value["iri"]
        if iri.startswith(_CONCEPTS):  # a code of the catalog's schemes: a word, not a place to go
            return {"text": formatting.label(iri, lang) or value.get("label") or local_name(iri)}
        own = formatting.label(iri, lang) if lang == "en" else None
        return {"text": own or value.get("label") or local_name(iri), "href": link(iri)}
    if isinstance(value, Mapping) and "date" in value:
        return {"text": formatting.jalali_date(value["date"], lang), "datetime": value["date"]}
    if isinstance(value, Mapping) and "value" in value:
        text = value["value"]
        return {"text": text, "items": _items(text)} if fmt == "list" else {"text": text}
    if isinstance(value, bool):
        return {"text": formatting.yes_no(value, lang)}
    if isinstance(value, int | float):
        if fmt == "money":
            return {"text": formatting.money(value, lang)}
        if fmt == "days":
            return {"text": formatting.days(value, lang)}
        return {"text": formatting.number(value, lang)}
    text = formatting.display(value, lang)
    return {"text": text, "items": _items(text)} if fmt == "list" else {"text": text}


def row(key: str, values: list[Any], lang: str, link: Link, fmt: str | None = None) -> dict[str, Any]:
    """A labelled row: {"key", "label", "values": [shown …]}."""
    return {
        "key": key,
        "label": property_label(key, lang),
        "values": [shown(v, lang, link, fmt) for v in values],
    }


def rows(
    props: Mapping[str, list[Any]],
    lang: str,
    link: Link,
    skip: Collection[str] = (),
    formats: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every property not in `skip` as a labelled row, ordered by label."""
    formats = formats or {}
    out = [row(k, v, lang, link, formats.get(k)) for k, v in props.items() if k not in skip and v]
    return sorted(out, key=lambda r: r["label"])
