"""Helpers for tests and benchmarks: a real `khadamat serve` on a loopback port, and fixtures.

Tests and benchmarks talk to the server the way users do: a subprocess listening on
127.0.0.1, reached over HTTP by real clients (httpx, SPARQLWrapper, rdflib, Chromium).
"""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pyoxigraph as ox

from khadamat.config import Settings
from khadamat.resources import read_rebased
from khadamat.store import open_store


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_dataset_file(store_dir: Path, base: str, path: Path) -> None:
    """Load a TriG/N-Quads file (written with the default base) graph by graph, then release the store."""
    store = open_store(Settings(store_dir=store_dir, base=base))
    text = read_rebased(path, base)
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    graphs: dict[ox.NamedNode, list[ox.Triple]] = defaultdict(list)
    for quad in ox.parse(text.encode("utf-8"), format=fmt):
        graphs[quad.graph_name].append(quad.triple)
    store.replace_graphs(dict(graphs))
    store.close()
    del store
    gc.collect()


@contextmanager
def live_server(
    store_dir: Path,
    base: str | None = None,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    workers: int = 1,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Start `khadamat serve` in a subprocess; yield its root URL; stop it afterwards.

    `base` may contain `{port}`, filled in with the chosen port (entity IRIs then dereference).
    The server sees no KHADAMAT_* variable of the caller's environment, only those in `env`.
    """
    port = port or free_port()
    args = [
        sys.executable,
        "-m",
        "khadamat",
        "serve",
        "--store",
        str(store_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if base:
        args += ["--base", base.format(port=port)]
    args += list(extra_args)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHADAMAT_")} | dict(env or {})
    url = f"http://127.0.0.1:{port}"
    # The log goes to a file: a pipe that nobody reads could fill up and block the server.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            _wait_until_up(proc, url, timeout, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def dataset_server(store_dir: Path, dataset: Path) -> Iterator[tuple[str, str]]:
    """Load `dataset` into a new store and serve it; yield (root URL, base).

    The base is the server's own `/id/` so that the entity IRIs of the dataset dereference
    on it, which is what the page, browse and SPARQL tests check.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}/id/"
    load_dataset_file(store_dir, base, dataset)
    with live_server(store_dir, base=base, port=port) as url:
        yield url, base


def _wait_until_up(proc: subprocess.Popen, url: str, timeout: float, log: IO[str]) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            log.seek(0)
            output = log.read()
            raise RuntimeError(f"khadamat serve exited with {proc.returncode}:\n{output}")
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"khadamat serve did not answer on {url} within {timeout} s")
