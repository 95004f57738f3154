"""The SPARQL endpoint against real clients: SPARQLWrapper, rdflib's SPARQLStore and httpx.

A live `khadamat serve` on 127.0.0.1 serves a store loaded from tests/fixtures/api/catalog.trig;
every answer is compared with what the same store answers in-process (the engine the CLI uses).
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from khadamat.api.testing import dataset_server, live_server, load_dataset_file
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

from khadamat.cli import main
from khadamat.config import Settings
from khadamat.namespaces import sparql_prologue
from khadamat.store import open_store

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"
P = sparql_prologue()

SELECT_TITLES = (
    P
    + """SELECT ?service ?title WHERE {
  ?service a kh:Service ; dct:title ?title ; kh:provider ?agency .
  ?agency kh:agencyCode "sso" } ORDER BY ?service"""
)
ASK_TAX = P + 'ASK { ?s kh:serviceId "22010000001" }'
ASK_MISSING = P + 'ASK { ?s kh:serviceId "99999999999" }'
CONSTRUCT_MISSIONS = P + "CONSTRUCT { ?s kh:realizesMission ?m } WHERE { ?s kh:realizesMission ?m }"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """(url, store dir, base) of a live server over the fixture catalog."""
    store_dir = tmp_path_factory.mktemp("api-sparql") / "store"
    with dataset_server(store_dir, FIXTURE) as (url, base):
        yield url, store_dir, base


def expected_store(store_dir: Path, base: str):
    # The server holds the store read-only; a second read-only handle is allowed.
    return open_store(Settings(store_dir=store_dir, base=base), read_only=True)


def rdflib_graph(triples: list[ox.Triple]) -> set:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return set(rdflib.Graph().parse(data=data.decode("utf-8"), format="nt"))


def test_select_with_sparqlwrapper_equals_store(served) -> None:
    url, store_dir, base = served
    client = SPARQLWrapper(url + "/sparql")
    client.setQuery(SELECT_TITLES)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    got = [(r["service"]["value"], r["title"]["value"], r["title"].get("xml:lang")) for r in rows]
    want = [
        (r["service"].value, r["title"].value, r["title"].language)
        for r in expected_store(store_dir, base).select(SELECT_TITLES)
    ]
    assert got == want
    assert (base + "agency/sso/service/13091728000", "صدور دفترچه بيمه", "fa") in got


def test_select_equals_the_cli(served, tmp_path: Path) -> None:
    """The endpoint and `khadamat query FILE --format json` give the same rows."""
    url, store_dir, base = served
    query_file = tmp_path / "titles.rq"
    query_file.write_text(SELECT_TITLES, encoding="utf-8")
    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            main(["query", str(query_file), "--store", str(store_dir), "--base", base, "--format", "json"])
            == 0
        )
    cli_rows = [(r["service"], r["title"]) for r in json.loads(out.getvalue())]
    client = SPARQLWrapper(url + "/sparql")
    client.setQuery(SELECT_TITLES)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [(r["service"]["value"], r["title"]["value"]) for r in rows] == cli_rows
    assert len(cli_rows) == 2


def test_select_xml_csv_tsv_carry_the_same_rows(served) -> None:
    url, _, base = served
    service = base + "agency/sso/service/13091728100"
    answers = {}
    for media in ("application/sparql-results+xml", "text/csv", "text/tab-separated-values"):
        response = httpx.get(url + "/sparql", params={"query": SELECT_TITLES}, headers={"Accept": media})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        answers[media] = response.text
    assert f"<uri>{service}</uri>" in answers["application/sparql-results+xml"]
    rows = list(csv.DictReader(io.StringIO(answers["text/csv"])))
    assert {"service": service, "title": "تمدید اعتبار دفترچه بیمه"} in rows
    assert f'<{service}>\t"تمدید اعتبار دفترچه بیمه"@fa' in answers["text/tab-separated-values"]


def test_ask_with_sparqlwrapper(served) -> None:
    url, _, _ = served
    for query, expected in ((ASK_TAX, True), (ASK_MISSING, False)):
        client = SPARQLWrapper(url + "/sparql")
        client.setQuery(query)
        client.setReturnFormat(XML)
        result = client.query().convert()
        value = result.getElementsByTagName("boolean")[0].firstChild.data
        assert value == ("true" if expected else "false")


def test_construct_and_describe_with_sparqlwrapper_equal_store(served) -> None:
    url, store_dir, base = served
    describe = f"DESCRIBE <{base}agency/sso>"
    store = expected_store(store_dir, base)
    for query in (CONSTRUCT_MISSIONS, describe):
        client = SPARQLWrapper(url + "/sparql")
        client.setQuery(query)
        client.setReturnFormat(TURTLE)
        data = client.query().convert()
        got = set(rdflib.Graph().parse(data=data, format="turtle"))
        assert got == rdflib_graph(store.construct(query))
        assert got  # not empty: the fixture has missions and the agency sso


def test_rdflib_sparqlstore_select_ask_construct(served) -> None:
    url, store_dir, base = served
    graph = rdflib.Graph(store=SPARQLStore(url + "/sparql"))
    rows = {(str(r.service), str(r.title)) for r in graph.query(SELECT_TITLES)}
    want = {
        (r["service"].value, r["title"].value) for r in expected_store(store_dir, base).select(SELECT_TITLES)
    }
    assert rows == want and len(rows) == 2
    assert graph.query(ASK_TAX).askAnswer is True
    assert graph.query(ASK_MISSING).askAnswer is False
    constructed = set(graph.query(CONSTRUCT_MISSIONS).graph)
    assert constructed == rdflib_graph(expected_store(store_dir, base).construct(CONSTRUCT_MISSIONS))


@pytest.mark.parametrize(
    ("media", "probe"),
    [
        ("text/turtle", "kh:realizesMission"),
        ("application/n-triples", "<https://w3id.org/khadamat/ontology#realizesMission>"),
        ("application/ld+json", '"https://w3id.org/khadamat/ontology#realizesMission"'),
        ("application/rdf+xml", "realizesMission"),
        ("application/trig", "kh:realizesMission"),
    ],
)
def test_graph_formats_by_accept(served, media: str, probe: str) -> None:
    url, _, _ = served
    response = httpx.post(
        url + "/sparql",
        content=CONSTRUCT_MISSIONS.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": media},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert probe in response.text
    parsed = list(ox.parse(response.content, format=ox.RdfFormat.from_media_type(media)))
    assert len(parsed) == 2  # both services of sso realize sso-m1


def test_malformed_query_gets_400_with_parser_message(served) -> None:
    url, _, _ = served
    response = httpx.get(url + "/sparql", params={"query": "SELECT ?s WHERE { ?s ?p "})
    assert response.status_code == 400
    assert "not valid SPARQL" in response.text and "error at 1:" in response.text


def test_update_is_refused(served) -> None:
    url, store_dir, base = served
    response = httpx.post(url + "/sparql", data={"update": "CLEAR ALL"})
    assert response.status_code == 403 and "read-only" in response.text
    response = httpx.post(
        url + "/sparql", content=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"}
    )
    assert response.status_code == 403
    assert expected_store(store_dir, base).ask(ASK_TAX)


def test_same_request_is_answered_from_the_cache(served) -> None:
    url, _, _ = served
    query = SELECT_TITLES + " # cache probe"
    first = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    second = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    other_format = httpx.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "text/tab-separated-values"}
    )
    assert first.headers["x-khadamat-cache"] == "miss" and second.headers["x-khadamat-cache"] == "hit"
    assert first.text == second.text
    assert other_format.headers["x-khadamat-cache"] == "miss" and other_format.text != first.text


def test_federated_query_is_refused(served) -> None:
    url, _, _ = served
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    response = httpx.get(url + "/sparql", params={"query": query})
    assert response.status_code == 403 and "SERVICE" in response.text
    # The word as a variable or inside a string is no federated query.
    ok = httpx.get(url + "/sparql", params={"query": 'SELECT ?service WHERE { BIND("SERVICE" AS ?service) }'})
    assert ok.status_code == 200


def test_default_graph_uri_restricts_the_dataset(served) -> None:
    url, _, base = served
    query = P + "SELECT ?s WHERE { ?s kh:serviceId ?id } ORDER BY ?s"
    only_tax = httpx.get(
        url + "/sparql",
        params={"query": query, "default-graph-uri": base + "graph/agency/tax"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    assert [b["s"]["value"] for b in only_tax["results"]["bindings"]] == [
        base + "agency/tax/service/22010000001"
    ]


def test_browser_without_query_goes_to_the_editor(served) -> None:
    url, _, _ = served
    response = httpx.get(url + "/sparql", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/query"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory):
    """A server with a 2-row cap and a 1-second time limit, CORS open to one origin."""
    store_dir = tmp_path_factory.mktemp("api-limits") / "store"
    load_dataset_file(store_dir, "https://w3id.org/khadamat/id/", FIXTURE)
    args = ["--result-limit", "2", "--query-timeout", "1", "--cors-origin", "http://example.org"]
    with live_server(store_dir, extra_args=args) as url:
        yield url


def test_result_cap_is_stated(limited: str) -> None:
    response = httpx.get(
        limited + "/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 2
    assert response.headers["x-khadamat-truncated"].startswith("true")
    assert response.headers["x-khadamat-result-limit"] == "2"
    small = httpx.get(limited + "/sparql", params={"query": "SELECT (1 AS ?x) {}"})
    assert "x-khadamat-truncated" not in small.headers


def test_cors_header_for_the_configured_origin(limited: str) -> None:
    response = httpx.get(
        limited + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://example.org"}
    )
    assert response.headers["access-control-allow-origin"] == "http://example.org"
    other = httpx.get(
        limited + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_slow_query_is_stopped_and_does_not_block_the_server(limited: str) -> None:
    # ~10^9 combinations that never match: no solution is ever produced, so only the time limit ends it.
    slow = (
        "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
        'FILTER(CONCAT(STR(?c), STR(?f), STR(?i)) = "never") }'
    )
    outcome: dict[str, httpx.Response] = {}

    def run() -> None:
        outcome["slow"] = httpx.get(limited + "/sparql", params={"query": slow}, timeout=30)

    worker = threading.Thread(target=run)
    started = time.monotonic()
    worker.start()
    time.sleep(0.3)
    quick = httpx.get(limited + "/sparql", params={"query": "ASK {}"}, timeout=5)
    quick_after = time.monotonic() - started
    worker.join(30)
    assert quick.status_code == 200 and json.loads(quick.text)["boolean"] is True
    assert quick_after < 1.0, "the event loop was blocked by the slow query"
    assert outcome["slow"].status_code == 503
    assert "time limit of 1 s" in outcome["slow"].text
