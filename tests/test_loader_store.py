"""What a load does to the store: all or nothing (even when killed), resubmission replaces only
the submitting agency's graph, several-MB files load (issue 2, 'Done when')."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from khadamat.loader.errors import SubmissionError
from khadamat.loader.submission import load_submission
from pyoxigraph import NamedNode
from test_loader_helpers import (
    BASIC,
    copy_basic,
    disk_store,
    dump_lines,
    generate_catalog,
    graph_lines,
    read_csv,
    write_csv,
)

from khadamat.namespaces import KH, PROV, sparql_prologue


def test_failed_load_leaves_store_identical(tmp_path):
    store = disk_store(tmp_path / "store")
    load_submission([BASIC], store)
    before = dump_lines(store)
    folder = copy_basic(tmp_path)
    header, rows = read_csv(folder / "services.csv")
    rows[0][0] = "UNKNOWN-AGENCY"
    write_csv(folder / "services.csv", header, rows)
    with pytest.raises(SubmissionError):
        load_submission([folder], store)
    assert dump_lines(store) == before
    store.close()


def test_resubmission_replaces_only_its_agency(tmp_path):
    store = disk_store(tmp_path / "store")
    first = load_submission([BASIC], store)
    pg = store.minter.provenance_graph
    untouched = [g for g in first.graphs if g != store.minter.agency_graph("MCHT")]
    before = {g.value: graph_lines(store, g) for g in untouched}
    generated = NamedNode(PROV + "wasGeneratedBy")
    old_activity = {q.object for q in store._store.quads_for_pattern(None, generated, None, pg)}
    assert len(old_activity) == 1

    # MCHT sends again: one service renamed, the other dropped, a new one added
    folder = tmp_path / "mcht"
    folder.mkdir()
    write_csv(
        folder / "services.csv",
        ["agency", "title", "service_id", "missions"],
        [
            ["MCHT", "ثبت آثار تاریخی", "14000000001", "M-MCHT-1"],
        ],
    )
    second = load_submission([folder], store)
    assert second.agencies == ["MCHT"]
    assert {g.value: graph_lines(store, g) for g in untouched} == before
    mcht = graph_lines(store, store.minter.agency_graph("MCHT"))
    assert any("14000000001" in line for line in mcht)
    assert not any("agency/MCHT/service/13091726000" in line for line in mcht)
    # the agency node and its mission were not in the new submission's sheets: they are kept
    assert any(
        line.startswith(f"<https://w3id.org/khadamat/id/agency/MCHT> <{KH}agencyCode>") for line in mcht
    )
    assert any(f"mission/M-MCHT-1> <{KH}missionCode>" in line for line in mcht)
    # provenance: MCHT's graph points at the new load, the others still at the first one
    by_graph = {q.subject.value: q.object for q in store._store.quads_for_pattern(None, generated, None, pg)}
    assert by_graph[store.minter.agency_graph("MCHT").value] not in old_activity
    assert {by_graph[g.value] for g in untouched} == old_activity
    store.close()


def test_file_of_several_megabytes(tmp_path):
    folder = generate_catalog(tmp_path / "big", services=4000, agencies=10)
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size > 3_000_000
    store = disk_store(tmp_path / "store")
    sub = load_submission([folder], store)
    count = store.select(sparql_prologue() + "SELECT (COUNT(?s) AS ?n) WHERE { ?s a kh:Service }")[0]["n"]
    assert int(count.value) == 4000
    assert sub.agencies == [
        "GEN-0",
        "GEN-1",
        "GEN-2",
        "GEN-3",
        "GEN-4",
        "GEN-5",
        "GEN-6",
        "GEN-7",
        "GEN-8",
        "GEN-9",
        "GEN-MIN",
    ]
    stored = sum(len(graph_lines(store, g)) for g in sub.graphs)
    assert stored == sub.triple_count > 4000 * 25
    store.close()
    # the large write went through a new generation; nothing is left over
    assert sorted(p.name for p in (tmp_path / "store").iterdir() if p.name.startswith("gen-")) == [
        os.readlink(tmp_path / "store" / "active")
    ]


def _kill_during_load(store_dir: Path, folder: Path, delay: float | None) -> tuple[str, bool]:
    """Run `khadamat load` in a subprocess and SIGKILL it once it writes (or after `delay` s)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "khadamat", "load", str(folder), "--store", str(store_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ""
    if delay is None:
        for line in process.stderr:
            seen += line
            if "writing" in line:
                time.sleep(random.uniform(0.2, 1.0))
                break
    else:
        time.sleep(delay)
    finished = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return seen, finished


@pytest.mark.slow
@pytest.mark.parametrize("delay", [None, "random"])
def test_killed_load_leaves_store_before_or_after(tmp_path, delay):
    store_dir = tmp_path / "store"
    store = disk_store(store_dir)
    load_submission([BASIC], store)
    pg = store.minter.provenance_graph
    before = dump_lines(store, skip=(pg,))
    store.close()
    folder = generate_catalog(tmp_path / "big", services=6000, agencies=12)
    seen, finished = _kill_during_load(
        store_dir, folder, None if delay is None else random.uniform(0.5, 12.0)
    )
    if delay is None:
        assert "writing" in seen
        if not finished:  # killed while writing: the new generation was being built beside the live one
            assert len([p for p in store_dir.iterdir() if p.name.startswith("gen-")]) == 2

    store = disk_store(store_dir)  # reopening removes what a killed load left behind
    after_kill = dump_lines(store, skip=(pg,))
    leftovers = [p.name for p in store_dir.iterdir() if p.name.startswith(("gen-", ".active-"))]
    assert leftovers == [os.readlink(store_dir / "active")]
    load_submission([folder], store)  # now let it finish
    complete = dump_lines(store, skip=(pg,))
    store.close()
    assert complete != before
    assert after_kill in (before, complete)


def test_agency_listed_only_for_the_hierarchy_keeps_its_catalog(tmp_path):
    store = disk_store(tmp_path / "store")
    load_submission([BASIC], store)
    isipo_graph = store.minter.agency_graph("ISIPO")
    catalog = [line for line in graph_lines(store, isipo_graph) if "agency/ISIPO>" not in line.split(" ")[0]]
    folder = tmp_path / "units"
    folder.mkdir()
    write_csv(
        folder / "agencies.csv",
        ["code", "name", "parent", "kind", "province"],
        [
            ["ISIPO", "سازمان صنایع کوچک و شهرک‌های صنعتی ایران (نام تازه)", "MIMT", "سازمان", ""],
            ["ISIPO-YZD", "شرکت شهرک‌های صنعتی استان یزد", "ISIPO", "واحد استانی", "یزد"],
        ],
    )
    write_csv(
        folder / "services.csv",
        ["agency", "title", "service_id"],
        [
            ["ISIPO-YZD", "صدور مجوز حق بهره برداری از زمین", "13091726000"],
        ],
    )
    sub = load_submission([folder], store)
    assert sub.agencies == ["ISIPO", "ISIPO-YZD"]
    after = graph_lines(store, isipo_graph)
    assert set(catalog) <= set(after)  # services, missions, licenses of ISIPO are still there
    assert any("(نام تازه)" in line for line in after)
    assert not any('ایران"@fa' in line and "prefLabel" in line for line in after)  # the old name is gone
    delivered = store._store.quads_for_pattern(None, NamedNode(KH + "deliveredBy"), None, None)
    assert "https://w3id.org/khadamat/id/agency/ISIPO-YZD" in {q.object.value for q in delivered}
    store.close()


def test_store_written_before_generations_is_migrated(tmp_path):
    import pyoxigraph as ox

    legacy = ox.Store(str(tmp_path / "store"))
    legacy.update(
        "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> 1 } }"
    )
    legacy.flush()
    del legacy
    store = disk_store(tmp_path / "store")
    assert len(list(store.quads(NamedNode("http://example.org/g")))) == 1
    assert (tmp_path / "store" / "active").is_symlink()
    assert not (tmp_path / "store" / "CURRENT").exists()
    store.close()
