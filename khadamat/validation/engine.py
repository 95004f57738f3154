"""Run the compiled shapes on a store and collect findings.

The validator reads shapes/*.ttl once, compiles every shape against the store (subclass closures
come from the ontology graph in the store), runs the SELECTs and turns each row into a Finding
exactly as SHACL defines a validation result (focus node, path, value, source shape, component,
severity, messages).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path as FilePath

from pyoxigraph import Literal, NamedNode

from khadamat.namespaces import RDFS, SH, XSD
from khadamat.resources import data_files
from khadamat.store import OxigraphStore, Store, Term
from khadamat.validation.compiler import (
    DATE_VARIABLE,
    CompiledQuery,
    compile_shape,
    focus_query,
    merge_by_target,
)
from khadamat.validation.graph import Node, TripleIndex
from khadamat.validation.paths import Path
from khadamat.validation.shapes import Shape, read_shapes

_WORKERS = max(1, min(4, os.cpu_count() or 1))
_SPARQL_COMPONENT = NamedNode(SH + "SPARQLConstraintComponent")
# Scopes larger than this are validated as a full run filtered to the scope (see Validator.run).
SCOPE_BY_FILTER = 2000


@dataclass(frozen=True)
class LegalSource:
    """The article (or note/clause) a shape enforces, read from the legal corpus graph."""

    node: NamedNode
    instrument: str | None = None
    article: str | None = None
    part: str | None = None
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result, with what an auditor needs to act on it."""

    focus: Term
    shape: Node
    component: NamedNode
    severity: NamedNode
    path: Path | None
    value: Term | None
    messages: dict[str, str] = field(hash=False, compare=False)
    path_node: Node | None = field(default=None, hash=False, compare=False)
    service_id: str | None = field(default=None, hash=False, compare=False)
    agency: str | None = field(default=None, hash=False, compare=False)
    legal: LegalSource | None = field(default=None, hash=False, compare=False)
    # What an auditor needs to find the item (khadamat.validation.enrich): its title, the name of
    # its agency, and where it was read from: "file#sheet!row" (kh:sourceRow) or "RDF file X".
    title: str | None = field(default=None, hash=False, compare=False)
    agency_name: str | None = field(default=None, hash=False, compare=False)
    source: str | None = field(default=None, hash=False, compare=False)

    def key(self) -> tuple[str, str, str, str]:
        """(focus, source shape, path, component): what the differential tests compare."""
        return (str(self.focus), str(self.shape), self.path.text() if self.path else "", str(self.component))


def shapes_files() -> list[FilePath]:
    return data_files("shapes", ".ttl")


def date_literal(day: dt.date) -> Literal:
    return Literal(day.isoformat(), datatype=NamedNode(XSD + "date"))


class Validator:
    """Shapes compiled once, run against one store."""

    def __init__(
        self, store: Store, files: Sequence[FilePath] | None = None, graph: TripleIndex | None = None
    ) -> None:
        """Shapes from `graph` if given, else from `files` (default: shapes/*.ttl), re-based to the store."""
        self.store = store
        if graph is None:
            graph = TripleIndex.from_files(files if files is not None else shapes_files(), store.minter.base)
        self.graph = graph
        self.shapes: list[Shape] = read_shapes(self.graph)

    @cache  # noqa: B019 - one validator per run; the closure depends only on the store's ontology
    def subclasses(self, cls: NamedNode) -> tuple[NamedNode, ...]:
        rows = self.store.select(f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS}subClassOf>* {cls} }}")
        found = {cls, *(r["c"] for r in rows if isinstance(r.get("c"), NamedNode))}
        return tuple(sorted(found, key=str))

    def in_list(self, head: Node) -> list[Node]:
        return self.graph.items(head)

    def compile(
        self, scope: Sequence[NamedNode] | None = None, day: Literal | None = None
    ) -> list[CompiledQuery]:
        """Every query of every shape, one by one (Validator.run merges them by target).

        With a scope, each shape is compiled for the scope's nodes that are its focus nodes,
        asked once per distinct target (compiler.focus_query); a shape with none has no query.
        """
        queries: list[CompiledQuery] = []
        if scope is None:
            per_value = isinstance(self.store, OxigraphStore)  # see compiler._failing_values
            for shape in self.shapes:
                queries.extend(
                    compile_shape(shape, self.subclasses, self.in_list, None, day, per_value=per_value)
                )
            return queries
        focus: dict[str, list[NamedNode]] = {}  # a target's focus nodes in the scope, asked once
        for shape in self.shapes:
            text = focus_query(shape, self.subclasses, scope) if scope else None
            if text is None:
                continue
            if text not in focus:
                focus[text] = [r["this"] for r in self.store.select(text) if isinstance(r["this"], NamedNode)]
            if focus[text]:
                queries.extend(
                    compile_shape(shape, self.subclasses, self.in_list, focus[text], day, focus_nodes=True)
                )
        return queries

    def run(
        self,
        scope: Sequence[NamedNode] | None = None,
        on_date: dt.date | None = None,
        workers: int | None = None,
    ) -> list[Finding]:
        """Every finding of every shape; `scope` limits focus nodes, `on_date` is the validation
        date, `workers` how many queries run at once (default `_WORKERS`)."""
        day = date_literal(on_date or dt.date.today())
        keep: set[NamedNode] | None = None
        if scope is not None and len(scope) > SCOPE_BY_FILTER:
            # A large scope (a ministry with its affiliates: thousands of nodes) costs more as
            # VALUES looked up node by node than a run over every focus node whose findings are
            # then kept for the scope: the same findings, since a scope only limits focus nodes.
            keep, scope = set(scope), None
        queries = self.compile(scope, day)
        if scope is None:
            queries = merge_by_target(queries)

        def rows(query: CompiledQuery) -> list[dict[str, Term]]:
            return self.store.select(query.text, {DATE_VARIABLE: day} if query.uses_date else None)

        # The queries are independent and pyoxigraph releases the GIL while it evaluates them:
        # every core is kept busy. Results are read in query order (stable output).
        # The slowest start first so that no core idles at the end: the queries merged by target
        # (several shapes each), then SHACL-SPARQL queries (the joins), then the rest.
        workers = min(workers or _WORKERS, len(queries))
        order = sorted(
            range(len(queries)),
            key=lambda i: (-len(queries[i].parts), queries[i].component != _SPARQL_COMPONENT),
        )
        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            done = dict(zip(order, pool.map(rows, [queries[i] for i in order]), strict=True))
        results = [done[i] for i in range(len(queries))]
        findings: dict[Finding, None] = {}
        for query, found in zip(queries, results, strict=True):
            for row in found:
                if keep is None or row["this"] in keep:
                    findings.setdefault(self._finding(query, row), None)
        return list(findings)

    def _finding(self, query: CompiledQuery, row: dict[str, Term]) -> Finding:
        if query.parts:
            return self._finding(query.parts[int(row["__query"].value)], row)
        shape = query.shape
        path, path_node = shape.path, shape.path_node
        if query.projects_path and isinstance(row.get("path"), NamedNode):
            path = Path("iri", iri=row["path"])
            path_node = row["path"]
        component = query.component
        value = row.get("value") if query.projects_value else None
        if query.tagged:
            component, reports_value = query.tagged[int(row["__component"].value)]
            value = value if reports_value else None
        elif (
            value is None and component.value.endswith("SPARQLConstraintComponent") and not shape.is_property
        ):
            value = row["this"]  # SHACL-SPARQL: a node shape's value node is the focus node
        return Finding(
            focus=row["this"],
            shape=shape.node,
            component=component,
            severity=shape.severity,
            path=path,
            value=value,
            messages=query.messages,
            path_node=path_node,
        )


def scope_subjects(store: Store, graphs: Iterable[NamedNode]) -> list[NamedNode]:
    """The subjects of the given named graphs: the focus nodes a scoped validation reports on."""
    chosen = list(graphs)
    if not chosen:
        return []
    values = " ".join(str(g) for g in chosen)
    rows = store.select(f"SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
    return [r["s"] for r in rows if isinstance(r.get("s"), NamedNode)]  # VALUES cannot name blank nodes
