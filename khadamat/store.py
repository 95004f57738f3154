"""The store behind every command: one small interface, pyoxigraph on disk by default.

Commands and the server only use `Store`; a remote SPARQL 1.1 endpoint can stand behind the same
interface later. Writes go through `replace_graphs`, a single transaction, so that a failing or
killed load never leaves a half-written catalog behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, Variable

from khadamat.config import Settings
from khadamat.iris import Minter
from khadamat.namespaces import KH, PREFIXES, sparql_prologue
from khadamat.resources import data_path, read_rebased
from khadamat.standard_types import RULE_VERSION, with_standard_types

Term = NamedNode | Literal | ox.BlankNode | Triple
Bindings = Mapping[str, Term]

# The files that make the reference graphs, in load order.
ONTOLOGY_FILES = ("khadamat.ttl", "schemes.ttl", "thesaurus.ttl")
CORPUS_FILES = ("legal-corpus.ttl",)
_CONTENT_HASH = NamedNode(KH + "contentHash")


class StoreError(RuntimeError):
    """The store cannot be opened or written as asked."""


class Store(Protocol):
    """What commands and the server need of a store (docs/architecture.md, 'Store interface')."""

    minter: Minter

    def select(self, query: str, bindings: Bindings | None = None) -> list[dict[str, Term]]: ...
    def ask(self, query: str, bindings: Bindings | None = None) -> bool: ...
    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]: ...
    def raw_query(
        self,
        query: str,
        bindings: Bindings | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        base_iri: str | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples: ...
    def replace_graphs(
        self, graphs: Mapping[NamedNode, Iterable[Triple]], extra: Iterable[Quad] = ()
    ) -> None: ...
    def named_graphs(self) -> list[NamedNode]: ...
    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]: ...
    def dump(self, fmt: RdfFormat, graphs: Sequence[NamedNode] | None = None) -> bytes: ...
    def close(self) -> None: ...


def _substitutions(bindings: Bindings | None) -> dict[Variable, Term] | None:
    return {Variable(name): value for name, value in bindings.items()} if bindings else None


class OxigraphStore:
    """pyoxigraph on disk (or in memory when `path` is None, for tests and validation sandboxes)."""

    def __init__(self, path: Path | None, minter: Minter, read_only: bool = False) -> None:
        self.minter = minter
        self.path = path
        self._read_only = read_only
        self.reference_graphs_changed = False  # set when opening replaced the ontology or corpus
        # On disk the RocksDB database lives in a generation folder that `path/active` points at
        # (see _replace_by_generation); a folder holding RocksDB directly is opened as it is.
        self._data_dir = None if path is None else _data_dir(path, create=not read_only)
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(self._data_dir))
            else:
                self._store = ox.Store(str(self._data_dir))
                _remove_orphans(path, self._data_dir)
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc

    # Reading ---------------------------------------------------------------------------
    def raw_query(
        self,
        query: str,
        bindings: Bindings | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        base_iri: str | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run any query; without a dataset description the default graph is the union of all graphs.

        `base_iri` resolves relative IRIs of the query (the SPARQL endpoint passes its own URL).
        """
        kwargs: dict[str, object] = {"substitutions": _substitutions(bindings), "base_iri": base_iri}
        if default_graph:
            kwargs["default_graph"] = list(default_graph)
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = list(named_graphs)
        return self._store.query(query, **kwargs)

    def select(self, query: str, bindings: Bindings | None = None) -> list[dict[str, Term]]:
        result = self.raw_query(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("select() needs a SELECT query")
        names = [v.value for v in result.variables]
        return [{name: row[name] for name in names if row[name] is not None} for row in result]

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        result = self.raw_query(query, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise TypeError("ask() needs an ASK query")
        return bool(result)

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        result = self.raw_query(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise TypeError("construct() needs a CONSTRUCT or DESCRIBE query")
        return list(result)

    def named_graphs(self) -> list[NamedNode]:
        return sorted((g for g in self._store.named_graphs() if isinstance(g, NamedNode)), key=str)

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        if graph is None:
            for named in self.named_graphs():
                yield from self._store.quads_for_pattern(None, None, None, named)
        else:
            yield from self._store.quads_for_pattern(None, None, None, graph)

    def dump(self, fmt: RdfFormat, graphs: Sequence[NamedNode] | None = None) -> bytes:
        """Serialize the chosen graphs (all named graphs by default); triple formats merge them."""
        chosen = list(graphs) if graphs is not None else self.named_graphs()
        quads = [q for g in chosen for q in self.quads(g)]
        data = quads if fmt.supports_datasets else [q.triple for q in quads]
        return ox.serialize(data, format=fmt, prefixes=dict(PREFIXES)) or b""

    # Writing ---------------------------------------------------------------------------
    def replace_graphs(
        self, graphs: Mapping[NamedNode, Iterable[Triple]], extra: Iterable[Quad] = ()
    ) -> None:
        """Drop each graph and write its new triples, plus `extra` quads, in one transaction.

        Small writes are one SPARQL Update, which pyoxigraph runs as one RocksDB transaction.
        Large ones (a national catalog: millions of triples, where one update string or one
        `extend` transaction needs several GB and minutes) are bulk-loaded into a private copy of
        the database that then replaces the live one by an atomic rename. Either way every graph
        is replaced and the provenance written, or, on any error or kill, nothing changes.
        """
        graphs = {g: list(t) for g, t in graphs.items()}
        extra = list(extra)
        size = sum(len(t) for t in graphs.values()) + len(extra)
        if (
            size >= BULK_THRESHOLD
            and self._data_dir is not None
            and self.path is not None
            and self._data_dir.parent == self.path
        ):
            self._replace_by_generation(graphs, extra)
        else:
            self._replace_by_update(graphs, extra)

    def _replace_by_update(self, graphs: Mapping[NamedNode, list[Triple]], extra: list[Quad]) -> None:
        # pyoxigraph terms and triples print as N-Triples, which is valid SPARQL Update syntax.
        parts: list[str] = [f"DROP SILENT GRAPH {g} ;\n" for g in graphs]
        body: list[str] = []
        for graph, triples in graphs.items():
            if triples:
                body.append(f"GRAPH {graph} {{\n" + "\n".join(f"{t} ." for t in triples) + "\n}")
        for quad in extra:
            body.append(f"GRAPH {quad.graph_name} {{ {quad.triple} . }}")
        update = "".join(parts) + ("INSERT DATA {\n" + "\n".join(body) + "\n}" if body else "")
        if update:
            self._store.update(update)

    def _replace_by_generation(self, graphs: Mapping[NamedNode, list[Triple]], extra: list[Quad]) -> None:
        """Write the new database beside the live one, then switch to it with one rename.

        The new database is either a copy of the live one (hard links) with the replaced graphs
        removed, or, when those graphs are a large part of the store (removing quads costs about
        ten times more than bulk-loading them), a fresh one bulk-loaded with every kept graph.
        It is private until `active` points at it, so it needs no transaction. A kill before the
        switch leaves an orphan folder (removed at the next open), a kill after it leaves the old
        one (removed likewise): never a half-written store.
        """
        assert self.path is not None and self._data_dir is not None
        new_dir = self.path / f"{_GENERATION}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        removed = sum(1 for g in graphs for _ in self._store.quads_for_pattern(None, None, None, g))
        rebuild = removed * _REMOVE_COST > len(self._store) - removed
        self._store.flush()
        try:
            if rebuild:
                copy = ox.Store(str(new_dir))
                kept = [g for g in self._store.named_graphs() if g not in graphs]
                for graph in kept:
                    copy.add_graph(graph)
                _bulk(
                    copy,
                    (
                        q
                        for g in [*kept, ox.DefaultGraph()]
                        for q in self._store.quads_for_pattern(None, None, None, g)
                    ),
                )
            else:
                self._store.backup(str(new_dir))
                copy = ox.Store(str(new_dir))
                for graph in graphs:
                    if copy.contains_named_graph(graph):
                        copy.remove_graph(graph)
            _bulk(
                copy,
                itertools.chain(
                    (
                        Quad(t.subject, t.predicate, t.object, g)
                        for g, triples in graphs.items()
                        for t in triples
                    ),
                    extra,
                ),
            )
            for graph in graphs:  # an empty new graph stays a named graph, as after DROP + INSERT
                copy.add_graph(graph)
            copy.flush()
        except BaseException:
            shutil.rmtree(new_dir, ignore_errors=True)
            raise
        # The new database stays open (and RocksDB-locked by this process) across the switch: were
        # it closed and reopened, another process opening the store in between would take it, and
        # this load would fail after its data was committed.
        old_dir = self._data_dir
        _point_active(self.path, new_dir)
        self._store, old = copy, self._store
        self._data_dir = new_dir
        del old  # closes the old database, so that its folder can go
        shutil.rmtree(old_dir, ignore_errors=True)

    def checkpoint(self, directory: Path) -> OxigraphStore:
        """A writable copy of this on-disk store at `directory` (a RocksDB checkpoint: hard links,
        milliseconds). Validation writes a submission into such a copy, never into this store."""
        if self.path is None:
            raise StoreError("an in-memory store has no checkpoint")
        self._store.backup(str(directory))
        return OxigraphStore(directory, self.minter)

    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Insert quads as they are (validation sandboxes copy a store into memory with this)."""
        self._store.extend(quads)

    def close(self) -> None:
        """Flush and release the store (RocksDB holds a lock on the directory until then).
        Closing twice, or after a failed write, is harmless."""
        store = self.__dict__.pop("_store", None)
        if store is not None and self.path is not None and not self._read_only:
            store.flush()

    # Reference graphs ------------------------------------------------------------------
    def ensure_reference_graphs(self) -> None:
        """Load the ontology and the legal corpus when missing or when their files changed."""
        for graph, names in (
            (self.minter.ontology_graph, ONTOLOGY_FILES),
            (self.minter.corpus_graph, CORPUS_FILES),
        ):
            texts = [read_rebased(p, self.minter.base) for p in _existing("ontology", names)]
            typed = graph == self.minter.corpus_graph  # the corpus's nodes carry the standard types too
            rule = [RULE_VERSION] if typed else []
            digest = hashlib.sha256("\n".join(texts + rule).encode("utf-8")).hexdigest()
            if self._stored_hash(graph) == digest:
                continue
            triples = [
                q.triple for text in texts for q in ox.parse(text.encode("utf-8"), format=RdfFormat.TURTLE)
            ]
            if typed:
                triples = with_standard_types(triples)
            # The hash lives inside the graph it describes, so it is replaced in the same transaction.
            triples.append(Triple(graph, _CONTENT_HASH, Literal(digest)))
            self.replace_graphs({graph: triples})
            self.reference_graphs_changed = True

    def _stored_hash(self, graph: NamedNode) -> str | None:
        for quad in self._store.quads_for_pattern(graph, _CONTENT_HASH, None, graph):
            return quad.object.value
        return None


# Large writes go through a database copy (see OxigraphStore._replace_by_generation).
BULK_THRESHOLD = 20_000  # quads
_BULK_CHUNK = 250_000  # quads per bulk_extend call: bounds the bulk loader's memory
_REMOVE_COST = 10  # removing a quad costs about this many bulk-loaded quads (measured, pyoxigraph 0.5)
_ACTIVE = "active"
_GENERATION = "gen-"


def _data_dir(root: Path, create: bool) -> Path:
    """The RocksDB folder of a store directory: what `active` points at, or the root itself for a
    store written before generations (or by plain pyoxigraph)."""
    link = root / _ACTIVE
    if link.is_symlink() or link.exists():
        return root / os.readlink(link)
    if root.exists() and any(entry.name != LOCK_FILE for entry in root.iterdir()):
        return _migrate(root) if create and (root / "CURRENT").exists() else root
    if not create:
        raise StoreError(f"no store at {root}: run `khadamat load` first")
    root.mkdir(parents=True, exist_ok=True)
    first = root / f"{_GENERATION}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    first.mkdir()
    _point_active(root, first)
    return first


_ROCKSDB_FILE = re.compile(
    r"^(CURRENT|IDENTITY|LOCK|LOG(\.old\..*)?|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob))$"
)


def _migrate(root: Path) -> Path:
    """Move a store written before generations (RocksDB directly in `root`) into its first
    generation, so that large writes can switch atomically. Left as it is if it cannot be opened."""
    target = root / f"{_GENERATION}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        legacy = ox.Store(str(root))
        legacy.backup(str(target))
        del legacy
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        return root
    _point_active(root, target)
    for entry in root.iterdir():
        if entry.is_file() and _ROCKSDB_FILE.match(entry.name):
            entry.unlink()
    return target


def _bulk(store: ox.Store, quads: Iterable[Quad]) -> None:
    """bulk_extend in chunks, so that neither Python nor the bulk loader holds everything at once."""
    iterator = iter(quads)
    while chunk := list(itertools.islice(iterator, _BULK_CHUNK)):
        store.bulk_extend(chunk)


def _point_active(root: Path, target: Path) -> None:
    """Atomically make `root/active` point at `target` (rename of a fresh symlink), durably."""
    temporary = root / f".{_ACTIVE}-{uuid.uuid4().hex[:12]}"
    os.symlink(target.name, temporary)
    os.replace(temporary, root / _ACTIVE)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_orphans(root: Path, active: Path) -> None:
    """Generation folders left by a killed load (or an old generation not yet removed)."""
    if active.parent != root:
        return
    for entry in root.iterdir():
        if entry.name.startswith(f".{_ACTIVE}-"):
            entry.unlink(missing_ok=True)
        elif entry.name.startswith(_GENERATION) and entry != active and not _writer_alive(entry.name):
            shutil.rmtree(entry, ignore_errors=True)


def _writer_alive(name: str) -> bool:
    """True when the process that made this generation folder is still running (a load in progress)."""
    try:
        pid = int(name[len(_GENERATION) :].split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


# One writer at a time ------------------------------------------------------------------------
LOCK_FILE = "load.lock"  # in the store folder; flock'ed by a load for its whole length
LOAD_WAIT_ENV = "KHADAMAT_LOAD_WAIT"
DEFAULT_LOAD_WAIT = 30.0  # seconds a load waits for another one to finish
_LOCK_POLL = 0.1


class StoreBusy(StoreError):
    """Another load holds the store's write lock and did not release it in time."""


def load_wait() -> float:
    """Seconds a load waits for the write lock: `KHADAMAT_LOAD_WAIT`, else the default."""
    raw = os.environ.get(LOAD_WAIT_ENV)
    return float(raw) if raw else DEFAULT_LOAD_WAIT


@contextmanager
def write_lock(root: Path, wait: float) -> Iterator[None]:
    """Hold the store's write lock (flock on `root/load.lock`) for the body of the block.

    A load reads the store (what it replaces, what it keeps, the provenance) and then writes it;
    two of them interleaved would each build on a store the other is changing, and the loser of
    the generation switch used to fail after its data was committed. With the lock, loads run one
    after the other: a load waits up to `wait` seconds, then raises StoreBusy. The kernel releases
    the lock when its holder exits, however it exits, so a killed load never blocks the next one.
    """
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"another load is writing this store ({root}); try again when it has "
                        f"finished (waited {wait:g} s)"
                    ) from None
                time.sleep(_LOCK_POLL)
        yield
    finally:
        os.close(fd)  # releases the lock


def _existing(package: str, names: Sequence[str]) -> list[Path]:
    folder = data_path(package)
    return [folder / n for n in names if (folder / n).exists()]


def open_store(settings: Settings, read_only: bool = False, in_memory: bool = False) -> OxigraphStore:
    """The one way to get a store: opened on disk (or in memory) with its reference graphs loaded."""
    minter = Minter(settings.base)
    store = OxigraphStore(None if in_memory else settings.store_dir, minter, read_only=read_only)
    if not read_only:
        store.ensure_reference_graphs()
    return store


__all__ = [
    "Bindings",
    "OxigraphStore",
    "Store",
    "StoreBusy",
    "StoreError",
    "Term",
    "load_wait",
    "open_store",
    "sparql_prologue",
    "write_lock",
]
