"""A live `khadamat serve` under attack, watched: what every server test (and
benchmarks/bench_attacks.py) uses to say "the server was unharmed".

* `served` starts the real server over the fixture catalog on a loopback port; `Server` is its
  URL and the pid of the process listening there.
* `watch` samples, while an attack runs, the peak resident memory of the server's whole process
  tree (query workers and upload children included) and of the serving process alone, and probes
  routes (`/health`, a browse route, an ordinary SPARQL query) to record their latencies.
* `assert_serving` checks, after an attack, that the same probes answer correctly within 1 s;
  `assert_clean` that an answer carries no internal text.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from khadamat.api.testing import free_port, live_server, load_dataset_file

from khadamat.namespaces import sparql_prologue
from tests.security.store_support import FIXTURE

MiB = 2**20
SPARQL_RESULTS = "application/sparql-results+json"
# An ordinary query on the fixture catalog, with one answer: the probe named "sparql".
ORDINARY = sparql_prologue() + 'SELECT ?title WHERE { ?s kh:serviceId "22010000001" ; dct:title ?title }'
HEALTH, BROWSE, SPARQL = "/health", "/services?size=1", "sparql"
# What must never reach a client: OS errors, Python and Rust internals, addresses, the server's folders.
INTERNAL = re.compile(
    r"(?i:os error|errno|Traceback|Connection|\.rs:|panicked|127\.0\.0\.1|PermissionError|pyoxigraph)"
    r"|No such file|File \"|Exception|khadamat-upload-|/tmp/|/work/|site-packages"
)


@dataclass
class Server:
    url: str
    pid: int  # the process listening on the port (uvicorn); its children are the workers

    @classmethod
    def at(cls, url: str) -> Server:
        return cls(url, server_pid(url))

    def sparql(self, query: str, client: httpx.Client | None = None, timeout: float = 30.0) -> httpx.Response:
        """POST a query directly (application/sparql-query), asking for JSON results."""
        headers = {"Content-Type": "application/sparql-query", "Accept": SPARQL_RESULTS}
        sender = client or httpx
        return sender.post(
            self.url + "/sparql", content=query.encode("utf-8"), headers=headers, timeout=timeout
        )

    def health(self) -> dict:
        response = httpx.get(self.url + HEALTH, timeout=5)
        assert response.status_code == 200
        return response.json()


@contextmanager
def served(root: Path, flags: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """A live `khadamat serve` over the fixture catalog (a new store under `root`), with extra
    command-line flags and environment; its base is its own `/id/`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/id/"
    load_dataset_file(root / "store", base, FIXTURE)
    with live_server(root / "store", base=base, port=port, extra_args=list(flags), env=env) as url:
        yield Server.at(url)


def server_pid(url: str) -> int:
    """The process listening on the server's port (the uvicorn process `live_server` started)."""
    port = int(url.rsplit(":", 1)[1])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return conn.pid
    raise LookupError(f"no process listens on port {port}")


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def own_rss(pid: int) -> int:
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


def probe(server: Server, client: httpx.Client, name: str) -> str | None:
    """Ask one probe (a path to GET, or SPARQL = the ordinary query, never cached); None when it
    was answered correctly, else what went wrong."""
    try:
        if name == SPARQL:
            response = server.sparql(ORDINARY + f" # {time.monotonic_ns()}", client)
        else:
            response = client.get(server.url + name)
    except httpx.HTTPError as exc:
        return f"{name}: {exc!r}"
    if response.status_code != 200:
        return f"{name}: {response.status_code} {response.text[:200]}"
    if name == SPARQL and not response.json()["results"]["bindings"]:
        return f"{name}: no answer {response.text[:200]}"
    return None


@dataclass
class Watch:
    """What the watcher saw: peak memory, and every probe's latency by probe (None = it failed)."""

    first_rss: int = 0  # the server tree when the watch began
    peak_rss: int = 0  # the server tree at its largest
    peak_main_rss: int = 0  # the serving process alone at its largest
    latencies: dict[str, list[float | None]] = field(default_factory=dict)

    def seen(self, path: str | None = None) -> list[float | None]:
        """The latencies of one probe, or of all; a probe that never ran fails the test."""
        found = self.latencies.get(path, []) if path else [x for xs in self.latencies.values() for x in xs]
        assert found, f"no probe of {path or 'any route'} ran"
        return found

    def worst(self, path: str | None = None) -> float:
        """The slowest answer of one probe (or of all): infinite when one failed."""
        return max(x if x is not None else float("inf") for x in self.seen(path))

    def p99(self, path: str | None = None) -> float:
        ordered = sorted(x if x is not None else float("inf") for x in self.seen(path))
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    @property
    def grew(self) -> int:
        """Peak over resting, in bytes."""
        return self.peak_rss - self.first_rss

    def report(self, name: str) -> str:
        line = (
            f"[{name}] server tree peak RSS {self.peak_rss / MiB:.0f} MiB "
            f"(before {self.first_rss / MiB:.0f} MiB, {self.grew / MiB:+.0f} MiB; "
            f"serving process alone {self.peak_main_rss / MiB:.0f} MiB)"
        )
        print(line)
        return line


@contextmanager
def watch(server: Server, probes: Sequence[str] = (HEALTH, BROWSE), every: float = 0.2) -> Iterator[Watch]:
    """Sample the server tree's memory and ask each probe every `every` s (at least once), until
    the block ends."""
    seen = Watch(first_rss=tree_rss(server.pid))
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.peak_rss = max(seen.peak_rss, tree_rss(server.pid))
            seen.peak_main_rss = max(seen.peak_main_rss, own_rss(server.pid))
            stop.wait(0.05)

    def ask(name: str) -> None:
        with httpx.Client(timeout=10.0) as client:
            while True:
                started = time.monotonic()
                failed = probe(server, client, name)
                seen.latencies.setdefault(name, []).append(None if failed else time.monotonic() - started)
                if stop.wait(every):
                    return

    threads = [threading.Thread(target=sample, daemon=True)]
    threads += [threading.Thread(target=ask, args=(name,), daemon=True) for name in probes]
    for thread in threads:
        thread.start()
    try:
        yield seen
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)


def assert_clean(response: httpx.Response) -> None:
    """An answer (its body and header values) carries nothing of the machine's internals."""
    found = INTERNAL.search(response.text + " " + " ".join(response.headers.values()))
    assert found is None, (found, response.text[:500])


def assert_serving(server: Server, probes: Sequence[str] = (HEALTH, BROWSE, SPARQL)) -> None:
    """Each probe answers correctly within 1 s: /health, a browse route, an ordinary query."""
    with httpx.Client(timeout=5.0) as client:
        for name in probes:
            started = time.monotonic()
            failed = probe(server, client, name)
            assert failed is None, failed
            assert time.monotonic() - started < 1.0, f"{name} took too long"
