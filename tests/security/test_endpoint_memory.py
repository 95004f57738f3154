"""A query that grows memory without bound (a sort over a cartesian product) ran in the server.

Now it runs in a query worker with a memory budget: past it the worker is killed, the client
gets 503 naming the limit and its setting, the server's memory never grows by more than the
budget, and everything else keeps answering within 1 s.
"""

from __future__ import annotations

import time

import pytest

from tests.security.endpoint_support import wait_until_idle
from tests.security.server_watch import MiB, Server, assert_clean, assert_serving, served, tree_rss, watch

BUDGET = 256 * MiB
SORTED_PRODUCT = "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f } ORDER BY ?f ?d ?b"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    flags = ["--sparql-worker-memory", str(BUDGET), "--sparql-workers", "2", "--query-timeout", "30"]
    with served(tmp_path_factory.mktemp("memory"), flags) as running:
        yield running


def test_a_query_over_its_memory_budget_is_stopped(server: Server) -> None:
    before = tree_rss(server.pid)
    with watch(server, probes=("/health", "sparql")) as seen:
        started = time.monotonic()
        response = server.sparql(SORTED_PRODUCT)
        elapsed = time.monotonic() - started
        wait_until_idle(server, within=5.0)
    seen.report("sort over a cartesian product, 256 MiB budget")
    assert response.status_code == 503
    assert response.text.startswith(
        "the query needed more memory than the limit of 256 MiB and was stopped "
        "(setting worker_memory_bytes, khadamat serve --sparql-worker-memory)"
    )
    assert_clean(response)
    assert elapsed < 30  # stopped by memory, not by the time limit
    assert seen.peak_rss < before + BUDGET + 64 * MiB
    assert seen.worst("/health") < 1.0
    assert seen.worst("sparql") < 1.0
    time.sleep(0.5)
    assert tree_rss(server.pid) < before + 64 * MiB
    assert_serving(server)
