"""The bundled examples load, every row traceable to its node (examples/catalog, examples/kerman-iec)."""

from __future__ import annotations

from pathlib import Path

import pytest
from khadamat.loader.columns import SHEETS
from khadamat.loader.submission import load_submission
from pyoxigraph import Literal, NamedNode
from test_loader_helpers import disk_store, graph_lines, read_csv

from khadamat.namespaces import KH

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CATALOG, KERMAN = EXAMPLES / "catalog", EXAMPLES / "kerman-iec"
SOURCE_ROW = NamedNode(KH + "sourceRow")


def need(folder: Path) -> None:
    if not (folder / "services.csv").exists():
        pytest.skip(f"{folder} is not there yet")


def source_rows(store) -> set[str]:
    return {q.object.value for q in store._store.quads_for_pattern(None, SOURCE_ROW, None, None)}


def test_catalog_every_row_is_traceable(tmp_path):
    need(CATALOG)
    store = disk_store(tmp_path / "store")
    load_submission([CATALOG], store)
    rows = source_rows(store)
    for spec in SHEETS:
        path = CATALOG / f"{spec.key}.csv"
        if not path.exists():
            continue
        _, data = read_csv(path)
        expected = {f"{spec.key}.csv#{spec.key}!{n}" for n in range(2, len(data) + 2) if any(data[n - 2])}
        if spec.key == "laws":  # rows restating the built-in corpus are not written again
            continue
        assert expected <= rows, (spec.key, sorted(expected - rows)[:5])
    store.close()


def test_kerman_real_ids_and_parents(tmp_path):
    need(KERMAN)
    store = disk_store(tmp_path / "store")
    load_submission([KERMAN], store)
    header, data = read_csv(KERMAN / "services.csv")
    sid, parent = header.index("service_id"), header.index("parent_service")
    ids = {
        q.object.value for q in store._store.quads_for_pattern(None, NamedNode(KH + "serviceId"), None, None)
    }
    assert ids == {row[sid] for row in data} and len(ids) == len(data) == 58
    for row in data:
        if not row[parent]:
            continue
        child = next(
            iter(store._store.quads_for_pattern(None, NamedNode(KH + "serviceId"), Literal(row[sid]), None))
        )
        parents = {
            q.object
            for q in store._store.quads_for_pattern(
                child.subject, NamedNode(KH + "parentService"), None, None
            )
        }
        [parent_node] = parents
        assert (
            next(
                iter(store._store.quads_for_pattern(parent_node, NamedNode(KH + "serviceId"), None, None))
            ).object.value
            == row[parent]
        )
    store.close()


def test_kerman_after_catalog_keeps_the_catalog(tmp_path):
    need(CATALOG)
    need(KERMAN)
    store = disk_store(tmp_path / "store")
    first = load_submission([CATALOG], store)
    before = {g.value: graph_lines(store, g) for g in first.graphs}
    second = load_submission([KERMAN], store)
    for graph in first.graphs:
        after = graph_lines(store, graph)
        if graph in second.graphs:  # listed again for the hierarchy: its catalog stays
            kept = [
                line for line in before[graph.value] if "prefLabel" not in line and "sourceRow" not in line
            ]
            assert set(kept) <= set(after), graph.value
        else:
            assert after == before[graph.value], graph.value
    store.close()
