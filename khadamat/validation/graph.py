"""A small read-only triple index over a shapes graph (or a report graph).

The compiler walks shapes node by node (a shape's targets, its path, its lists); a dict index over
pyoxigraph terms does that without a query per step and without a second RDF library in the
engine. The same index reads pySHACL's and the W3C suite's reports in the tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple

from khadamat.namespaces import RDF

Node = NamedNode | BlankNode | Literal
_FIRST = NamedNode(RDF + "first")
_REST = NamedNode(RDF + "rest")
_NIL = NamedNode(RDF + "nil")


class TripleIndex:
    """Triples indexed by subject and predicate (and by predicate and object)."""

    def __init__(self, triples: Iterable[Triple] = ()) -> None:
        self.triples: list[Triple] = []
        self._sp: dict[tuple[Node, NamedNode], list[Node]] = defaultdict(list)
        self._po: dict[tuple[NamedNode, Node], list[Node]] = defaultdict(list)
        self._s: dict[Node, list[Triple]] = defaultdict(list)
        self._seen: set[Triple] = set()
        self.add_all(triples)

    def add_all(self, triples: Iterable[Triple]) -> None:
        for triple in triples:
            if triple in self._seen:
                continue
            self._seen.add(triple)
            self.triples.append(triple)
            self._s[triple.subject].append(triple)
            self._sp[(triple.subject, triple.predicate)].append(triple.object)
            self._po[(triple.predicate, triple.object)].append(triple.subject)

    @classmethod
    def parse(cls, text: str, fmt: RdfFormat = RdfFormat.TURTLE, base_iri: str | None = None) -> TripleIndex:
        quads = ox.parse(text.encode("utf-8"), format=fmt, base_iri=base_iri)
        return cls(q.triple for q in quads)

    @classmethod
    def from_files(cls, paths: Iterable[Path], base: str | None = None) -> TripleIndex:
        from khadamat.resources import read_rebased

        index = cls()
        for path in paths:
            text = read_rebased(path, base) if base else path.read_text(encoding="utf-8")
            index.add_all(q.triple for q in ox.parse(text.encode("utf-8"), format=RdfFormat.TURTLE))
        return index

    def objects(self, subject: Node, predicate: NamedNode) -> list[Node]:
        return list(self._sp.get((subject, predicate), ()))

    def value(self, subject: Node, predicate: NamedNode) -> Node | None:
        found = self._sp.get((subject, predicate))
        return found[0] if found else None

    def subjects(self, predicate: NamedNode, obj: Node) -> list[Node]:
        return list(self._po.get((predicate, obj), ()))

    def subjects_with(self, predicate: NamedNode) -> Iterator[Node]:
        for subject, triples in self._s.items():
            if any(t.predicate == predicate for t in triples):
                yield subject

    def items(self, head: Node) -> list[Node]:
        """The members of an RDF list, in order."""
        members: list[Node] = []
        node: Node | None = head
        while node is not None and node != _NIL:
            first = self.value(node, _FIRST)
            if first is None:
                raise ValueError(f"{node} is not a well-formed RDF list")
            members.append(first)
            node = self.value(node, _REST)
        return members

    def closure(self, node: Node) -> list[Triple]:
        """Every triple reachable from a node through blank nodes (a path or list structure)."""
        out: list[Triple] = []
        todo, seen = [node], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for triple in self._s.get(current, ()):
                out.append(triple)
                if isinstance(triple.object, BlankNode):
                    todo.append(triple.object)
        return out
