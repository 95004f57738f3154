"""A submission validated with its context, without writing to the store.

The sandbox holds every graph of the store with the submission's graphs in place of theirs:
exactly what the store would hold after `khadamat load`, so the findings are those the load
would get. For a store on disk it is a RocksDB checkpoint next to it (hard links: milliseconds,
whatever the catalog's size) into which the submission is written and which is deleted after;
for an in-memory store (tests) it is an in-memory copy.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import Quad

from khadamat.store import OxigraphStore, Store, StoreError

if TYPE_CHECKING:
    from khadamat.loader import Submission


def _checkpoint_dir(store: Store) -> Path | None:
    """A fresh folder beside the store (same file system, so a checkpoint is hard links)."""
    path = getattr(store, "path", None)
    if not isinstance(store, OxigraphStore) or path is None:
        return None
    try:
        return Path(tempfile.mkdtemp(prefix=f".{Path(path).name}-validate-", dir=Path(path).parent))
    except OSError:
        return None


def _memory_copy(store: Store, submission: Submission) -> OxigraphStore:
    sandbox = OxigraphStore(None, store.minter)
    skipped = set(submission.graphs) | {store.minter.provenance_graph}
    for graph in store.named_graphs():
        if graph not in skipped:
            sandbox.add_quads(store.quads(graph))
    for graph, triples in submission.graphs.items():
        sandbox.add_quads(Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return sandbox


@contextmanager
def overlay(store: Store, submission: Submission) -> Iterator[Store]:
    """The store as it would be with the submission loaded; the store itself is not written."""
    folder = _checkpoint_dir(store)
    if folder is None:
        yield _memory_copy(store, submission)
        return
    try:
        try:
            sandbox = store.checkpoint(folder / "db")  # type: ignore[attr-defined]
        except (OSError, StoreError):
            yield _memory_copy(store, submission)
            return
        sandbox.replace_graphs(submission.graphs)
        try:
            yield sandbox
        finally:
            sandbox.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
