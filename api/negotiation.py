"""HTTP content negotiation: which of the formats we can write does the client prefer?

One parser of the Accept header for every route, so that the SPARQL endpoint, the browse API
and the entity pages answer `Accept: text/turtle` (or a browser's `text/html,…`) the same way.
Media ranges are parsed and matched by python-mimeparse (a maintained library), which takes each
type's quality from the most specific range that matches it, so `q=0` really refuses a type.
"""

from __future__ import annotations

from collections.abc import Sequence

import mimeparse
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


def _media_ranges(header: str) -> list[tuple[str, str, dict[str, str]]]:
    """The Accept header's media ranges as python-mimeparse parses them; malformed ones dropped."""
    ranges = []
    for item in header.lower().split(","):
        if item.strip():
            try:
                ranges.append(mimeparse.parse_media_range(item))
            except ValueError:  # mimeparse.MimeTypeParseException: not a type/subtype
                continue
    return ranges


def _quality(
    media: str, aliases: Sequence[str], ranges: list[tuple[str, str, dict[str, str]]]
) -> tuple[float, float]:
    """(quality, fitness) of an offered type: the most specific range that matches it decides
    (RFC 9110 §12.5.1), so `text/csv;q=0` excludes text/csv even when `text/*` or `*/*` accepts
    it. An alias counts only where a range names it (application/json, not `text/*` for text/xml:
    the answer's Content-Type is the offered type), and `application/json;q=0` refuses its type."""
    named = [r for r in ranges if "*" not in (r[0], r[1])]
    best = mimeparse.quality_and_fitness_parsed(media, ranges)
    for alias in aliases:
        quality, fitness = mimeparse.quality_and_fitness_parsed(alias, named)
        if fitness > best[1] or (fitness == best[1] and quality < best[0]):
            best = (quality, fitness)
    return best


def choose(header: str | None, offered: Sequence[str], aliases: dict[str, str] | None = None) -> str | None:
    """The offered media type the client prefers; the first offered when it states no preference.

    The highest quality wins, then the most specific range (`*/*, text/csv` gives text/csv), then
    the order of `offered`. A type whose quality is 0 is never chosen. `aliases` maps other names a
    client may ask for (application/json) to the offered type they stand for. Returns None when the
    client accepts none of them (the caller answers 406 or a default).
    """
    if not (header or "").strip():
        return offered[0]
    ranges = _media_ranges(header or "")
    aliases = aliases or {}
    chosen, best = None, (0.0, -1.0)
    for media in offered:
        others = [alias for alias, target in aliases.items() if target == media]
        quality, fitness = _quality(media, others, ranges)
        if quality > 0 and (quality, fitness) > best:
            chosen, best = media, (quality, fitness)
    return chosen


def wants_html(header: str | None) -> bool:
    """True when a browser asks: text/html is preferred over every RDF type we offer."""
    chosen = choose(header, ["text/html", *GRAPH_TYPES], GRAPH_ALIASES)
    return chosen == "text/html" and bool(header)
