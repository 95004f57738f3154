"""Compact JSON-LD with Khadamat's published context (ontology/context.jsonld).

The context gives every kh: property and the common DCT/SKOS/ORG/ELI/FOAF ones a short key
(`title`, `serviceId`, `provider`…) and makes the object properties IRI-valued, so that an answer
reads as ordinary JSON with stable keys; anything else is a compact IRI (`cv:hasChannel`) under the
context's prefixes, or the full IRI. The compaction is written here rather than by a JSON-LD
processor (none is installed; rdflib's serializer chooses terms per value) so that a predicate
always has the same key: a flat `@graph` of node objects, keys and values sorted. Expanding the
document with the context gives back exactly the triples it was made from (tests check this
with rdflib).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from khadamat.namespaces import RDF, XSD
from khadamat.resources import data_path

CONTEXT_FILE = "context.jsonld"
_TYPE = RDF + "type"
_STRING = XSD + "string"


@lru_cache(maxsize=1)
def context_document() -> dict[str, Any]:
    """The published context document, as the package ships it."""
    return json.loads((data_path("ontology") / CONTEXT_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[tuple[tuple[str, str], ...], dict[str, tuple[str, bool]]]:
    """(prefixes longest namespace first, full property IRI → (key, IRI-valued)) from the context."""
    ctx = context_document()["@context"]
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("/", "#"))}

    def expand(value: str) -> str:
        prefix, _, local = value.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else value

    terms: dict[str, tuple[str, bool]] = {}
    for key, value in ctx.items():
        if key in prefixes or key.startswith("@"):
            continue
        iri = value if isinstance(value, str) else value["@id"]
        is_iri = isinstance(value, dict) and value.get("@type") == "@id"
        terms[expand(iri)] = (key, is_iri)
    ordered = tuple(sorted(prefixes.items(), key=lambda item: -len(item[1])))
    return ordered, terms


def compact_iri(iri: str) -> str:
    """`prefix:local` under the context's longest matching namespace, else the IRI itself."""
    for prefix, namespace in _vocabulary()[0]:
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and local and not local.startswith("//"):
            return f"{prefix}:{local}"
    return iri


def _node_id(term: ox.NamedNode | ox.BlankNode) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else compact_iri(term.value)


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal, iri_valued: bool) -> Any:
    if isinstance(term, ox.NamedNode | ox.BlankNode):
        return _node_id(term) if iri_valued else {"@id": _node_id(term)}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == _STRING:
        return term.value
    return {"@value": term.value, "@type": compact_iri(term.datatype.value)}


def compact(triples: Iterable[ox.Triple], context: str | dict[str, Any]) -> dict[str, Any]:
    """The triples as `{"@context": context, "@graph": [node objects]}` (context: a URL or object)."""
    _, terms = _vocabulary()
    nodes: dict[str, dict[str, list[Any]]] = {}
    for t in triples:
        if isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple):
            continue  # RDF-star has no JSON-LD 1.0 form; the graph answers hold none
        node = nodes.setdefault(_node_id(t.subject), {})
        if t.predicate.value == _TYPE and isinstance(t.object, ox.NamedNode):
            node.setdefault("@type", []).append(compact_iri(t.object.value))
            continue
        key, iri_valued = terms.get(t.predicate.value, (compact_iri(t.predicate.value), False))
        node.setdefault(key, []).append(_value(t.object, iri_valued))
    graph = []
    for node_id in sorted(nodes):
        obj: dict[str, Any] = {"@id": node_id}
        for key in sorted(nodes[node_id], key=lambda k: (k != "@type", k)):
            values = sorted(nodes[node_id][key], key=lambda v: json.dumps(v, ensure_ascii=False))
            obj[key] = values[0] if len(values) == 1 else values
        graph.append(obj)
    return {"@context": context, "@graph": graph}
