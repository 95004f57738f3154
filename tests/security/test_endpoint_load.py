"""Load: 2 clients sending pathological queries beside 10 ordinary clients, for a few seconds.

Bounded (loopback only, stops by itself): the ordinary clients' 99th percentile stays under 1 s
and every query worker slot is free again within the time limit plus 2 s after the attack.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.security.endpoint_support import wait_until_idle
from tests.security.server_watch import ORDINARY, Server, assert_serving, served, watch

TIMEOUT = 2.0
DURATION = 5.0
PATHOLOGICAL = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",  # runs to the time limit
    "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f } ORDER BY ?f ?d ?b",  # grows to the memory budget
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    flags = [
        "--query-timeout",
        str(TIMEOUT),
        "--sparql-workers",
        "4",
        "--sparql-worker-memory",
        str(384 * 2**20),
    ]
    with served(tmp_path_factory.mktemp("load"), flags) as running:
        yield running


@pytest.mark.slow
def test_ordinary_clients_beside_pathological_ones(server: Server) -> None:
    end = time.monotonic() + DURATION
    ordinary: list[float] = []
    failures: list[str] = []
    pathological: list[int] = []

    def ordinary_client(n: int) -> None:
        with httpx.Client(timeout=30.0) as client:
            i = 0
            while time.monotonic() < end:
                started = time.monotonic()
                response = server.sparql(f"{ORDINARY} # client {n} request {i}", client)
                ordinary.append(time.monotonic() - started)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:80]}")
                i += 1

    def pathological_client(query: str) -> None:
        with httpx.Client(timeout=60.0) as client:
            i = 0
            while time.monotonic() < end:
                pathological.append(server.sparql(f"{query} # {i}", client).status_code)
                i += 1

    threads = [threading.Thread(target=pathological_client, args=(q,)) for q in PATHOLOGICAL]
    threads += [threading.Thread(target=ordinary_client, args=(n,)) for n in range(10)]
    with watch(server, probes=("/health",)) as seen:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DURATION + TIMEOUT + 30)
        stopped = time.monotonic()
        idle_after = wait_until_idle(server, within=TIMEOUT + 2.0)
    ordinary.sort()
    p99 = ordinary[int(len(ordinary) * 0.99) - 1]
    line = seen.report("load: 2 pathological + 10 ordinary clients")
    print(
        f"{line}; {len(ordinary)} ordinary queries, p50 {ordinary[len(ordinary) // 2] * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {ordinary[-1] * 1000:.0f} ms; pathological answers {pathological}; "
        f"slots idle {time.monotonic() - stopped:.2f} s after the clients stopped ({idle_after:.2f} s waited)"
    )
    assert failures == []
    assert len(ordinary) > 100
    assert p99 < 1.0
    assert set(pathological) == {503}
    assert seen.worst("/health") < 1.0
    assert_serving(server)
