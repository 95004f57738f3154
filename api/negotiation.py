"""HTTP content negotiation: which of the formats we can write does the client prefer?

One parser of the Accept header for every route, so that the SPARQL endpoint, the browse API
and the entity pages answer `Accept: text/turtle` (or a browser's `text/html,…`) the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

# Media types of SPARQL results (SELECT / ASK).
RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
# Plain JSON / XML are what many clients send for results; they get the SPARQL forms.
RESULT_ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
}

# Media types of RDF graphs (CONSTRUCT / DESCRIBE, entity pages, browse API).
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
GRAPH_ALIASES = {
    "application/x-turtle": "text/turtle",
    "text/plain": "application/n-triples",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "application/json": "application/ld+json",
}


@dataclass(frozen=True)
class Preference:
    media_type: str
    quality: float
    order: int


def parse_accept(header: str | None) -> list[Preference]:
    """Accept header entries, best first (quality, then specificity, then order written)."""
    prefs: list[Preference] = []
    for order, item in enumerate((header or "").split(",")):
        pieces = [p.strip() for p in item.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        prefs.append(Preference(media, quality, order))

    def key(p: Preference) -> tuple[float, int, int]:
        specificity = 0 if p.media_type == "*/*" else 1 if p.media_type.endswith("/*") else 2
        return (-p.quality, -specificity, p.order)

    return sorted(prefs, key=key)


def choose(header: str | None, offered: Sequence[str], aliases: dict[str, str] | None = None) -> str | None:
    """The offered media type the client prefers; the first offered when it states no preference.

    Returns None when the client accepts none of them (the caller answers 406 or a default).
    """
    prefs = parse_accept(header)
    if not prefs:
        return offered[0]
    aliases = aliases or {}
    for pref in prefs:
        if pref.quality <= 0:
            continue
        media = aliases.get(pref.media_type, pref.media_type)
        if media in offered:
            return media
        if media == "*/*":
            return offered[0]
        if media.endswith("/*"):
            major = media[:-1]
            for candidate in offered:
                if candidate.startswith(major):
                    return candidate
    return None


def wants_html(header: str | None) -> bool:
    """True when a browser asks: text/html is preferred over every RDF type we offer."""
    chosen = choose(header, ["text/html", *GRAPH_TYPES], GRAPH_ALIASES)
    return chosen == "text/html" and bool(header)
