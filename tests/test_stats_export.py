"""`khadamat stats` and `khadamat export` on a real on-disk store holding the foundation fixture.

The fixture (tests/fixtures/foundation, one Turtle file per named graph) is written with
`Store.replace_graphs`, exactly as the loader writes a submission; the commands run through
`khadamat.cli.main` as a user runs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyoxigraph import NamedNode, Quad, RdfFormat

from khadamat.cli import main
from khadamat.config import Settings
from khadamat.store import open_store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "foundation"
BASE = "https://w3id.org/khadamat/id/"

# What the fixture holds (see tests/fixtures/foundation/README.md).
FIXTURE_COUNTS = {
    "agencies": 3,  # MOE, its provincial unit MOE-KRM, the affiliate INTA
    "units": 1,
    "services": 3,
    "tasks": 2,
    "missions": 2,
    "instruments": 1,
    "articles": 1,
    "parts": 1,
    "inquiries": 1,
    "licenses": 1,
    "delegations": 2,
    "counterOffices": 1,
    "graphs": 3,
}


def _fixture_graphs() -> dict[NamedNode, list[ox.Triple]]:
    """agency-MOE.ttl -> {base}graph/agency/MOE, law-dtl.ttl -> {base}graph/law/dtl."""
    graphs = {}
    for path in sorted(FIXTURES.glob("*.ttl")):
        kind, code = path.stem.split("-", 1)
        triples = {q.triple for q in ox.parse(path=str(path), format=RdfFormat.TURTLE)}
        graphs[NamedNode(f"{BASE}graph/{kind}/{code}")] = sorted(triples, key=str)
    return graphs


def _stats(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    capsys.readouterr()
    assert main(["stats", "--store", str(store_dir), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    return {row["figure"]: row["count"] for row in rows}


@pytest.fixture()
def empty_store(tmp_path: Path) -> Path:
    """A store with only its reference graphs (ontology, legal corpus), as open_store makes it."""
    store_dir = tmp_path / "store"
    open_store(Settings(store_dir=store_dir, base=BASE)).close()
    return store_dir


@pytest.fixture()
def loaded_store(empty_store: Path) -> Path:
    store = open_store(Settings(store_dir=empty_store, base=BASE))
    store.replace_graphs(_fixture_graphs())
    store.close()
    del store
    return empty_store


def test_stats_counts_exactly_what_the_fixture_adds(
    empty_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _stats(empty_store, capsys)
    # Only the reference graphs: no agency data at all.
    assert before["graphs"] == 2 and before["agencies"] == before["services"] == before["tasks"] == 0
    store = open_store(Settings(store_dir=empty_store, base=BASE))
    graphs = _fixture_graphs()
    store.replace_graphs(graphs)
    store.close()
    del store
    after = _stats(empty_store, capsys)
    delta = {name: after[name] - before[name] for name in FIXTURE_COUNTS}
    assert delta == FIXTURE_COUNTS
    assert after["triples"] - before["triples"] == sum(len(t) for t in graphs.values())


def test_stats_table_prints_persian_labels(loaded_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--store", str(loaded_store)]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("services "))
    assert "خدمات" in line and line.split()[-1] == "3"


def test_stats_without_a_store_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert main(["stats", "--store", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "khadamat load" in err
    assert not missing.exists()  # reading never creates a store


def _store_quads(store_dir: Path, graphs: list[NamedNode] | None = None) -> set[Quad]:
    store = open_store(Settings(store_dir=store_dir, base=BASE), read_only=True)
    chosen = graphs if graphs is not None else store.named_graphs()
    return {q for g in chosen for q in store.quads(g)}


def test_export_trig_round_trips_the_whole_store(loaded_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.trig"
    assert main(["export", "--store", str(loaded_store), "--format", "trig", "-o", str(out)]) == 0
    exported = set(ox.parse(path=str(out), format=RdfFormat.TRIG))
    expected = _store_quads(loaded_store)
    assert len(exported) == len(expected) > 1000
    assert exported == expected
    # Persian literals and IRIs come back intact.
    law_part = NamedNode("https://w3id.org/khadamat/id/law/dtl/article/1/part/تبصره-1")
    assert any(q.subject == law_part for q in exported)


def test_export_agency_writes_only_that_graph(loaded_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "moe.nq"
    assert (
        main(
            ["export", "--store", str(loaded_store), "--agency", "MOE", "--format", "nquads", "-o", str(out)]
        )
        == 0
    )
    exported = set(ox.parse(path=str(out), format=RdfFormat.N_QUADS))
    graph = NamedNode(f"{BASE}graph/agency/MOE")
    assert {q.graph_name for q in exported} == {graph}
    assert {q.triple for q in exported} == set(_fixture_graphs()[graph])


def test_export_agency_code_is_normalized_like_the_loader(loaded_store: Path, tmp_path: Path) -> None:
    # Persian keyboards type codes with Persian digits or stray spaces; the graph IRI is normalized.
    out = tmp_path / "inta.trig"
    assert main(["export", "--store", str(loaded_store), "--agency", " INTA ", "-o", str(out)]) == 0
    assert {q.graph_name.value for q in ox.parse(path=str(out), format=RdfFormat.TRIG)} == {
        f"{BASE}graph/agency/INTA"
    }


def test_export_unknown_agency_exits_2_and_names_the_known_ones(
    loaded_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "none.trig"
    assert main(["export", "--store", str(loaded_store), "--agency", "NOPE", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "NOPE" in err and "INTA, MOE" in err
    assert not out.exists()


def test_export_into_a_missing_folder_is_a_one_line_error(
    loaded_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A mistyped folder is not created behind the user's back (like cp and curl -o): exit 2, one line.
    out = tmp_path / "missing_dir" / "x.ttl"
    capsys.readouterr()
    assert main(["export", "--store", str(loaded_store), "--format", "turtle", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: cannot write {out}: the folder {out.parent} does not exist (create it first)\n"
    assert not out.parent.exists()


def test_export_onto_a_folder_is_a_one_line_error(
    loaded_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["export", "--store", str(loaded_store), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write {tmp_path}: it is a folder") and err.count("\n") == 1


@pytest.mark.parametrize(("fmt", "rdf_format"), [("turtle", RdfFormat.TURTLE), ("jsonld", RdfFormat.JSON_LD)])
def test_export_other_formats_parse_back(
    loaded_store: Path, tmp_path: Path, fmt: str, rdf_format: RdfFormat
) -> None:
    out = tmp_path / f"law.{fmt}"
    # A law graph is not an agency graph: export the whole store and check the law's triples are in.
    assert main(["export", "--store", str(loaded_store), "--format", fmt, "-o", str(out)]) == 0
    parsed = list(ox.parse(path=str(out), format=rdf_format))
    triples = {q.triple for q in parsed}
    assert set(_fixture_graphs()[NamedNode(f"{BASE}graph/law/dtl")]) <= triples
    if fmt == "turtle":  # graphs merged: every quad of the store as a triple, duplicates collapsed
        assert triples == {q.triple for q in _store_quads(loaded_store)}
    else:  # JSON-LD keeps the named graphs
        assert {q for q in parsed} == _store_quads(loaded_store)


def test_export_to_stdout(loaded_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["export", "--store", str(loaded_store), "--agency", "INTA", "--format", "nquads"]) == 0
    out = capsys.readouterr().out
    quads = set(ox.parse(out.encode("utf-8"), format=RdfFormat.N_QUADS))
    assert {q.triple for q in quads} == set(_fixture_graphs()[NamedNode(f"{BASE}graph/agency/INTA")])
