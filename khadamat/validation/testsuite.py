"""Test cases in the W3C shacl-tests format: data, shapes and the expected report in Turtle.

The W3C SHACL test suite and our own rule fixtures (tests/fixtures/shapes/) share one format: a
manifest entry (sht:Validate) names the data graph and the shapes graph, and mf:result holds the
expected sh:ValidationReport. This module reads such a file into plain objects and runs a case
on the compiled engine, so that the tests compare (focus node, source shape, path) sets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from khadamat.namespaces import RDF, RDFS, SH
from khadamat.store import OxigraphStore, Store
from khadamat.validation.engine import Finding, Validator
from khadamat.validation.graph import Node, TripleIndex
from khadamat.validation.paths import read_path

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
SHT = "http://www.w3.org/ns/shacl-test#"
KHX = "https://w3id.org/khadamat/test#"
Key = tuple[str, str, str]
_TYPE = NamedNode(RDF + "type")


@dataclass
class Case:
    """One sht:Validate entry."""

    name: str
    file: Path
    label: str
    data: list[Triple]
    shapes: TripleIndex
    expected: set[tuple[str, ...]] | None  # None: the suite expects a failure (ill-formed shapes…)
    shape: NamedNode | None = None  # our fixtures: the shape under test
    conforming: list[Node] = field(default_factory=list)
    on_date: dt.date | None = None


def _file_of(ref: NamedNode) -> Path:
    return Path(unquote(urlparse(ref.value).path))


def _graph_of(ref: Node, here: NamedNode, own: TripleIndex, cache: dict[Path, TripleIndex]) -> TripleIndex:
    if ref == here:
        return own
    path = _file_of(ref)  # type: ignore[arg-type]
    if path not in cache:
        cache[path] = TripleIndex.parse(path.read_text(encoding="utf-8"), base_iri=path.as_uri())
    return cache[path]


def shape_key(shape: Node | None) -> str:
    """Blank-node shapes compare as one anonymous key (their labels differ between files)."""
    return "_:" if isinstance(shape, BlankNode) or shape is None else str(shape)


def result_keys(report: TripleIndex, node: Node, with_component: bool = False) -> set[tuple[str, ...]]:
    """(focus, source shape, path[, constraint component]) of every sh:result of a report node."""
    keys: set[tuple[str, ...]] = set()
    for result in report.objects(node, NamedNode(SH + "result")):
        focus = report.value(result, NamedNode(SH + "focusNode"))
        path_node = report.value(result, NamedNode(SH + "resultPath"))
        path = read_path(report, path_node).text() if path_node is not None else ""
        key = (str(focus), shape_key(report.value(result, NamedNode(SH + "sourceShape"))), path)
        component = report.value(result, NamedNode(SH + "sourceConstraintComponent"))
        keys.add((*key, str(component)) if with_component else key)
    return keys


def read_cases(
    file: Path, shapes: TripleIndex | None = None, strip_manifest: bool = False, with_component: bool = False
) -> list[Case]:
    """Every sht:Validate entry of a file; `shapes` replaces the entry's shapes graph (our fixtures)."""
    here = NamedNode(file.resolve().as_uri())
    own = TripleIndex.parse(file.read_text(encoding="utf-8"), base_iri=here.value)
    cache: dict[Path, TripleIndex] = {}
    cases = []
    for entry in own.subjects(_TYPE, NamedNode(SHT + "Validate")):
        action = own.value(entry, NamedNode(MF + "action"))
        data = _graph_of(own.value(action, NamedNode(SHT + "dataGraph")), here, own, cache)
        shapes_ref = own.value(action, NamedNode(SHT + "shapesGraph"))
        shapes_graph = shapes if shapes is not None else _graph_of(shapes_ref, here, own, cache)
        result = own.value(entry, NamedNode(MF + "result"))
        expected = None if result == NamedNode(SHT + "Failure") else result_keys(own, result, with_component)
        triples = data.triples
        if strip_manifest:
            manifest = {t for n in own.subjects(_TYPE, NamedNode(MF + "Manifest")) for t in own.closure(n)}
            manifest |= set(own.closure(entry))
            triples = [t for t in triples if t not in manifest]
        label = own.value(entry, NamedNode(RDFS + "label"))
        date = own.value(entry, NamedNode(KHX + "validationDate"))
        cases.append(
            Case(
                name=entry.value.rsplit("/", 1)[-1].lstrip("#")
                if isinstance(entry, NamedNode)
                else file.stem,
                file=file,
                label=label.value if isinstance(label, Literal) else "",
                data=list(triples),
                shapes=shapes_graph,
                expected=expected,
                shape=own.value(action, NamedNode(KHX + "shape")),
                conforming=own.objects(entry, NamedNode(KHX + "conforming")),
                on_date=dt.date.fromisoformat(date.value) if isinstance(date, Literal) else None,
            )
        )
    return cases


def store_with(store: Store | None, triples: list[Triple], graph: NamedNode) -> Store:
    """A store holding the triples in one named graph (a fresh in-memory one when `store` is None)."""
    from khadamat.iris import Minter

    target = store if store is not None else OxigraphStore(None, Minter("https://example.org/"))
    target.add_quads(Quad(t.subject, t.predicate, t.object, graph) for t in triples)  # type: ignore[attr-defined]
    return target


def run_case(case: Case, store: Store, on_date: dt.date | None = None) -> list[Finding]:
    """The engine's findings on the case's data (already in `store`) with the case's shapes."""
    validator = Validator(store, graph=case.shapes)
    return validator.run(None, on_date or case.on_date or dt.date.today())


def finding_keys(findings: list[Finding], with_component: bool = False) -> set[tuple[str, ...]]:
    keys = set()
    for f in findings:
        key = (str(f.focus), shape_key(f.shape), f.path.text() if f.path else "")
        keys.add((*key, str(f.component)) if with_component else key)
    return keys


__all__ = ["Case", "finding_keys", "read_cases", "result_keys", "run_case", "store_with"]
