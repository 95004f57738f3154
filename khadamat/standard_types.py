"""The standard types (CPSV-AP, Core Vocabularies, W3C ORG, ELI) written beside the kh: types.

The ontology places every kh: class under the standard classes it specializes (kh:Service ⊑
cpsv:PublicService, kh:ExecutiveAgency ⊑ cv:PublicOrganisation, org:FormalOrganization,
kh:LegalInstrument ⊑ eli:LegalResource, cpsv:Rule…). A reasoner sees that; an architect's
standard query (`SELECT * { ?s a cpsv:PublicService }`) on /sparql does not. So the data graphs
also state those types: the loader adds them to every graph it writes (workbook and RDF paths
alike) and the store adds them to the built-in legal corpus. The list is read from
ontology/khadamat.ttl (its rdfs:subClassOf closure), never kept in code, so the two cannot drift.
Counts stay per kh: class (queries/_stats.rq), so a node typed twice still counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pyoxigraph as ox
from pyoxigraph import NamedNode, Triple

from khadamat.namespaces import KH, RDF
from khadamat.resources import data_path

TYPE = NamedNode(RDF + "type")
# Bump when the rule changes, so that stores holding the corpus typed by an older rule reload it.
RULE_VERSION = "standard-types/1"

_CLOSURE = f"""
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?class ?standard WHERE {{
  ?class rdfs:subClassOf+ ?standard
  FILTER(isIRI(?standard) && STRSTARTS(STR(?class), "{KH}") && !STRSTARTS(STR(?standard), "{KH}"))
}}"""


@lru_cache(maxsize=1)
def standard_superclasses() -> dict[NamedNode, tuple[NamedNode, ...]]:
    """Each kh: class → the non-kh: classes above it (transitively), from the ontology file."""
    store = ox.Store()
    store.load(path=str(data_path("ontology") / "khadamat.ttl"), format=ox.RdfFormat.TURTLE)
    found: dict[NamedNode, list[NamedNode]] = {}
    for row in store.query(_CLOSURE):
        found.setdefault(row["class"], []).append(row["standard"])
    return {cls: tuple(sorted(set(sups), key=str)) for cls, sups in found.items()}


def with_standard_types(triples: Iterable[Triple]) -> list[Triple]:
    """The triples, plus `s a S` for every standard superclass S of a kh: type of s not stated yet."""
    out = list(triples)
    supers = standard_superclasses()
    typed = {(t.subject, t.object) for t in out if t.predicate == TYPE}
    added: list[Triple] = []
    for t in out:  # in the order given, so that the same input gives the same output
        if t.predicate != TYPE or not isinstance(t.object, NamedNode):
            continue
        for standard in supers.get(t.object, ()):
            if (t.subject, standard) not in typed:
                typed.add((t.subject, standard))
                added.append(Triple(t.subject, TYPE, standard))
    return out + added
