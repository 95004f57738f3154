"""A timed-out query kept running and kept its slot: 8 slow queries made every route 503 until
restart, and a timed-out ORDER BY over a path kept growing memory by ~25 MB/s.

Now the worker running a query past its limit is killed: the client gets 503 at the limit, the
slot is free again within the limit plus 2 s, and the memory the query held is given back.
"""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from tests.security.endpoint_support import wait_until_idle
from tests.security.server_watch import MiB, Server, assert_clean, assert_serving, served, tree_rss, watch

TIMEOUT = 1.0
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PATH_ORDER = "SELECT * WHERE { ?a (<http://x/p>|!<http://x/q>)* ?b } ORDER BY ?b ?a"
STOPPED = f"the query ran longer than the time limit of {TIMEOUT:g} s and was stopped"
BUSY = "every query worker is busy; try again in a few seconds"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    flags = ["--query-timeout", str(TIMEOUT), "--sparql-workers", "3"]
    with served(tmp_path_factory.mktemp("timeout"), flags) as running:
        yield running


def slow_round(server: Server, count: int) -> list[httpx.Response]:
    queries = [f"{CARTESIAN} # {i} {time.monotonic_ns()}" for i in range(count)]  # distinct: no sharing
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(server.sparql, queries))


def test_eight_slow_queries_free_their_slots(server: Server) -> None:
    for _ in range(2):  # before: the second round found every slot still taken, for good
        with watch(server, probes=("/health", "/services?size=1")) as seen:
            started = time.monotonic()
            responses = slow_round(server, 8)
            elapsed = time.monotonic() - started
        for response in responses:
            assert response.status_code == 503
            assert response.text.strip() in (STOPPED + _HINT, BUSY), response.text
            assert_clean(response)
        assert sum(r.text.startswith(STOPPED) for r in responses) >= 3  # each worker ran one
        assert elapsed < TIMEOUT + 1.0  # every client had its answer at the limit
        assert seen.worst("/health") < 1.0
        assert seen.worst("/services?size=1") < 1.0
        wait_until_idle(server, within=TIMEOUT + 2.0)
        assert_serving(server)
        seen.report("8 slow queries")


_HINT = (
    "; narrow it (add LIMIT, filters or a more specific pattern) or ask the operator to raise --query-timeout"
)


def test_a_timed_out_sort_gives_its_memory_back(server: Server) -> None:
    wait_until_idle(server, within=TIMEOUT + 2.0)
    before = tree_rss(server.pid)
    with watch(server, probes=("/health", "sparql")) as seen:
        response = server.sparql(PATH_ORDER)
        assert response.status_code == 503
        assert response.text.startswith(STOPPED)
        wait_until_idle(server, within=TIMEOUT + 2.0)
    seen.report("timed-out ORDER BY over a path")
    assert seen.worst("/health") < 1.0
    assert seen.worst("sparql") < 1.0
    time.sleep(0.5)
    assert tree_rss(server.pid) < before + 64 * MiB  # the killed worker's memory is gone
    assert_serving(server)
