"""Queries that crashed `khadamat serve` (SIGSEGV in the parser/planner) or planned for minutes.

With the default budgets the guard refuses them before any engine sees them, naming the limit
and its setting. With the budgets lifted, the same queries reach a query worker and crash it:
the client gets 400 "too complex", the worker is replaced, and the server never stops answering.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.security.endpoint_support import wait_until_idle
from tests.security.server_watch import Server, assert_clean, assert_serving, served, watch

NESTED = "SELECT * WHERE { FILTER(" + "(" * 5_000 + "1" + ")" * 5_000 + ") }"  # ~10 KB
DEEPER = "SELECT * WHERE { FILTER(" + "(" * 100_000 + "1" + ")" * 100_000 + ") }"
PATTERNS = "SELECT * WHERE { " + "".join(f"?a{i} ?b ?a{i + 1}." for i in range(5_000)) + " }"  # 83 KB
SAME_PATTERNS = "SELECT * WHERE { " + "?a ?b ?c." * 5_000 + " }"  # 45 KB
LIFTED = [
    "--sparql-max-query-bytes", "10000000",
    "--sparql-max-depth", "10000000",
    "--sparql-max-tokens", "10000000",
    "--sparql-max-triple-patterns", "10000000",
    "--query-timeout", "3",
    "--sparql-workers", "2",
]  # fmt: skip


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory):
    with served(tmp_path_factory.mktemp("crash-guarded"), ["--sparql-workers", "2"]) as server:
        yield server


@pytest.fixture(scope="module")
def lifted(tmp_path_factory: pytest.TempPathFactory):
    with served(tmp_path_factory.mktemp("crash-lifted"), LIFTED) as server:
        yield server


def test_deep_nesting_is_refused_by_its_budget(guarded: Server) -> None:
    response = guarded.sparql(NESTED)
    assert response.status_code == 400
    assert response.text.startswith("the query nests groups or brackets at least ")
    assert (
        "deep, over the limit of 64 (setting max_depth, khadamat serve --sparql-max-depth)" in response.text
    )
    assert_serving(guarded)


def test_thousands_of_triple_patterns_are_refused_by_their_budget(guarded: Server) -> None:
    response = guarded.sparql(SAME_PATTERNS)
    assert response.status_code == 400
    assert response.text.startswith("the query has at least ")
    assert (
        "triple-pattern separators (. ; ,), over the limit of 400 "
        "(setting max_triple_patterns, khadamat serve --sparql-max-triple-patterns)"
    ) in response.text
    assert_serving(guarded)


def test_an_oversized_query_is_refused_by_its_length(guarded: Server) -> None:
    response = guarded.sparql("SELECT * WHERE { ?s ?p ?o } #" + "x" * 70_000)
    assert response.status_code == 400
    assert "bytes long, over the limit of 65536 (setting max_query_bytes" in response.text
    big_body = httpx.post(
        guarded.url + "/sparql",
        content=b"x" * (4 * 2**20),
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    assert big_body.status_code == 413
    assert_serving(guarded)


@pytest.mark.parametrize("query", [DEEPER, PATTERNS], ids=["100k-nested-parentheses", "5k-triple-patterns"])
def test_a_query_that_crashes_or_stalls_the_engine_costs_one_worker(lifted: Server, query: str) -> None:
    with watch(lifted, probes=("/health", "sparql")) as seen:
        response = lifted.sparql(query)
    seen.report(f"crash {query[:30]!r}… {len(query)} bytes")
    if query is DEEPER:  # the parser's recursion overflows the worker's stack (SIGSEGV)
        assert response.status_code == 400
        assert response.text.startswith("the query is too complex to evaluate")
    else:  # planning runs past the time limit: the worker is killed
        assert response.status_code == 503
        assert response.text.startswith("the query ran longer than the time limit of 3 s and was stopped")
    assert_clean(response)
    assert seen.worst("/health") < 1.0
    assert seen.worst("sparql") < 1.0
    wait_until_idle(lifted, within=2.0)
    assert_serving(lifted)


def test_the_worker_process_really_died_and_was_replaced(lifted: Server, tmp_path: Path) -> None:
    import psutil

    before = {p.pid for p in psutil.Process(lifted.pid).children() if "spawn" in " ".join(p.cmdline())}
    assert lifted.sparql(DEEPER).status_code == 400
    wait_until_idle(lifted, within=2.0)
    after = {p.pid for p in psutil.Process(lifted.pid).children() if "spawn" in " ".join(p.cmdline())}
    assert psutil.pid_exists(lifted.pid)
    assert len(before - after) == 1 and len(after - before) == 1  # one worker gone, one new
    assert_serving(lifted)
