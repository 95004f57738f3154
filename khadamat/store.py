"""The store behind every command: one small interface, pyoxigraph on disk by default.

Commands and the server only use `Store`; a remote SPARQL 1.1 endpoint can stand behind the same
interface later. Writes go through `replace_graphs`, a single transaction, so that a failing or
killed load never leaves a half-written catalog behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, Variable

from khadamat.config import Settings
from khadamat.iris import Minter
from khadamat.namespaces import KH, sparql_prologue
from khadamat.resources import data_path, read_rebased

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


def _nt(term: Term) -> str:
    return str(term)


class OxigraphStore:
    """pyoxigraph on disk (or in memory when `path` is None, for tests and validation sandboxes)."""

    def __init__(self, path: Path | None, minter: Minter, read_only: bool = False) -> None:
        self.minter = minter
        self.path = path
        self._read_only = read_only
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc

    # Reading ---------------------------------------------------------------------------
    def raw_query(
        self,
        query: str,
        bindings: Bindings | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run any query; without a dataset description the default graph is the union of all graphs."""
        kwargs: dict[str, object] = {"substitutions": _substitutions(bindings)}
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
        return [
            {name: row[name] for name in names if row[name] is not None} for row in result
        ]

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
        if fmt.supports_datasets:
            return ox.serialize(quads, format=fmt, prefixes=_prefixes_for_dump()) or b""
        triples = [q.triple for q in quads]
        return ox.serialize(triples, format=fmt, prefixes=_prefixes_for_dump()) or b""

    # Writing ---------------------------------------------------------------------------
    def replace_graphs(
        self, graphs: Mapping[NamedNode, Iterable[Triple]], extra: Iterable[Quad] = ()
    ) -> None:
        """Drop each graph and write its new triples, plus `extra` quads, in one transaction.

        SPARQL Update runs atomically in pyoxigraph (RocksDB transaction): either every graph is
        replaced and the provenance written, or, on any error or kill, nothing changes.
        """
        parts: list[str] = [f"DROP SILENT GRAPH {_nt(g)} ;\n" for g in graphs]
        body: list[str] = []
        for graph, triples in graphs.items():
            lines = [f"{_nt(t.subject)} {_nt(t.predicate)} {_nt(t.object)} ." for t in triples]
            if lines:
                body.append(f"GRAPH {_nt(graph)} {{\n" + "\n".join(lines) + "\n}")
        for quad in extra:
            triple = f"{_nt(quad.subject)} {_nt(quad.predicate)} {_nt(quad.object)} ."
            body.append(f"GRAPH {_nt(quad.graph_name)} {{ {triple} }}")
        update = "".join(parts) + ("INSERT DATA {\n" + "\n".join(body) + "\n}" if body else "")
        if update:
            self._store.update(update)

    def close(self) -> None:
        """Flush and release the store (RocksDB holds a lock on the directory until then)."""
        if self.path is not None and not self._read_only:
            self._store.flush()
        del self._store

    # Reference graphs ------------------------------------------------------------------
    def ensure_reference_graphs(self) -> None:
        """Load the ontology and the legal corpus when missing or when their files changed."""
        for graph, names in (
            (self.minter.ontology_graph, ONTOLOGY_FILES),
            (self.minter.corpus_graph, CORPUS_FILES),
        ):
            texts = [read_rebased(p, self.minter.base) for p in _existing("ontology", names)]
            digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
            if self._stored_hash(graph) == digest:
                continue
            triples = [
                q.triple
                for text in texts
                for q in ox.parse(text.encode("utf-8"), format=RdfFormat.TURTLE)
            ]
            # The hash lives inside the graph it describes, so it is replaced in the same transaction.
            triples.append(Triple(graph, _CONTENT_HASH, Literal(digest)))
            self.replace_graphs({graph: triples})

    def _stored_hash(self, graph: NamedNode) -> str | None:
        for quad in self._store.quads_for_pattern(graph, _CONTENT_HASH, None, graph):
            return quad.object.value
        return None


def _existing(package: str, names: Sequence[str]) -> list[Path]:
    folder = data_path(package)
    return [folder / n for n in names if (folder / n).exists()]


def _prefixes_for_dump() -> dict[str, str]:
    from khadamat.namespaces import PREFIXES

    return dict(PREFIXES)


def open_store(settings: Settings, read_only: bool = False, in_memory: bool = False) -> OxigraphStore:
    """The one way to get a store: opened on disk (or in memory) with its reference graphs loaded."""
    minter = Minter(settings.base)
    store = OxigraphStore(None if in_memory else settings.store_dir, minter, read_only=read_only)
    if not read_only:
        store.ensure_reference_graphs()
    return store


__all__ = ["Bindings", "OxigraphStore", "Store", "StoreError", "Term", "open_store", "sparql_prologue"]
