"""Internal error text ("Connection refused (os error 111)") reached clients of /sparql.

Every failure is now mapped to a fixed message (api/query_job.py): the parser's message about
the client's own query text is kept, anything naming the machine (OS errors, addresses, ports,
Rust messages) is not. The engine's real errors are produced here with pyoxigraph itself.
"""

from __future__ import annotations

import socket

import httpx
import pytest
from khadamat.api.query_job import (
    NOT_EVALUATED,
    STORE_UNAVAILABLE,
    EndpointError,
    QueryJob,
    execute,
    syntax_message,
)

from khadamat.config import Settings
from khadamat.store import open_store
from tests.security.server_watch import Server, assert_clean, assert_serving, served


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with served(tmp_path_factory.mktemp("errors"), ["--sparql-workers", "2"]) as running:
        yield running


def job(query: str) -> QueryJob:
    return QueryJob(
        query,
        None,
        None,
        "http://127.0.0.1:9/sparql",
        "application/sparql-results+json",
        None,
        10,
        2**20,
        10.0,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


def test_a_syntax_error_keeps_the_parsers_message_only(server: Server) -> None:
    response = server.sparql("SELECT * WHERE { ?s ?p }")
    assert response.status_code == 400
    assert response.text.startswith("the query is not valid SPARQL 1.1: error at 1:")
    assert_clean(response)
    assert_serving(server)


def test_an_answer_no_accepted_type_can_carry_is_406_without_internals(server: Server) -> None:
    response = httpx.post(
        server.url + "/sparql",
        content=b"ASK { ?s ?p ?o }",
        headers={"Content-Type": "application/sparql-query", "Accept": "text/turtle"},
        timeout=30,
    )
    assert response.status_code == 406
    assert response.text.startswith("none of the accepted media types can carry this answer")
    assert_clean(response)


def test_engine_errors_become_fixed_messages(tmp_path) -> None:
    """Run in this process (network allowed), SERVICE fails with the OS error text of old."""
    store = open_store(Settings(store_dir=tmp_path / "store"), in_memory=True)
    refused = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{closed_port()}/> {{ ?s ?p ?o }} }}"
    with pytest.raises(OSError, match="os error"):
        list(store.raw_query(refused))  # what the client used to read
    with pytest.raises(EndpointError) as caught:
        execute(store, job(refused))
    assert (caught.value.status, caught.value.message) == (500, STORE_UNAVAILABLE)
    with pytest.raises(EndpointError) as caught:
        execute(store, job("SELECT * WHERE { SERVICE ?u { ?s ?p ?o } }"))  # "…variable… unbound"
    assert (caught.value.status, caught.value.message) == (400, NOT_EVALUATED)


@pytest.mark.parametrize(
    "message",
    [
        "Connection refused (os error 111)",
        "error sending request for url (http://10.0.0.5:8080/): tcp connect error",
        "error at 1:5: failed to read /tmp/khadamat/store/LOCK",
    ],
)
def test_a_message_naming_the_machine_is_not_passed_on(message: str) -> None:
    assert syntax_message(SyntaxError(message)) == "the query is not valid SPARQL 1.1"


def test_a_parser_message_about_the_query_is_passed_on() -> None:
    assert syntax_message(SyntaxError("error at 1:26: expected OPTIONAL")) == (
        "the query is not valid SPARQL 1.1: error at 1:26: expected OPTIONAL"
    )
