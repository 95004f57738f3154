"""SHACL property paths: read from the shapes graph, written as SPARQL 1.1 property paths.

SHACL paths (sh:inversePath, RDF lists for sequences, sh:alternativePath, sh:zeroOrMorePath…)
map one to one onto SPARQL property paths, so the value nodes of a property shape are exactly
`?this PATH ?value`. The same structure gives a stable text key, used to compare a finding's
sh:resultPath with pySHACL's and the W3C suite's, whatever blank nodes they use.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import BlankNode, NamedNode

from khadamat.namespaces import PREFIXES, SH
from khadamat.validation.graph import Node, TripleIndex


@dataclass(frozen=True)
class Path:
    """One SHACL path: `op` is 'iri', 'inverse', 'sequence', 'alternative', 'zeroOrMore',
    'oneOrMore' or 'zeroOrOne'; `iri` for 'iri', `parts` for the others."""

    op: str
    iri: NamedNode | None = None
    parts: tuple[Path, ...] = ()

    def sparql(self) -> str:
        """The SPARQL 1.1 property path, fully bracketed so that precedence never matters."""
        if self.op == "iri":
            return str(self.iri)
        if self.op == "inverse":
            return f"^({self.parts[0].sparql()})"
        if self.op == "sequence":
            return "(" + "/".join(p.sparql() for p in self.parts) + ")"
        if self.op == "alternative":
            return "(" + "|".join(p.sparql() for p in self.parts) + ")"
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[self.op]
        return f"({self.parts[0].sparql()}){suffix}"

    def text(self) -> str:
        """A readable, canonical form with prefixed names (`kh:a/^kh:b`), also the comparison key."""
        if self.op == "iri":
            return compact(self.iri)
        if self.op == "inverse":
            return "^" + _wrap(self.parts[0])
        if self.op == "sequence":
            return "/".join(_wrap(p) for p in self.parts)
        if self.op == "alternative":
            return "|".join(_wrap(p) for p in self.parts)
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[self.op]
        return _wrap(self.parts[0]) + suffix

    def predicates(self) -> set[NamedNode]:
        """Every IRI the path mentions."""
        if self.op == "iri":
            return {self.iri} if self.iri else set()
        return set().union(*(p.predicates() for p in self.parts))


def _wrap(path: Path) -> str:
    text = path.text()
    return text if path.op in {"iri", "inverse"} else f"({text})"


def compact(iri: NamedNode) -> str:
    """An IRI as prefix:local when a known namespace matches, else <iri>."""
    value = iri.value
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if value.startswith(namespace) and "/" not in value[len(namespace) :]:
            return f"{prefix}:{value[len(namespace) :]}"
    return f"<{value}>"


_UNARY = {
    "inversePath": "inverse",
    "alternativePath": "alternative",
    "zeroOrMorePath": "zeroOrMore",
    "oneOrMorePath": "oneOrMore",
    "zeroOrOnePath": "zeroOrOne",
}


def read_path(graph: TripleIndex, node: Node) -> Path:
    """The path a shapes (or report) graph describes at `node`; raises ValueError if malformed."""
    if isinstance(node, NamedNode):
        return Path("iri", iri=node)
    if not isinstance(node, BlankNode):
        raise ValueError(f"a SHACL path cannot be the literal {node}")
    for local, op in _UNARY.items():
        target = graph.value(node, NamedNode(SH + local))
        if target is None:
            continue
        if op == "alternative":
            return Path(op, parts=tuple(read_path(graph, m) for m in graph.items(target)))
        return Path(op, parts=(read_path(graph, target),))
    members = graph.items(node)
    if len(members) < 2:
        raise ValueError(f"a sequence path needs at least two members, got {len(members)}")
    return Path("sequence", parts=tuple(read_path(graph, m) for m in members))
