"""The write mode setting, and the one-request write's body.

`--write-mode single` sends a large write as one SPARQL Update request, its body compacted
(subjects written once, IRIs under the base relative to a BASE line) so that the 10k catalog
fits Oxigraph server's 128 MiB request limit. Whatever the compaction, the request must insert
exactly the quads given: checked here with pyoxigraph's own SPARQL Update parser, on IRIs that a
relative reference would resolve differently (a colon in the first segment, dot segments, a
query or fragment first), blank nodes and literals of every kind.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from khadamat.config import WRITE_MODE_ENV, Endpoint
from khadamat.iris import Minter
from khadamat.remote_store import REMOTE_CHUNK, RemoteError, SparqlStore, _update_parts

BASE = "https://w3id.org/khadamat/id/"
G = NamedNode(BASE + "graph/agency/maj")
P = NamedNode("https://w3id.org/khadamat/ontology#title")


def _quads() -> list[Quad]:
    subjects = [
        NamedNode(BASE + tail)
        for tail in (
            "agency/maj/service/12",
            "agency/maj/service/a:b",  # a colon after the first segment is fine
            "a:b/c",  # a colon in the first segment would read as a scheme
            "./x",
            "x/../y",
            "x/.",
            "?q=1",
            "#frag",
            "/rooted",
            "",
        )
    ] + [NamedNode("urn:other:1")]
    objects = [
        Literal('صدور پروانه «ساختمان»\n"نقل"', language="fa"),
        Literal("12", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        NamedNode(BASE + "agency/maj"),
        NamedNode(BASE + "../escape"),
    ]
    quads = [Quad(s, P, o, G) for s in subjects for o in objects]
    blank = BlankNode()
    quads += [Quad(subjects[0], P, blank, G), Quad(blank, P, Literal("تبصره"), NamedNode(BASE + "graph/x"))]
    return quads


def _written(text: str) -> set[str]:
    store = ox.Store()
    store.update(text)
    blank = {q.object for q in store if isinstance(q.object, BlankNode)}
    return {str(q).replace(str(next(iter(blank))), "_:b") if blank else str(q) for q in store}


def test_the_compact_body_inserts_exactly_the_quads_given() -> None:
    quads = _quads()
    body = "".join(_update_parts(["DROP SILENT GRAPH <urn:none>"], quads, BASE))
    assert body.startswith(f"BASE <{BASE}>\n")
    assert "<agency/maj/service/12> " in body  # compacted: relative, the subject once
    ground = body.split("INSERT {")[0]  # the INSERT DATA; blank nodes go in INSERT {…} WHERE {}
    assert ground.count("<agency/maj/service/12> ") == 1
    plain = "".join(_update_parts([], quads, None))
    assert _written(body) == _written(plain)
    expected = {str(q) for q in quads if not any(isinstance(t, BlankNode) for t in (q.subject, q.object))}
    assert expected <= _written(body)
    assert len(_written(body)) == len(quads)


def test_the_write_mode_comes_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHADAMAT_ENDPOINT", "http://127.0.0.1:1/sparql")
    monkeypatch.delenv(WRITE_MODE_ENV, raising=False)
    assert Endpoint.from_env().write_mode == "staged"  # type: ignore[union-attr]
    monkeypatch.setenv(WRITE_MODE_ENV, "single")
    endpoint = Endpoint.from_env()
    assert endpoint is not None and endpoint.write_mode == "single"
    assert endpoint.to_env()[WRITE_MODE_ENV] == "single"  # what `serve` hands its workers
    assert Endpoint.from_env(write_mode="staged").write_mode == "staged"  # type: ignore[union-attr]
    monkeypatch.setenv(WRITE_MODE_ENV, "fast")
    with pytest.raises(ValueError, match="KHADAMAT_WRITE_MODE must be one of staged, single"):
        Endpoint.from_env()


@contextlib.contextmanager
def _refusing_server(status: int) -> Iterator[tuple[str, list[int]]]:
    """A loopback HTTP server that reads each request's body whole and answers `status` (what a
    SPARQL server with a request-size limit does: Oxigraph server answers 413 over 128 MiB)."""
    received: list[int] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = 0
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                while (length := int(self.rfile.readline().strip() or b"0", 16)) > 0:
                    size += len(self.rfile.read(length))
                    self.rfile.readline()
                self.rfile.readline()
            else:
                size = len(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            received.append(size)
            self.send_response(status)
            self.send_header("Content-Length", "20")
            self.end_headers()
            self.wfile.write(b"payload too large!\n\n")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/update", received
    finally:
        server.shutdown()
        server.server_close()


def _large_write(url: str) -> None:
    store = SparqlStore(Endpoint(query=url, write_mode="single"), Minter(BASE))
    graph = {G: [q.triple for q in _quads()] * (REMOTE_CHUNK // len(_quads()) + 1)}
    try:
        store.replace_graphs(graph)
    finally:
        store.close()


def test_a_single_write_the_server_finds_too_large_says_to_use_staged() -> None:
    """The one request is sent whole (streamed), the server's 413 becomes a message that says
    nothing was written and names `--write-mode staged`."""
    refused = r"refused one update request of .* nothing was written.*--write-mode staged"
    with _refusing_server(413) as (url, received), pytest.raises(RemoteError, match=refused):
        _large_write(url)
    assert len(received) == 1 and received[0] > 0  # one request, its body sent


def test_a_single_write_failing_otherwise_is_reported_as_it_is() -> None:
    """A server error that is not about the size is not dressed up as one."""
    with _refusing_server(500) as (url, _), pytest.raises(RemoteError, match="answered 500") as caught:
        _large_write(url)
    assert caught.value.status == 500 and "write-mode" not in str(caught.value)
