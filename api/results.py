"""Writing a (capped) query answer in the negotiated format with pyoxigraph's serializers.

pyoxigraph serializes a whole result iterator; to cap an answer we first take at most N
solutions, write them as SPARQL JSON results (a small, fully specified format), and let
pyoxigraph re-read that JSON and write XML, CSV or TSV. Graph answers are capped lists of
triples that pyoxigraph serializes directly.
"""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox
from khadamat.api.execution import Materialized
from khadamat.api.negotiation import GRAPH_TYPES, RESULT_TYPES

from khadamat.namespaces import PREFIXES, XSD

_XSD_STRING = XSD + "string"


def term_json(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> dict[str, Any]:
    """One RDF term as the SPARQL 1.1 JSON results format writes it (RDF-star triples included)."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": term_json(term.subject),
                "predicate": term_json(term.predicate),
                "object": term_json(term.object),
            },
        }
    out: dict[str, Any] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype and term.datatype.value != _XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def solutions_json(answer: Materialized) -> dict[str, Any]:
    """SELECT results as a SPARQL JSON results document."""
    bindings = []
    for solution in answer.solutions:
        row = {}
        for name in answer.variables:
            value = solution[name]
            if value is not None:
                row[name] = term_json(value)
        bindings.append(row)
    return {"head": {"vars": answer.variables}, "results": {"bindings": bindings}}


def serialize_results(answer: Materialized, media_type: str) -> bytes:
    """A SELECT or ASK answer in one of RESULT_TYPES."""
    if answer.kind == "boolean":
        document: dict[str, Any] = {"head": {}, "boolean": answer.boolean}
    else:
        document = solutions_json(answer)
    data = json.dumps(document, ensure_ascii=False).encode("utf-8")
    fmt = RESULT_TYPES[media_type]
    if fmt == ox.QueryResultsFormat.JSON:
        return data
    parsed = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=fmt) or b""


def serialize_triples(triples: list[ox.Triple], media_type: str) -> bytes:
    """Triples in one of GRAPH_TYPES (dataset formats get them in the default graph)."""
    fmt = GRAPH_TYPES[media_type]
    prefixes = dict(PREFIXES) if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    if fmt.supports_datasets and fmt != ox.RdfFormat.JSON_LD:
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
        return ox.serialize(quads, format=fmt, prefixes=prefixes) or b""
    return ox.serialize(triples, format=fmt, prefixes=prefixes) or b""
