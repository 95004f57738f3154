"""SERVICE (federated query) made the server call any address (SSRF), in spite of a regex guard.

A listener on 127.0.0.1 stands for the internal service an attacker aims at. Every spelling of
SERVICE we could think of (escaped local names, comments, letter case, \\u escapes, no white
space, keyword glued to a name) is refused with 403 by the tokenizer, and the listener never
gets a connection. Below the guard, a query worker cannot open a socket at all (seccomp): a
SERVICE query handed to the worker pool directly, guard bypassed, does not connect either.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from khadamat.api.query_job import SERVICE_REFUSED, EndpointError, QueryJob
from khadamat.api.query_workers import QueryWorkerPool
from khadamat.api.testing import load_dataset_file

from khadamat.config import Settings
from tests.security.server_watch import Server, assert_clean, assert_serving, served
from tests.security.store_support import FIXTURE


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with served(tmp_path_factory.mktemp("ssrf"), ["--sparql-workers", "2"]) as running:
        yield running


def spellings(port: int) -> dict[str, str]:
    target = f"<http://127.0.0.1:{port}/sparql>"
    body = "{ ?s ?p ?o }"
    ex = "PREFIX ex: <http://example.org/> "
    x = f"PREFIX x: <http://127.0.0.1:{port}/> "
    return {
        "plain": f"SELECT * WHERE {{ SERVICE {target} {body} }}",
        "lower case": f"SELECT * WHERE {{ service {target} {body} }}",
        "mixed case": f"SELECT * WHERE {{ SeRvIcE {target} {body} }}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT {target} {body} }}",
        "escaped # in a local name": ex + f"SELECT * WHERE {{ ?s ex:a\\# ?o . SERVICE {target} {body} }}",
        "escaped . in a local name": ex + f"SELECT * WHERE {{ ?s ?p ex:a\\. . SERVICE {target} {body} }}",
        "comment ended by CR": f"SELECT * WHERE {{ # note\rSERVICE {target} {body} }}",
        "quote in a comment": f'SELECT * WHERE {{ # "\nSERVICE {target} {body} }}',
        "escaped quote in a string": f'SELECT * WHERE {{ BIND("a\\"b" AS ?x) SERVICE {target} {body} }}',
        "long string with quotes": f"SELECT * WHERE {{ BIND('''a''b' ''' AS ?x) SERVICE {target} {body} }}",
        "\\u escape": f"SELECT * WHERE {{ \\u0053ERVICE {target} {body} }}",
        "\\U escape": f"SELECT * WHERE {{ \\U00000053ervice {target} {body} }}",
        "no white space": f"SELECT * WHERE {{ {{}}SERVICE{target}{body} }}",
        "glued SILENT": f"SELECT * WHERE {{ SERVICESILENT{target}{body} }}",
        "glued to a prefixed name": x + f"SELECT * WHERE {{ SERVICEx:sparql {body} }}",
        "prefixed name": x + f"SELECT * WHERE {{ SERVICE x:sparql {body} }}",
        "after a number": f"SELECT * WHERE {{ ?s ?p 1.SERVICE {target} {body} }}",
        "after a dot in a local name": ex + f"SELECT * WHERE {{ ?s ?p ex:.SERVICE {target} {body} }}",
        "variable": f"SELECT * WHERE {{ VALUES ?u {{ {target} }} SERVICE ?u {body} }}",
        "relative IRI (the server itself)": f"SELECT * WHERE {{ SERVICE <> {body} }}",
        "inside OPTIONAL": f"SELECT * WHERE {{ OPTIONAL {{ SERVICE {target} {body} }} }}",
        "in a CONSTRUCT": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE {target} {body} }}",
    }


@pytest.mark.parametrize("name", list(spellings(1)))
def test_every_spelling_of_service_is_refused(server: Server, listener: socket.socket, name: str) -> None:
    query = spellings(listener.getsockname()[1])[name]
    for response in (
        server.sparql(query),
        httpx.get(server.url + "/sparql", params={"query": query}, timeout=30),
        httpx.post(server.url + "/sparql", data={"query": query}, timeout=30),
    ):
        assert response.status_code == 403, (name, response.text)
        assert response.text.startswith(SERVICE_REFUSED)
        assert_clean(response)
    assert connections(listener) == 0
    assert_serving(server)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?service WHERE { ?service a kh:Service } LIMIT 1",
        'SELECT * WHERE { ?s kh:service ?o . FILTER(?o != "SERVICE") } LIMIT 1',
        "SELECT * WHERE { <http://example.org/SERVICE> ?p ?o } # SERVICE <http://x/>",
    ],
    ids=["variable", "local name, string and comment", "IRI and comment"],
)
def test_the_word_service_elsewhere_is_accepted(server: Server, query: str) -> None:
    from tests.security.endpoint_support import P

    response = server.sparql(P + query)
    assert response.status_code == 200, response.text


def test_a_query_worker_cannot_connect_even_without_the_guard(
    tmp_path: Path, listener: socket.socket
) -> None:
    """The hard guarantee: SERVICE sent straight to the pool (no guard) fails without a connection."""
    base = "http://127.0.0.1:9/id/"
    load_dataset_file(tmp_path / "store", base, FIXTURE)
    port = listener.getsockname()[1]
    job = QueryJob(
        query=f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        default_graph=None,
        named_graphs=None,
        base_iri="http://127.0.0.1:9/sparql",
        result_media="application/sparql-results+json",
        graph_media=None,
        result_limit=10,
        max_answer_bytes=2**20,
        timeout=20.0,
    )

    async def ask() -> EndpointError:
        pool = QueryWorkerPool(
            Settings(store_dir=tmp_path / "store", base=base), size=1, memory_bytes=512 * 2**20
        )
        await pool.start()
        try:
            with pytest.raises(EndpointError) as caught:
                await pool.run(job)
            return caught.value
        finally:
            await pool.close()

    error = asyncio.run(ask())
    assert (error.status, error.message) == (403, SERVICE_REFUSED)
    assert connections(listener) == 0
