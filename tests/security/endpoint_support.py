"""What the endpoint attack tests share: a live server on the fixture catalog, a watcher that
samples the server's memory and probes it while an attack runs, and the checks every answer
must pass (no internal error text)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from khadamat.api.testing import free_port, live_server, load_dataset_file

from khadamat.namespaces import sparql_prologue
from tests.security.upload_attacks import server_pid, tree_rss

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "api" / "catalog.trig"
P = sparql_prologue()
ORDINARY = P + 'SELECT ?title WHERE { ?s kh:serviceId "22010000001" ; dct:title ?title }'
SPARQL_RESULTS = "application/sparql-results+json"
# What must never reach a client: OS errors, Rust/Python internals, addresses.
INTERNAL = re.compile(
    r"os error|errno|Traceback|Connection|\.rs:|panicked|127\.0\.0\.1|PermissionError|pyoxigraph",
    re.IGNORECASE,
)
MiB = 2**20


@dataclass
class Server:
    url: str
    pid: int

    def sparql(self, query: str, client: httpx.Client | None = None, timeout: float = 30.0) -> httpx.Response:
        """POST a query directly (application/sparql-query), asking for JSON results."""
        headers = {"Content-Type": "application/sparql-query", "Accept": SPARQL_RESULTS}
        sender = client or httpx
        return sender.post(
            self.url + "/sparql", content=query.encode("utf-8"), headers=headers, timeout=timeout
        )

    def health(self) -> dict:
        response = httpx.get(self.url + "/health", timeout=5)
        assert response.status_code == 200
        return response.json()


@contextmanager
def endpoint_server(tmp: Path, flags: Sequence[str] = ()) -> Iterator[Server]:
    """A live `khadamat serve` over the fixture catalog, with extra command-line flags."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/id/"
    load_dataset_file(tmp / "store", base, FIXTURE)
    with live_server(tmp / "store", base=base, port=port, extra_args=list(flags)) as url:
        yield Server(url, server_pid(url))


def assert_clean(response: httpx.Response) -> None:
    """An error answer carries a fixed message: nothing of the machine's internals."""
    assert not INTERNAL.search(response.text), response.text


def assert_serving(server: Server, sparql: bool = True) -> None:
    """/health, and an ordinary SPARQL query, answer correctly within 1 s."""
    started = time.monotonic()
    assert httpx.get(server.url + "/health", timeout=5).status_code == 200
    assert time.monotonic() - started < 1.0, "/health took too long"
    if sparql:
        started = time.monotonic()
        response = server.sparql(ORDINARY + f" # {time.monotonic_ns()}", timeout=5)  # no cache hit
        assert response.status_code == 200, response.text
        assert response.json()["results"]["bindings"], response.text
        assert time.monotonic() - started < 1.0, "an ordinary query took too long"


@dataclass
class Watch:
    """Peak memory of the server's process tree and the latencies of probes during an attack."""

    first_rss: int = 0
    peak_rss: int = 0
    peak_main_rss: int = 0
    latencies: dict[str, list[float | None]] = field(default_factory=dict)

    def worst(self, path: str) -> float:
        seen = self.latencies.get(path, [])
        assert seen, f"no probe of {path} ran"
        return max(x if x is not None else float("inf") for x in seen)

    def report(self, name: str) -> str:
        line = (
            f"[{name}] server tree peak RSS {self.peak_rss / MiB:.0f} MiB "
            f"(before {self.first_rss / MiB:.0f} MiB; "
            f"serving process alone {self.peak_main_rss / MiB:.0f} MiB)"
        )
        print(line)
        return line


def _main_rss(pid: int) -> int:
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


@contextmanager
def watch(server: Server, probes: Sequence[str] = ("/health",), every: float = 0.2) -> Iterator[Watch]:
    """Sample the server tree's memory and probe `probes` (paths; "sparql" = an ordinary query)."""
    seen = Watch(first_rss=tree_rss(server.pid))
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.peak_rss = max(seen.peak_rss, tree_rss(server.pid))
            seen.peak_main_rss = max(seen.peak_main_rss, _main_rss(server.pid))
            stop.wait(0.05)

    def probe(path: str) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    if path == "sparql":
                        response = server.sparql(ORDINARY + f" # {time.monotonic_ns()}", client)
                    else:
                        response = client.get(server.url + path)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                seen.latencies.setdefault(path, []).append(time.monotonic() - started if ok else None)
                stop.wait(every)

    threads = [threading.Thread(target=sample, daemon=True)]
    threads += [threading.Thread(target=probe, args=(p,), daemon=True) for p in probes]
    for thread in threads:
        thread.start()
    try:
        yield seen
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)


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
