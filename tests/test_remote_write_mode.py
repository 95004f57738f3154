"""The write mode setting, and the one-request write's body.

`--write-mode single` sends a large write as one SPARQL Update request, its body compacted
(subjects written once, IRIs under the base relative to a BASE line) so that the 10k catalog
fits Oxigraph server's 128 MiB request limit. Whatever the compaction, the request must insert
exactly the quads given: checked here with pyoxigraph's own SPARQL Update parser, on IRIs that a
relative reference would resolve differently (a colon in the first segment, dot segments, a
query or fragment first), blank nodes and literals of every kind.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from khadamat.config import WRITE_MODE_ENV, Endpoint
from khadamat.remote_store import _update_parts

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
