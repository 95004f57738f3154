"""Profiles: the catalog written in another vocabulary (CPSV-AP 3.2), by CONSTRUCT files.

The mapping is data: `queries/profiles/{profile}/export/*.rq` turn the store's kh: graph into
the profile's terms, and `…/import/*.rq` turn a file in the profile's terms into kh: triples
(loader/profile_in.py). Each file says what it maps and why in its header; this module only runs
them and gathers their triples into one graph (the profile has no named graphs).
"""

from __future__ import annotations

import pyoxigraph as ox
from pyoxigraph import NamedNode, RdfFormat, Triple

from khadamat.namespaces import PREFIXES
from khadamat.querylib import profile_specs, run_construct
from khadamat.store import Store

# Prefixes of the written file: CPSV-AP's own, then Khadamat's for the rest.
PROFILE_PREFIXES: dict[str, str] = {
    **PREFIXES,
    "locn": "http://www.w3.org/ns/locn#",
    "country": "http://publications.europa.eu/resource/authority/country/",
    "currency": "http://publications.europa.eu/resource/authority/currency/",
}


def export_triples(store: Store, profile: str, graphs: list[NamedNode] | None = None) -> list[Triple]:
    """Every triple the profile's export files construct, without repeats, in a stable order.

    `graphs` limits the catalog read (one agency's graph); the reference graphs (ontology,
    corpus, laws) are always read, for the labels, schemes and legal titles the mapping needs."""
    default_graph = None
    if graphs is not None:
        agency_prefix = store.minter.graph("agency").value + "/"
        reference = [g for g in store.named_graphs() if not g.value.startswith(agency_prefix)]
        default_graph = [*graphs, *reference]
    found: dict[Triple, None] = {}
    for spec in profile_specs(profile, "export"):
        found.update(dict.fromkeys(run_construct(store, spec, default_graph)))
    return sorted(found, key=str)


def serialize(triples: list[Triple], fmt: RdfFormat) -> bytes:
    """The profile's graph as one file; dataset formats hold it as their default graph."""
    data = [ox.Quad(t.subject, t.predicate, t.object) for t in triples] if fmt.supports_datasets else triples
    return ox.serialize(data, format=fmt, prefixes=PROFILE_PREFIXES) or b""
