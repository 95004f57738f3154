"""A submission validated with its context, without writing to the store.

The sandbox is an in-memory store holding every graph of the store except those the submission
replaces (and the provenance graph, which no shape reads), plus the submission's graphs: exactly
what the store would hold after `khadamat load`, so the findings are those the load would get.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyoxigraph import Quad

from khadamat.store import OxigraphStore, Store

if TYPE_CHECKING:
    from khadamat.loader import Submission


def overlay(store: Store, submission: Submission) -> OxigraphStore:
    """An in-memory store: the store's graphs, with the submission's graphs in place of theirs."""
    sandbox = OxigraphStore(None, store.minter)
    skipped = set(submission.graphs) | {store.minter.provenance_graph}
    for graph in store.named_graphs():
        if graph not in skipped:
            sandbox.add_quads(store.quads(graph))
    for graph, triples in submission.graphs.items():
        sandbox.add_quads(Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return sandbox
