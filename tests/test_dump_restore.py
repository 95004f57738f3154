"""`khadamat dump` / `khadamat restore` (issue 9): the whole store — every named graph, the
provenance graph and the history — round-trips into an empty store byte for byte; an export
loads back; a damaged dump, a dump of another base or a store that is not empty is refused
with one line, and nothing is written."""

from __future__ import annotations

import io
import json
import tarfile

import pyoxigraph as ox
import pytest
from history_support import BASE, three_versions

from khadamat import history
from khadamat.backup import MANIFEST, STORE_ENTRY
from khadamat.cli import main


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    return three_versions(tmp_path_factory.mktemp("three"))


def output(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_dump_restore_dump_is_byte_identical_with_history_and_provenance(three, tmp_path, capsys):
    source = three.settings.store_dir
    first, second, target = tmp_path / "first.tar.gz", tmp_path / "second.tar.gz", tmp_path / "restored"
    assert main(["dump", "--store", str(source), str(first)]) == 0
    assert main(["restore", "--store", str(target), str(first)]) == 0
    assert "restored dump:" in capsys.readouterr().err
    assert main(["dump", "--store", str(target), str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    # what is inside: every graph with quads, the provenance of the three versions, their files
    with tarfile.open(first) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile(MANIFEST).read())
        quads = tar.extractfile(STORE_ENTRY).read().decode("utf-8")
    assert names[:2] == [MANIFEST, STORE_ENTRY]
    assert names[2:] == [f"history/v00000{n}{suffix}" for n in (1, 2, 3) for suffix in (".nq.gz", ".json")]
    assert manifest["versions"] == ["v000001", "v000002", "v000003"]
    assert BASE + "graph/provenance" in manifest["graphs"] and BASE + "graph/ontology" in manifest["graphs"]
    assert f"<{BASE}load/v000003>" in quads
    for path in history.history_files(source):  # history files restored byte for byte
        assert (target / "history" / path.name).read_bytes() == path.read_bytes()
    same = ("history", "--format", "json")
    assert output(capsys, *same, "--store", str(target)) == output(capsys, *same, "--store", str(source))
    assert output(capsys, "stats", "--store", str(target)) == output(capsys, "stats", "--store", str(source))
    # the restored store is a store like any other: the history still rebuilds old versions
    diff = json.loads(
        output(
            capsys, "diff", "--store", str(target), "v000002", "v000003", "--no-findings", "--format", "json"
        )
    )
    assert {r["change"] for r in diff["changes"]} >= {"added", "removed", "retitled"}


def test_an_export_loads_back_and_exports_the_same(three, tmp_path, capsys):
    exported, again, target = tmp_path / "store.trig", tmp_path / "again.trig", tmp_path / "from-export"
    assert main(["export", "--store", str(three.settings.store_dir), "-o", str(exported)]) == 0
    assert main(["restore", "--store", str(target), str(exported)]) == 0
    assert "restored export:" in capsys.readouterr().err
    assert main(["export", "--store", str(target), "-o", str(again)]) == 0
    # the same graphs and quads (an export keeps the store's blank node labels, which a SPARQL
    # INSERT renews: compared with the dump's content-derived labels)
    assert history.nquads(ox.parse(path=str(again))) == history.nquads(ox.parse(path=str(exported)))
    stats = ("stats", "--format", "json")
    assert output(capsys, *stats, "--store", str(target)) == output(
        capsys, *stats, "--store", str(three.settings.store_dir)
    )
    nquads = tmp_path / "store.nq"
    assert main(["export", "--store", str(target), "--format", "nquads", "-o", str(nquads)]) == 0
    assert main(["restore", "--store", str(tmp_path / "from-nq"), str(nquads)]) == 0


def _rewrite(dump: bytes, name: str, change) -> bytes:
    """The dump with one entry's bytes changed (the manifest's checksums left as they were)."""
    raw_in, raw_out = io.BytesIO(dump), io.BytesIO()
    with tarfile.open(fileobj=raw_in, mode="r:gz") as src, tarfile.open(fileobj=raw_out, mode="w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == name:
                data = change(data)
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return raw_out.getvalue()


def test_restore_refuses_damaged_dumps_other_bases_and_stores_that_are_not_empty(three, tmp_path, capsys):
    dump = tmp_path / "backup.tar.gz"
    assert main(["dump", "--store", str(three.settings.store_dir), str(dump)]) == 0
    data = dump.read_bytes()
    cases = {
        "truncated.tar.gz": (data[: len(data) // 2], "not a readable Khadamat dump"),
        "tampered.tar.gz": (
            _rewrite(data, STORE_ENTRY, lambda b: b.replace(b"ISIPO data officer", b"Someone else data")),
            "entry store.nq does not match its checksum (damaged file)",
        ),
        "other-base.tar.gz": (
            _rewrite(data, MANIFEST, lambda b: b.replace(BASE.encode(), b"http://example.org/id/")),
            "its data use the base IRI http://example.org/id/, this store " + BASE,
        ),
        "notes.txt": (b"hello", "expected a dump (.tar.gz) from `khadamat dump`, or a .trig/.nq export"),
    }
    capsys.readouterr()
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        target = tmp_path / f"target-{name}"
        assert main(["restore", "--store", str(target), str(path)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert not target.exists()  # refused before the store was touched
    # a store with data is never overwritten: its files stay byte for byte
    source = three.settings.store_dir
    before = {p.name: p.read_bytes() for p in history.history_dir(source).iterdir()}
    export_before = output(capsys, "export", "--store", str(source), "--format", "nquads")
    assert main(["restore", "--store", str(source), str(dump)]) == 2
    assert (
        "is not empty (it holds data graphs or history); restore into a new store folder"
        in capsys.readouterr().err
    )
    assert {p.name: p.read_bytes() for p in history.history_dir(source).iterdir()} == before
    assert output(capsys, "export", "--store", str(source), "--format", "nquads") == export_before
