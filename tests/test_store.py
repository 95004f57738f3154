"""The store: one transaction per replacement, reference graphs loaded once."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import Literal, NamedNode, Triple

from khadamat.config import Settings
from khadamat.store import open_store

EX = "https://example.org/"


def _t(s: str, o: str) -> Triple:
    return Triple(NamedNode(EX + s), NamedNode(EX + "p"), Literal(o))


def test_replace_graphs_replaces_only_the_named_graphs(tmp_path: Path) -> None:
    store = open_store(Settings.from_env(tmp_path / "s", EX))
    a, b = store.minter.agency_graph("A"), store.minter.agency_graph("B")
    store.replace_graphs({a: [_t("a1", "x"), _t("a2", "y")], b: [_t("b1", "z")]})
    store.replace_graphs({a: [_t("a3", "w")]})
    assert {q.subject.value for q in store.quads(a)} == {EX + "a3"}
    assert {q.subject.value for q in store.quads(b)} == {EX + "b1"}


def test_reference_graphs_are_loaded_once_and_survive_reopening(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path / "s", EX)
    store = open_store(settings)
    graphs = store.named_graphs()
    assert store.minter.ontology_graph in graphs and store.minter.corpus_graph in graphs
    count = sum(1 for _ in store.quads(store.minter.corpus_graph))
    store.close()
    again = open_store(settings)
    assert sum(1 for _ in again.quads(again.minter.corpus_graph)) == count
