"""The shapes of shapes/*.ttl as plain objects: targets, path, constraints, severity, messages.

Reading is strict on purpose: a constraint component the compiler does not implement raises
UnsupportedShape instead of being skipped, so that a shape can never look enforced while it is
not (the W3C suite run in the tests shows which components are implemented).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path as FilePath

from pyoxigraph import BlankNode, Literal, NamedNode

from khadamat.namespaces import KH, OWL, RDF, RDFS, SH
from khadamat.validation.graph import Node, TripleIndex
from khadamat.validation.paths import Path, read_path


class UnsupportedShape(ValueError):
    """The shapes use a SHACL feature that the compiler does not implement."""


def sh(local: str) -> NamedNode:
    return NamedNode(SH + local)


RDF_TYPE = NamedNode(RDF + "type")
ENFORCES = NamedNode(KH + "enforces")
VIOLATION = sh("Violation")

# Parameters of the constraint components the compiler implements (SHACL Core names).
VALUE_PARAMS = (
    "class",
    "datatype",
    "nodeKind",
    "in",
    "pattern",
    "minInclusive",
    "maxInclusive",
    "minExclusive",
    "maxExclusive",
    "minLength",
    "maxLength",
    "hasValue",
)
COUNT_PARAMS = ("minCount", "maxCount")
SUPPORTED_PARAMS = (*VALUE_PARAMS, *COUNT_PARAMS)
# Core parameters we deliberately do not compile; finding one in a shape is an error.
UNSUPPORTED_PARAMS = (
    "languageIn",
    "uniqueLang",
    "equals",
    "disjoint",
    "lessThan",
    "lessThanOrEquals",
    "not",
    "and",
    "or",
    "xone",
    "node",
    "qualifiedValueShape",
    "closed",
)
SUPPORTED_TARGETS = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")


@dataclass
class Constraint:
    """One constraint component instance: the parameter (e.g. 'minCount') and its value(s)."""

    param: str
    value: Node
    flags: str | None = None  # sh:flags, for sh:pattern

    @property
    def component(self) -> NamedNode:
        return sh(f"{self.param[0].upper()}{self.param[1:]}ConstraintComponent")


@dataclass
class SparqlConstraint:
    """A sh:sparql SELECT with its prefix declarations."""

    node: Node
    select: str
    prefixes: dict[str, str]
    messages: dict[str, str] = field(default_factory=dict)


@dataclass
class Shape:
    """A node or property shape with the constraints the compiler turns into queries."""

    node: Node
    is_property: bool
    path: Path | None
    path_node: Node | None
    targets: list[tuple[str, Node]]
    constraints: list[Constraint]
    sparql: list[SparqlConstraint]
    severity: NamedNode
    messages: dict[str, str]
    enforces: list[NamedNode]
    parent: Shape | None = None

    def effective_targets(self) -> list[tuple[str, Node]]:
        """A property shape reached through sh:property validates the focus nodes of its parent."""
        return self.targets if self.parent is None else self.parent.effective_targets()

    @property
    def label(self) -> str:
        return self.node.value if isinstance(self.node, NamedNode) else f"_:{self.node.value}"


def _messages(graph: TripleIndex, node: Node) -> dict[str, str]:
    out: dict[str, str] = {}
    for literal in graph.objects(node, sh("message")):
        if isinstance(literal, Literal):
            out.setdefault(literal.language or "", literal.value)
    return out


def _prefixes(graph: TripleIndex, constraint: Node) -> dict[str, str]:
    """sh:prefixes → sh:declare, following owl:imports of the holders (SHACL 5.2.1)."""
    out: dict[str, str] = {}
    todo, seen = list(graph.objects(constraint, sh("prefixes"))), set()
    while todo:
        holder = todo.pop()
        if holder in seen:
            continue
        seen.add(holder)
        todo += graph.objects(holder, NamedNode(OWL + "imports"))
        for declaration in graph.objects(holder, sh("declare")):
            prefix = graph.value(declaration, sh("prefix"))
            namespace = graph.value(declaration, sh("namespace"))
            if prefix is not None and namespace is not None:
                out.setdefault(prefix.value, namespace.value)
    return out


def _custom_parameters(graph: TripleIndex) -> set[Node]:
    """Parameters of SPARQL-based constraint components declared in the shapes graph."""
    return {
        path
        for component in graph.subjects_with(sh("parameter"))
        for parameter in graph.objects(component, sh("parameter"))
        for path in graph.objects(parameter, sh("path"))
    }


def _targets(graph: TripleIndex, node: Node) -> list[tuple[str, Node]]:
    found = [(kind, value) for kind in SUPPORTED_TARGETS for value in graph.objects(node, sh(kind))]
    if graph.objects(node, sh("target")):
        raise UnsupportedShape(f"{node}: sh:target (SHACL-AF targets) is not supported")
    classes = {RDFS + "Class", "http://www.w3.org/2002/07/owl#Class"}
    if any(t.value in classes for t in graph.objects(node, RDF_TYPE) if isinstance(t, NamedNode)):
        found.append(("targetClass", node))  # implicit class target
    return found


def _constraints(graph: TripleIndex, node: Node) -> list[Constraint]:
    for param in UNSUPPORTED_PARAMS:
        if graph.objects(node, sh(param)):
            raise UnsupportedShape(f"{node}: sh:{param} is not supported by the compiler")
    flags = graph.value(node, sh("flags"))
    out: list[Constraint] = []
    for param in SUPPORTED_PARAMS:
        for value in graph.objects(node, sh(param)):
            out.append(
                Constraint(param, value, flags.value if flags is not None and param == "pattern" else None)
            )
    return out


def _is_deactivated(graph: TripleIndex, node: Node) -> bool:
    flag = graph.value(node, sh("deactivated"))
    return isinstance(flag, Literal) and flag.value in {"true", "1"}


def _read_shape(graph: TripleIndex, node: Node, parent: Shape | None) -> Shape:
    path_node = graph.value(node, sh("path"))
    severity = graph.value(node, sh("severity"))
    sparql = []
    for constraint in graph.objects(node, sh("sparql")):
        select = graph.value(constraint, sh("select"))
        if select is None or _is_deactivated(graph, constraint):
            continue
        sparql.append(
            SparqlConstraint(
                constraint, select.value, _prefixes(graph, constraint), _messages(graph, constraint)
            )
        )
    return Shape(
        node=node,
        is_property=path_node is not None,
        path=read_path(graph, path_node) if path_node is not None else None,
        path_node=path_node,
        targets=_targets(graph, node),
        constraints=_constraints(graph, node),
        sparql=sparql,
        severity=severity if isinstance(severity, NamedNode) else VIOLATION,
        messages=_messages(graph, node),
        enforces=[e for e in graph.objects(node, ENFORCES) if isinstance(e, NamedNode)],
        parent=parent,
    )


def _shape_nodes(graph: TripleIndex) -> list[Node]:
    """Every node that is a shape: typed, a target holder, or the object of sh:property."""
    nodes: dict[Node, None] = {}
    for kind in ("NodeShape", "PropertyShape"):
        for node in graph.subjects(RDF_TYPE, sh(kind)):
            nodes[node] = None
    for kind in (*SUPPORTED_TARGETS, "sparql"):
        for node in graph.subjects_with(sh(kind)):
            nodes[node] = None
    return list(nodes)


def read_shapes(graph: TripleIndex) -> list[Shape]:
    """All active shapes, property shapes linked to the node shapes that hold them."""
    shapes: list[Shape] = []
    done: set[tuple[Node, Node | None]] = set()

    def visit(node: Node, parent: Shape | None) -> None:
        key = (node, parent.node if parent else None)
        if key in done or _is_deactivated(graph, node):
            return
        done.add(key)
        shape = _read_shape(graph, node, parent)
        shapes.append(shape)
        for child in graph.objects(node, sh("property")):
            if shape.is_property:
                raise UnsupportedShape(f"{node}: sh:property inside a property shape is not supported")
            visit(child, shape)

    custom = _custom_parameters(graph)
    for triple in graph.triples:
        if triple.predicate in custom:
            raise UnsupportedShape(
                f"{triple.subject}: SPARQL-based constraint components ({triple.predicate}) are not supported"
            )
    children = {t.object for t in graph.triples if t.predicate == sh("property")}
    for node in _shape_nodes(graph):
        if node not in children or _targets(graph, node):
            visit(node, None)
    return shapes


def load_shapes(files: Iterable[FilePath], base: str) -> tuple[TripleIndex, list[Shape]]:
    """The shapes graph of the given files (re-based), and its shapes."""
    graph = TripleIndex.from_files(files, base)
    return graph, read_shapes(graph)


__all__ = [
    "BlankNode",
    "Constraint",
    "Shape",
    "SparqlConstraint",
    "UnsupportedShape",
    "load_shapes",
    "read_shapes",
]
