"""Concurrent loads of one store serialize on its lock file: the winner reports success, the
other waits its turn or says in one line that the store is busy; never a traceback, never a mix."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from khadamat.config import Settings
from khadamat.store import BULK_THRESHOLD, LOCK_FILE, open_store
from tests.security.store_support import BASE, ROOT, agency_turtle, fingerprint, khadamat

ITEMS = BULK_THRESHOLD + 1000  # large enough for the generation switch, where the race was


def version(tmp_path: Path, name: str) -> Path:
    """One agency's submission, all titles tagged with `name`."""
    node = f"<{BASE}agency/conc>"
    body = "".join(f'{node[:-1]}/item/{i}> dct:title "{name} {i}"@fa .\n' for i in range(ITEMS))
    path = tmp_path / f"{name}.ttl"
    path.write_text(agency_turtle("conc", body), encoding="utf-8")
    return path


def titles(store: Path) -> set[str]:
    """The version tags of the titles in the agency's graph (one tag when one version is whole)."""
    opened = open_store(Settings(store_dir=store), read_only=True)
    try:
        graph = opened.minter.agency_graph("conc")
        found = [q.object.value for q in opened.quads(graph) if q.predicate.value.endswith("/title")]
    finally:
        opened.close()
    assert len(found) == ITEMS
    return {title.split(" ")[0] for title in found}


def test_a_load_that_cannot_get_the_lock_says_so_in_one_line(store_dir, tmp_path):
    before = fingerprint(store_dir)
    fd = os.open(store_dir / LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a load in progress
        done = khadamat(
            "load", str(version(tmp_path, "v1")), "--store", str(store_dir), "-q", "--wait", "0.5"
        )
    finally:
        os.close(fd)
    assert done.returncode == 75
    assert done.stderr == (
        f"error: another load is writing this store ({store_dir}); try again when it has finished "
        "(waited 0.5 s)\n"
    )
    assert done.stdout == ""
    assert fingerprint(store_dir) == before


def test_two_concurrent_loads_serialize(store_dir, tmp_path):
    paths = [version(tmp_path, "v1"), version(tmp_path, "v2")]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "khadamat",
                "load",
                str(p),
                "--store",
                str(store_dir),
                "-q",
                "--wait",
                "120",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for p in paths
    ]
    results = [(child.wait(timeout=300), *child.communicate()) for child in children]
    for code, out, err in results:
        assert "Traceback" not in err and "AttributeError" not in err
        if code == 0:
            assert out.startswith("loaded: 1 graphs replaced (1 agencies, 0 laws)")
        else:
            assert (
                code == 75
                and err.startswith("error: another load is writing this store")
                and err.count("\n") == 1
            )
    assert 0 in [code for code, _, _ in results]
    assert titles(store_dir) in ({"v1"}, {"v2"})  # one version whole, never a mix
    generations = [p.name for p in store_dir.iterdir() if p.name.startswith("gen-")]
    assert generations == [os.readlink(store_dir / "active")]  # no folder left behind
