"""What the endpoint attack tests share beyond the watched server (server_watch.py): a client
that repeats a query, and waiting for the query workers to be free again."""

from __future__ import annotations

import threading
import time

import httpx

from khadamat.namespaces import sparql_prologue
from tests.security.server_watch import Server

P = sparql_prologue()


def hammer(server: Server, query: str, seconds: float = 1.0, clients: int = 4) -> list[httpx.Response]:
    """Send `query` over and over from `clients` threads for `seconds`; every response."""
    responses: list[httpx.Response] = []
    end = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(timeout=30.0) as session:
            while time.monotonic() < end:
                responses.append(server.sparql(query, session))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return responses


def wait_until_idle(server: Server, within: float) -> float:
    """Seconds until /health reports no busy query worker; fails after `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if server.health()["query_workers"]["busy"] == 0:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"query workers still busy after {within} s: {server.health()}")
