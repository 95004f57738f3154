"""The old guard's regexes backtracked: 80 KB of `'\\` pairs froze every route for ~23 s.

The tokenizer that replaced them (api/sparql_lexer.py) matches each token once, without
backtracking, and stops at the first string that does not close. Hostile texts of the largest
allowed size are answered at once with 400, while /health keeps answering within 1 s; and the
tokenizer itself reads a megabyte of each hostile shape in well under a second.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from khadamat.api.sparql_lexer import LexicalError, measure

from tests.security.endpoint_support import hammer
from tests.security.server_watch import Server, assert_clean, assert_serving, served, watch

HOSTILE = {
    "quote-backslash pairs": "'\\" * 30_000,
    "string escapes without end": "SELECT * WHERE { ?s ?p '" + "\\'" * 30_000,
    "unclosed long string": 'SELECT * WHERE { ?s ?p """' + 'a\\"' * 20_000,
    "IRI openers": "<a" * 30_000,
    "dotted names": "SELECT * WHERE { ?s ?p ex:a" + "." * 60_000,
    "words and dots": "a." * 30_000,
    "unicode escapes": "SELECT * WHERE { " + "\\u0041" * 10_000,
    "comment openers": "#\\'\n" * 15_000,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with served(tmp_path_factory.mktemp("lexer"), ["--sparql-workers", "2"]) as running:
        yield running


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_is_answered_at_once(server: Server, name: str) -> None:
    query = HOSTILE[name]
    assert len(query.encode()) <= 65_536
    started = time.monotonic()
    response = server.sparql(query)
    assert time.monotonic() - started < 1.0
    assert response.status_code == 400, response.text
    assert response.text.startswith("the query "), response.text
    assert_clean(response)
    with watch(server, probes=("/health",), every=0.05) as seen:
        responses = hammer(server, query, seconds=1.0, clients=4)  # 4 clients for a second
    assert {r.status_code for r in responses} == {400}
    assert seen.worst("/health") < 1.0
    assert_serving(server)


def test_the_original_80_kb_attack_is_refused_by_its_length(server: Server) -> None:
    response = server.sparql("'\\" * 40_000)
    assert response.status_code == 400
    assert response.text.startswith("the query is 80000 bytes long, over the limit of 65536")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_tokenizer_is_linear(name: str) -> None:
    """256 KB of each shape (4 times the default limit) is read in well under a second."""
    text = HOSTILE[name] * 4
    started = time.perf_counter()
    with contextlib.suppress(LexicalError):
        measure(text)
    assert time.perf_counter() - started < 1.0
