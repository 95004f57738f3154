"""Khadamat's own query results: what `Store.raw_query` returns, whichever store answered.

The RDF terms inside are pyoxigraph's value classes (NamedNode, Literal, BlankNode, Triple), the
project's term model. The containers are ours, so that no caller depends on the machinery of
one store: the embedded store wraps pyoxigraph's lazy results (`from_oxigraph`), a remote store
wraps the SPARQL JSON results and N-Triples it parsed (khadamat/remote_store.py), and the endpoint
serializes from these (khadamat/api/results.py).

* `Solutions` — a SELECT answer: `variables` (names, in order) and the rows, read once, lazily;
  each row is a `Solution`, indexed by variable name (None when the variable is unbound).
* `Boolean` — an ASK answer; `bool(answer)` is its value.
* `Graph` — a CONSTRUCT or DESCRIBE answer: its triples, read once, lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

Term = ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple


class Solution:
    """One row of a SELECT answer: `row["name"]` is the bound term, or None when unbound."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Term | None]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, name: str) -> Term | None:
        position = self._index.get(name)
        return None if position is None else self._values[position]

    def items(self) -> Iterator[tuple[str, Term]]:
        """The bound variables and their terms (unbound ones left out)."""
        for name, position in self._index.items():
            value = self._values[position]
            if value is not None:
                yield name, value

    def __repr__(self) -> str:
        return f"Solution({dict(self.items())!r})"


class Solutions:
    """A SELECT answer: `variables` and an iterator of `Solution` rows (read once)."""

    def __init__(self, variables: Sequence[str], rows: Iterable[Sequence[Term | None]]) -> None:
        self.variables = list(variables)
        self._index = {name: i for i, name in enumerate(self.variables)}
        self._rows = iter(rows)

    def __iter__(self) -> Iterator[Solution]:
        index = self._index
        return (Solution(index, values) for values in self._rows)


@dataclass(frozen=True)
class Boolean:
    """An ASK answer."""

    value: bool

    def __bool__(self) -> bool:
        return self.value


class Graph:
    """A CONSTRUCT or DESCRIBE answer: an iterator of triples (read once)."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self._triples = iter(triples)

    def __iter__(self) -> Iterator[ox.Triple]:
        return self._triples


QueryResult = Solutions | Boolean | Graph


def from_oxigraph(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> QueryResult:
    """Wrap an answer of pyoxigraph's evaluator or result parser (lazily: rows are not read here)."""
    if isinstance(result, ox.QueryBoolean):
        return Boolean(bool(result))
    if isinstance(result, ox.QuerySolutions):
        return Solutions([v.value for v in result.variables], (tuple(row) for row in result))
    return Graph(result)


__all__ = ["Boolean", "Graph", "QueryResult", "Solution", "Solutions", "Term", "from_oxigraph"]
