"""The W3C SPARQL 1.1 Protocol test suite, run against a live `khadamat serve` on 127.0.0.1.

The manifest (tests/w3c/sparql-protocol/manifest.ttl, vendored: tests/w3c/SOURCE.md) describes
HTTP requests and the expected status / answer. Datasets it names remotely (http://kasei.us/…/dataN.rdf) are
mapped to the local dataN.nt files, loaded into named graphs of those IRIs. The endpoint is
read-only by design (issue 5), so the update cases that expect success are skipped by name
(UPDATE_CASES); the update cases that expect a 4xx run and must get one.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
import pytest
from khadamat.api.testing import live_server
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection

from khadamat.config import Settings
from khadamat.store import open_store

SUITE = Path(__file__).resolve().parent / "w3c" / "sparql-protocol"
CASES = 34  # entries of the vendored manifest: a missing or truncated manifest fails, never skips

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"

# Cases that need SPARQL Update to succeed: the endpoint refuses updates (403) by design.
UPDATE_CASES = {
    "update_dataset_default_graph",
    "update_dataset_default_graphs",
    "update_dataset_named_graphs",
    "update_dataset_full",
    "update_post_form",
    "update_post_direct",
    "update_base_uri",
}
RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
RDF_TYPES = {
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/trig",
}


def _manifest() -> tuple[Graph, list[URIRef]]:
    graph = Graph()
    graph.parse(SUITE / "manifest.ttl", format="turtle", publicID=(SUITE / "manifest.ttl").as_uri())
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    entries = list(Collection(graph, graph.value(manifest, MF.entries)))
    return graph, entries


def _case_ids() -> list[str]:
    if not (SUITE / "manifest.ttl").exists():
        return []  # test_the_vendored_suite_is_complete fails
    _, entries = _manifest()
    return [str(e).rsplit("#", 1)[-1] for e in entries]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory):
    """A server over a store holding data1–3.nt in named graphs named by their remote IRIs."""
    graph, _ = _manifest()
    mapping: dict[str, Path] = {}
    for data in graph.objects(None, UT.graphData):
        label = str(graph.value(data, RDFS.label))
        mapping[label] = SUITE / Path(str(graph.value(data, UT.graph))).name
    store_dir = tmp_path_factory.mktemp("protocol") / "store"
    store = open_store(Settings(store_dir=store_dir))
    for iri, path in sorted(mapping.items()):
        triples = [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)]
        store.replace_graphs({ox.NamedNode(iri): triples})
    store.close()
    del store
    with live_server(store_dir) as url:
        yield url


def _request(graph: Graph, node, url: str, client: httpx.Client) -> httpx.Response:
    path = str(graph.value(node, HT.absolutePath))
    assert path.startswith("/sparql/")
    headers = {}
    header_list = graph.value(node, HT.headers)
    if header_list is not None:
        for header in Collection(graph, header_list):
            headers[str(graph.value(header, HT.fieldName))] = str(graph.value(header, HT.fieldValue))
    body = graph.value(node, HT.body)
    content = None
    if body is not None:
        encoding = str(graph.value(body, CNT.characterEncoding) or "UTF-8")
        content = str(graph.value(body, CNT.chars)).encode(encoding.lower())
    method = str(graph.value(node, HT.methodName))
    return client.request(method, url + path, headers=headers, content=content)


def _boolean(response: httpx.Response) -> bool:
    media = response.headers["content-type"].split(";")[0]
    if media == "application/sparql-results+xml":
        root = ElementTree.fromstring(response.content)
        return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"
    return json.loads(response.content)["boolean"]


def test_the_vendored_suite_is_complete() -> None:
    names = ("manifest.ttl", "data1.nt", "data2.nt", "data3.nt", "LICENSE.md")
    assert [n for n in names if not (SUITE / n).is_file()] == [], f"the suite at {SUITE} is incomplete"
    assert len(_case_ids()) == CASES


@pytest.mark.parametrize("case", _case_ids())
def test_protocol_case(case: str, endpoint: str) -> None:
    if case in UPDATE_CASES:
        pytest.skip(f"{case}: needs SPARQL Update; the endpoint is read-only by design (issue 5)")
    graph, entries = _manifest()
    entry = next(e for e in entries if str(e).endswith("#" + case))
    action = graph.value(entry, MF.action)
    requests = list(Collection(graph, graph.value(action, HT.requests)))
    with httpx.Client(timeout=20, follow_redirects=False) as client:
        for node in requests:
            response = _request(graph, node, endpoint, client)
            expected = graph.value(node, HT.resp)
            classes = {str(s).removeprefix(HTS)[0] for s in graph.objects(expected, MF.expectedStatus)}
            assert str(response.status_code)[0] in classes, (case, response.status_code, response.text)
            fmt = graph.value(expected, MF.expectedFormat)
            media = response.headers.get("content-type", "").split(";")[0]
            if fmt is not None and str(fmt) in {"boolean", "tabular"}:
                assert media in RESULT_TYPES, (case, media)
            if fmt is not None and str(fmt) == "RDF":
                assert media in RDF_TYPES, (case, media)
            boolean = graph.value(expected, MF.expectedBoolean)
            if boolean is not None:
                assert _boolean(response) is boolean.toPython(), (case, response.text)
