"""Content negotiation by the book (RFC 9110 §12.5.1): `q=0` refuses a type, however broad the
range that would otherwise accept it; the most specific range that matches a type gives its quality.

Unit tests of `choose` with the lists of types the routes offer, then one live `khadamat serve`
answering the same headers on /sparql.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from khadamat.api.negotiation import (
    GRAPH_ALIASES,
    GRAPH_TYPES,
    RESULT_ALIASES,
    RESULT_TYPES,
    choose,
    wants_html,
)
from khadamat.api.testing import dataset_server

from khadamat.namespaces import sparql_prologue

RESULTS = list(RESULT_TYPES)
JSON, XML, CSV, TSV = RESULTS
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # The two headers of issue 11: a refused type is not chosen through a wildcard.
        ("text/*;q=0.5, text/csv;q=0", TSV),
        ("application/sparql-results+json;q=0, */*", XML),
        # Refusing an alias refuses the type it stands for.
        ("application/json;q=0, */*", XML),
        ("text/csv;q=0, text/tab-separated-values;q=0, text/*", None),
        # Quality first, then the most specific range, then the order offered.
        ("text/csv;q=0.5, application/sparql-results+json;q=0.9", JSON),
        ("*/*, text/csv", CSV),
        ("*/*", JSON),
        ("text/*", CSV),
        ("application/json", JSON),
        ("Text/CSV", CSV),  # media types are case-insensitive
        ("text/csv; charset=utf-8", CSV),
        # Nothing offered is acceptable: the caller answers 406 or its default.
        ("text/turtle", None),
        ("*/*;q=0", None),
        # No preference stated: the first offered.
        (None, JSON),
        ("", JSON),
        ("  ", JSON),
        # A malformed range is ignored, the others still count.
        ("nonsense, text/csv", CSV),
    ],
)
def test_choose_among_result_types(header: str | None, expected: str | None) -> None:
    assert choose(header, RESULTS, RESULT_ALIASES) == expected


def test_graph_types_and_their_aliases() -> None:
    graphs = list(GRAPH_TYPES)
    assert choose("application/json", graphs, GRAPH_ALIASES) == "application/ld+json"
    assert choose("text/plain", graphs, GRAPH_ALIASES) == "application/n-triples"
    # text/plain stands for N-Triples when named, not through `text/*`: the answer is not text/plain.
    assert choose("text/*;q=0.5, text/turtle;q=0", graphs, GRAPH_ALIASES) is None
    assert choose("text/turtle;q=0, */*", graphs, GRAPH_ALIASES) == "application/n-triples"


def test_browsers_get_html_and_clients_that_refuse_it_do_not() -> None:
    assert wants_html(FIREFOX)
    assert not wants_html(None)
    assert not wants_html("text/html;q=0, */*")
    assert not wants_html("text/*;q=0.9, text/html;q=0, text/turtle")


@pytest.fixture(scope="module")
def sparql(tmp_path_factory: pytest.TempPathFactory):
    fixture = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"
    with dataset_server(tmp_path_factory.mktemp("negotiation") / "store", fixture) as (url, _base):
        yield url + "/sparql"


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("text/*;q=0.5, text/csv;q=0", TSV),
        ("application/sparql-results+json;q=0, */*", XML),
        ("application/json;q=0, text/csv;q=0.1, */*;q=0.01", CSV),
    ],
)
def test_the_sparql_endpoint_honours_q_0(sparql: str, accept: str, content_type: str) -> None:
    query = sparql_prologue() + "SELECT ?s WHERE { ?s a kh:Service } LIMIT 2"
    response = httpx.get(sparql, params={"query": query}, headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == content_type


def test_the_sparql_endpoint_refuses_what_every_accepted_range_refuses(sparql: str) -> None:
    query = sparql_prologue() + "SELECT ?s WHERE { ?s a kh:Service } LIMIT 2"
    response = httpx.get(sparql, params={"query": query}, headers={"Accept": "*/*;q=0"}, timeout=30)
    assert response.status_code == 406
