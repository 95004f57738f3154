"""A server that cuts an answer short is never taken at its word.

Virtuoso caps every answer at `[SPARQL] ResultSetMaxRows` rows (10,000 unless set): a SELECT
answer that reached the cap carries `X-SPARQL-MaxRows`, a CONSTRUCT answer is cut with no sign at
all. A browse index, a validation or an export read from such an answer would be silently
wrong, so the client refuses it (`PartialAnswer`). Here a Virtuoso of our own with a cap of 5
rows holds a graph of 12 triples.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest
from pyoxigraph import NamedNode

from khadamat.iris import Minter
from khadamat.remote_store import PartialAnswer, SparqlStore
from tests.remote_support import Server, Unavailable, start_virtuoso

pytestmark = pytest.mark.slow  # a Virtuoso of its own: ~10 s to start
GRAPH = "urn:khadamat:test:partial"
ALL = f"SELECT ?s WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    try:
        server = start_virtuoso(tmp_path_factory.mktemp("virtuoso-capped"), max_rows=5)
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        with _store(server) as store:
            triples = "\n".join(f"<urn:s:{n}> <urn:p> {n} ." for n in range(12))
            store.update(f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {triples} }} }}")
        yield server
    finally:
        server.stop()


def _store(server: Server) -> contextlib.closing[SparqlStore]:
    """A SparqlStore on the server, closed on leaving the `with`."""
    return contextlib.closing(SparqlStore(server.endpoint, Minter("https://w3id.org/khadamat/id/")))


def _ask(server: Server, query: str, accept: str) -> httpx.Response:
    return httpx.post(server.endpoint.query, data={"query": query}, headers={"Accept": accept}, timeout=60)


def test_the_server_really_cuts_its_answers(capped: Server) -> None:
    """What the client guards against: 200 with 5 of 12 rows (and a header saying the cap), and
    a CONSTRUCT with 6 of 12 triples and no sign of it."""
    rows = _ask(capped, ALL, "application/sparql-results+json")
    assert rows.status_code == 200 and len(rows.json()["results"]["bindings"]) == 5
    assert rows.headers["x-sparql-maxrows"] == "5"
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"
    graph = _ask(capped, construct, "application/n-triples")
    assert graph.status_code == 200 and "x-sparql-maxrows" not in graph.headers
    assert 0 < len(graph.text.strip().splitlines()) < 12


def test_a_cut_select_answer_is_refused(capped: Server) -> None:
    with _store(capped) as store, pytest.raises(PartialAnswer, match="row cap of 5"):
        store.select(ALL)


def test_a_cut_graph_is_refused(capped: Server) -> None:
    """Reading a whole graph (export, dump, history) checks the triples against the count."""
    with _store(capped) as store, pytest.raises(PartialAnswer, match="of the 12 triples"):
        list(store.quads(NamedNode(GRAPH)))


def test_answers_within_the_cap_are_whole(capped: Server) -> None:
    with _store(capped) as store:
        rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}")
        assert int(rows[0]["n"].value) == 12
        below = f"SELECT ?o WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o FILTER(?o < 4) }} }} ORDER BY ?o"
        four = store.select(below)
        assert [int(r["o"].value) for r in four] == [0, 1, 2, 3]
        store.update("INSERT DATA { GRAPH <urn:khadamat:test:small> { <urn:a> <urn:p> 1 , 2 , 3 } }")
        small = sorted(str(q.object.value) for q in store.quads(NamedNode("urn:khadamat:test:small")))
        assert small == ["1", "2", "3"]
