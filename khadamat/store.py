"""The store behind every command: one small interface, pyoxigraph on disk by default.

Commands and the server only use `Store`, whose answers are Khadamat's own (khadamat/results.py);
a SPARQL 1.1 server stands behind the same interface (`SparqlStore`, khadamat/remote_store.py) when
the settings name an endpoint. Writes go through `replace_graphs`, which on disk writes a new
generation of the database and switches to it atomically (khadamat/generations.py): a failing or
killed load never leaves a half-written catalog behind, and readers (a running server) never see one.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, Variable

from khadamat import generations
from khadamat.config import Settings, record_base
from khadamat.iris import Minter
from khadamat.namespaces import KH, PREFIXES, sparql_prologue
from khadamat.resources import data_path, read_rebased
from khadamat.results import Boolean, Graph, QueryResult, Solutions, from_oxigraph
from khadamat.standard_types import RULE_VERSION, with_standard_types

if TYPE_CHECKING:
    from khadamat.remote_store import SparqlStore

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
    ) -> QueryResult: ...
    def replace_graphs(
        self,
        graphs: Mapping[NamedNode, Iterable[Triple]],
        extra: Iterable[Quad] = (),
        *,
        before_switch: Callable[[], None] | None = None,
        version: str | None = None,
    ) -> None: ...
    def named_graphs(self) -> list[NamedNode]: ...
    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]: ...
    def dump(self, fmt: RdfFormat, graphs: Sequence[NamedNode] | None = None) -> bytes: ...
    def close(self) -> None: ...


def select_rows(result: QueryResult) -> list[dict[str, Term]]:
    """The rows of a SELECT answer as dicts of the bound variables (what `Store.select` returns)."""
    if not isinstance(result, Solutions):
        raise TypeError("select() needs a SELECT query")
    return [dict(row.items()) for row in result]


def ask_value(result: QueryResult) -> bool:
    if not isinstance(result, Boolean):
        raise TypeError("ask() needs an ASK query")
    return bool(result)


def construct_triples(result: QueryResult) -> list[Triple]:
    if not isinstance(result, Graph):
        raise TypeError("construct() needs a CONSTRUCT or DESCRIBE query")
    return list(result)


def _substitutions(bindings: Bindings | None) -> dict[Variable, Term] | None:
    return {Variable(name): value for name, value in bindings.items()} if bindings else None


class OxigraphStore:
    """pyoxigraph on disk (or in memory when `path` is None, for tests and validation sandboxes).

    On disk the database is the generation that `path/active` names (khadamat/generations.py).
    Opened read-only, the store holds a shared reader lock on that generation until closed.
    Opened for writing, it reads that generation read-only too and writes by making a new
    generation (`replace_graphs`): the generation readers have open is never written, so a server
    may run beside any write. `private=True` opens a folder that only this process uses (a
    validation checkpoint) as a plain read-write database, written in place.
    """

    def __init__(
        self, path: Path | None, minter: Minter, read_only: bool = False, private: bool = False
    ) -> None:
        self.minter = minter
        self.path = path
        self._read_only = read_only
        self._reader: generations.ReaderLock | None = None
        self.reference_graphs_changed = False  # set when opening replaced the ontology or corpus
        # On disk the RocksDB database lives in a generation folder that `path/active` points at;
        # a folder holding RocksDB directly (a store written before generations that cannot be
        # migrated, or a private checkpoint) is opened as it is and written in place.
        self._data_dir = None if path is None or private else _data_dir(path, create=not read_only)
        self._live = self._data_dir is not None and self._data_dir.parent == path
        self._private = private
        try:
            if path is None:
                self._store = ox.Store()
            elif private:
                self._data_dir = path
                self._store = ox.Store(str(path))
            elif self._live:
                if not read_only:
                    generations.sweep(path)
                self._open_active()
            elif read_only:
                self._store = ox.Store.read_only(str(self._data_dir))
            else:
                self._store = ox.Store(str(self._data_dir))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc

    def _open_active(self) -> None:
        """Open the active generation read-only under a shared reader lock."""
        assert self.path is not None
        reader = generations.lock_active(self.path)
        if reader is None:
            raise StoreError(f"no store at {self.path}: run `khadamat load` first")
        try:
            self._store = ox.Store.read_only(str(self.path / reader.name))
        except BaseException:
            reader.release()
            raise
        self._data_dir, self._reader = self.path / reader.name, reader

    @property
    def generation(self) -> str | None:
        """The name of the generation this store reads (None in memory or without generations):
        what answer caches and the browse index are keyed on."""
        return self._reader.name if self._reader is not None else None

    # Reading ---------------------------------------------------------------------------
    def raw_query(
        self,
        query: str,
        bindings: Bindings | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run any query; without a dataset description the default graph is the union of all graphs.

        `base_iri` resolves relative IRIs of the query (the SPARQL endpoint passes its own URL).
        The answer is Khadamat's own (khadamat/results.py), read lazily from pyoxigraph's.
        """
        kwargs: dict[str, object] = {"substitutions": _substitutions(bindings), "base_iri": base_iri}
        if default_graph:
            kwargs["default_graph"] = list(default_graph)
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = list(named_graphs)
        return from_oxigraph(self._store.query(query, **kwargs))

    def select(self, query: str, bindings: Bindings | None = None) -> list[dict[str, Term]]:
        return select_rows(self.raw_query(query, bindings))

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return ask_value(self.raw_query(query, bindings))

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        return construct_triples(self.raw_query(query, bindings))

    def named_graphs(self) -> list[NamedNode]:
        return sorted((g for g in self._store.named_graphs() if isinstance(g, NamedNode)), key=str)

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        if graph is None:
            for named in self.named_graphs():
                yield from self._store.quads_for_pattern(None, None, None, named)
        else:
            yield from self._store.quads_for_pattern(None, None, None, graph)

    def dump(self, fmt: RdfFormat, graphs: Sequence[NamedNode] | None = None) -> bytes:
        return dump_graphs(self, fmt, graphs)

    # Writing ---------------------------------------------------------------------------
    def replace_graphs(
        self,
        graphs: Mapping[NamedNode, Iterable[Triple]],
        extra: Iterable[Quad] = (),
        *,
        before_switch: Callable[[], None] | None = None,
        version: str | None = None,
    ) -> None:
        """Drop each graph and write its new triples, plus `extra` quads, all or nothing.

        On disk this makes a new generation and switches `active` to it (`_write_generation`):
        readers keep reading the old one until they look again, and never see a half-written
        store; a kill at any moment leaves the previous generation active. `before_switch` runs
        when the new generation is complete, just before it becomes visible (the history of
        versions is written there, so that a version never exists without its content); `version`
        is recorded in the new generation's changes.json. In memory (and for private checkpoints)
        the write is one SPARQL Update, one RocksDB transaction.
        """
        graphs = {g: list(t) for g, t in graphs.items()}
        extra = list(extra)
        if self._live:
            self._write_generation(graphs, extra, before_switch, version)
            return
        _apply(self._store, graphs, extra, atomic=self.path is not None and not self._private)
        if before_switch is not None:
            before_switch()

    def _write_generation(
        self,
        graphs: Mapping[NamedNode, list[Triple]],
        extra: list[Quad],
        before_switch: Callable[[], None] | None,
        version: str | None,
    ) -> None:
        """Write the new database beside the live one, then switch to it with one rename.

        The new database is a checkpoint of the live one (hard links) written in place: one SPARQL
        Update for a small write; for a large one the replaced graphs are removed and the new ones
        bulk-loaded, or, when those graphs are a large part of the store (removing quads costs
        about ten times more than bulk-loading them), a fresh database is bulk-loaded with every
        kept graph. It is private until `active` points at it, so it needs no transaction, and it
        is closed before the switch: a visible generation is never open for writing. A kill before
        the switch leaves an orphan folder (removed at the next write), a kill after it the old
        one (removed likewise): never a half-written store. The old generation is removed at once
        unless a reader still has it open.
        """
        assert self.path is not None and self._data_dir is not None
        new_dir = generations.new_generation_dir(self.path)
        size = sum(len(t) for t in graphs.values()) + len(extra)
        try:
            copy = self._fill_copy(new_dir, graphs, extra, size)
            if size >= BULK_THRESHOLD:
                # A bulk load leaves many small, overlapping files: compacted once here, every
                # later read is 15–35% faster (measured at 50k services: dup-near-titles 3.5 →
                # 2.4 s, report-figures 2.7 → 2.3 s) for ~6 s more on this write.
                copy.optimize()
            copy.flush()
            del copy  # closed: the generation is complete on disk
            generations.prepare_generation(new_dir)
            generations.write_changes(new_dir, self._data_dir, [g.value for g in graphs], version)
            if before_switch is not None:
                before_switch()
        except BaseException:
            shutil.rmtree(new_dir, ignore_errors=True)
            raise
        old_dir, old_reader = self._data_dir, self._reader
        _point_active(self.path, new_dir)
        self.__dict__.pop("_store", None)  # closes the old generation's database
        if old_reader is not None:
            old_reader.release()
        self._open_active()
        generations.remove_if_unused(old_dir)
        generations.sweep(self.path)  # older generations whose last reader has let go since

    def _fill_copy(
        self, new_dir: Path, graphs: Mapping[NamedNode, list[Triple]], extra: list[Quad], size: int
    ) -> ox.Store:
        """The new generation's database, written (see `_write_generation`)."""
        if size >= BULK_THRESHOLD:
            removed = sum(1 for g in graphs for _ in self._store.quads_for_pattern(None, None, None, g))
            if removed * _REMOVE_COST > len(self._store) - removed:
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
                _apply(copy, graphs, extra)
                return copy
        self._store.backup(str(new_dir))
        copy = ox.Store(str(new_dir))
        _apply(copy, graphs, extra)
        return copy

    def checkpoint(self, directory: Path) -> OxigraphStore:
        """A writable copy of this on-disk store at `directory` (a RocksDB checkpoint: hard links,
        milliseconds). Validation writes a submission into such a copy, never into this store."""
        if self.path is None:
            raise StoreError("an in-memory store has no checkpoint")
        self._store.backup(str(directory))
        return OxigraphStore(directory, self.minter, private=True)

    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Insert quads as they are (validation sandboxes copy a store into memory with this)."""
        self._store.extend(quads)

    def close(self) -> None:
        """Flush and release the store (RocksDB holds a lock on the directory until then).
        Closing twice, or after a failed write, is harmless."""
        store = self.__dict__.pop("_store", None)
        if (
            store is not None
            and self.path is not None
            and not self._read_only
            and not self.__dict__.get("_live")
        ):
            store.flush()
        del store  # the database is closed before its reader lock is dropped
        reader = self.__dict__.get("_reader")
        if reader is not None:
            reader.release()

    def __del__(self) -> None:
        # A server worker that switched to a newer generation drops the old store when the last
        # request using it ends: its reader lock goes with it, so the writer can remove it.
        self.close()

    # Reference graphs ------------------------------------------------------------------
    def ensure_reference_graphs(self) -> None:
        """Load the ontology and the legal corpus when missing or when their files changed."""
        self.reference_graphs_changed = ensure_reference_graphs(self, self._stored_hash)

    def _stored_hash(self, graph: NamedNode) -> str | None:
        for quad in self._store.quads_for_pattern(graph, _CONTENT_HASH, None, graph):
            return quad.object.value
        return None


def ensure_reference_graphs(store: Store, stored_hash: Callable[[NamedNode], str | None]) -> bool:
    """Load the ontology and the legal corpus into `store` when missing or when their files
    changed (`stored_hash` reads the hash a graph holds); True when a graph was replaced."""
    changed = False
    for graph, names in (
        (store.minter.ontology_graph, ONTOLOGY_FILES),
        (store.minter.corpus_graph, CORPUS_FILES),
    ):
        texts = [read_rebased(p, store.minter.base) for p in _existing("ontology", names)]
        typed = graph == store.minter.corpus_graph  # the corpus's nodes carry the standard types too
        rule = [RULE_VERSION] if typed else []
        digest = hashlib.sha256("\n".join(texts + rule).encode("utf-8")).hexdigest()
        if stored_hash(graph) == digest:
            continue
        triples = [
            q.triple for text in texts for q in ox.parse(text.encode("utf-8"), format=RdfFormat.TURTLE)
        ]
        if typed:
            triples = with_standard_types(triples)
        # The hash lives inside the graph it describes, so it is replaced in the same transaction.
        triples.append(Triple(graph, _CONTENT_HASH, Literal(digest)))
        store.replace_graphs({graph: triples})
        changed = True
    return changed


def dump_graphs(store: Store, fmt: RdfFormat, graphs: Sequence[NamedNode] | None = None) -> bytes:
    """Serialize the chosen graphs (all named graphs by default); triple formats merge them."""
    chosen = list(graphs) if graphs is not None else store.named_graphs()
    quads = [q for g in chosen for q in store.quads(g)]
    data = quads if fmt.supports_datasets else [q.triple for q in quads]
    return ox.serialize(data, format=fmt, prefixes=dict(PREFIXES)) or b""


# Large writes bulk-load (see OxigraphStore._write_generation and _apply).
BULK_THRESHOLD = 20_000  # quads
_BULK_CHUNK = 250_000  # quads per bulk_extend call: bounds the bulk loader's memory
_REMOVE_COST = 10  # removing a quad costs about this many bulk-loaded quads (measured, pyoxigraph 0.5)


def _apply(
    db: ox.Store, graphs: Mapping[NamedNode, list[Triple]], extra: list[Quad], atomic: bool = False
) -> None:
    """Replace `graphs` and add `extra` in `db`.

    `atomic` (a database others may read): one SPARQL Update, one transaction. Otherwise (a new
    generation or a private checkpoint, which nobody reads until it is complete): when small, only
    the difference is written — the quads of a replaced graph that the new content no longer has
    are removed, the new ones added — since an agency resubmitting its catalog changes a few
    hundred of its thousands of quads, and the provenance graph only grows by one activity
    (measured at 50k: ~0.2 s instead of ~2.5 s for drop-and-insert); when large, the graphs are
    removed and the new content bulk-loaded (one update string of a national catalog needs
    several GB)."""
    size = sum(len(t) for t in graphs.values()) + len(extra)
    if size < BULK_THRESHOLD and atomic:
        if graphs or extra:
            db.update(update_text(graphs, extra))
        return
    if size < BULK_THRESHOLD:
        content = {
            g: {Quad(t.subject, t.predicate, t.object, g) for t in triples} for g, triples in graphs.items()
        }
        added: list[Quad] = []
        for quad in extra:
            target = content.get(quad.graph_name)  # type: ignore[arg-type]
            if target is None:
                added.append(quad)
            else:
                target.add(quad)
        for graph, new in content.items():
            for quad in list(db.quads_for_pattern(None, None, None, graph)):
                if quad in new:
                    new.discard(quad)  # already there
                else:
                    db.remove(quad)
            added.extend(new)
        db.extend(added)
        for graph in graphs:  # an empty new graph stays a named graph, as after DROP + INSERT
            db.add_graph(graph)
        return
    for graph in graphs:
        if db.contains_named_graph(graph):
            db.remove_graph(graph)
    _bulk(
        db,
        itertools.chain(
            (Quad(t.subject, t.predicate, t.object, g) for g, triples in graphs.items() for t in triples),
            extra,
        ),
    )
    for graph in graphs:  # an empty new graph stays a named graph, as after DROP + INSERT
        db.add_graph(graph)


def update_text(graphs: Mapping[NamedNode, list[Triple]], extra: list[Quad]) -> str:
    """One SPARQL Update that drops each graph and inserts its new triples and `extra`.

    pyoxigraph terms and triples print as N-Triples, which is valid SPARQL Update syntax."""
    parts: list[str] = [f"DROP SILENT GRAPH {g} ;\n" for g in graphs]
    body: list[str] = []
    for graph, triples in graphs.items():
        if triples:
            body.append(f"GRAPH {graph} {{\n" + "\n".join(f"{t} ." for t in triples) + "\n}")
    for quad in extra:
        body.append(f"GRAPH {quad.graph_name} {{ {quad.triple} . }}")
    return "".join(parts) + ("INSERT DATA {\n" + "\n".join(body) + "\n}" if body else "")


def _data_dir(root: Path, create: bool) -> Path:
    """The RocksDB folder of a store directory: what `active` points at, or the root itself for a
    store written before generations (or by plain pyoxigraph)."""
    link = root / generations.ACTIVE
    if link.is_symlink() or link.exists():
        return root / os.readlink(link)
    if root.exists() and any(entry.name != LOCK_FILE for entry in root.iterdir()):
        return _migrate(root) if create and (root / "CURRENT").exists() else root
    if not create:
        raise StoreError(f"no store at {root}: run `khadamat load` first")
    root.mkdir(parents=True, exist_ok=True)
    first = generations.new_generation_dir(root)
    ox.Store(str(first)).flush()  # an empty database, closed again: only readers open `active`
    generations.prepare_generation(first)
    _point_active(root, first)
    return first


_ROCKSDB_FILE = re.compile(
    r"^(CURRENT|IDENTITY|LOCK|LOG(\.old\..*)?|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob))$"
)


def _migrate(root: Path) -> Path:
    """Move a store written before generations (RocksDB directly in `root`) into its first
    generation, so that large writes can switch atomically. Left as it is if it cannot be opened."""
    target = generations.new_generation_dir(root)
    try:
        legacy = ox.Store(str(root))
        legacy.backup(str(target))
        del legacy
        generations.prepare_generation(target)
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
    temporary = root / f".{generations.ACTIVE}-{uuid.uuid4().hex[:12]}"
    os.symlink(target.name, temporary)
    os.replace(temporary, root / generations.ACTIVE)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def open_store(
    settings: Settings, read_only: bool = False, in_memory: bool = False
) -> OxigraphStore | SparqlStore:
    """The one way to get a store: on disk, in memory, or on the SPARQL server that
    `settings.endpoint` names (khadamat/remote_store.py), with its reference graphs loaded.

    A remote store keeps its writer's own files in `settings.store_dir` (the base it writes under,
    the history of versions, the write lock; docs/deployment.md)."""
    minter = Minter(settings.base)
    if settings.endpoint is not None and not in_memory:
        from khadamat.remote_store import SparqlStore

        remote = SparqlStore(settings.endpoint, minter, path=settings.store_dir)
        if not read_only:
            settings.store_dir.mkdir(parents=True, exist_ok=True)
            record_base(settings.store_dir, settings.base)
            try:
                remote.ensure_reference_graphs()
            except BaseException:
                remote.close()
                raise
        return remote
    store = OxigraphStore(None if in_memory else settings.store_dir, minter, read_only=read_only)
    if not read_only:
        if not in_memory:
            record_base(settings.store_dir, settings.base)  # the base its IRIs are minted under
        store.ensure_reference_graphs()
    return store


__all__ = [
    "Bindings",
    "OxigraphStore",
    "Store",
    "StoreBusy",
    "StoreError",
    "Term",
    "dump_graphs",
    "ensure_reference_graphs",
    "load_wait",
    "open_store",
    "sparql_prologue",
    "update_text",
    "write_lock",
]
