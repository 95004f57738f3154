"""What the submission and live-store tests share: a store with examples/catalog, a token file,
one agency's data as a submission, and a `khadamat serve` whose process the test holds (to kill it).

Holds no tests itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
from khadamat.api.testing import free_port

from khadamat.accounts import Role, TokenStore

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "examples" / "catalog"
AGENCY = "maj-ppo"  # the agency whose editor submits in these tests
OTHER = "maj-ivo"  # another agency (an affiliate of the same ministry)
# A lighter server: one query worker per server worker is enough for these tests.
SERVER_ENV = {"KHADAMAT_SPARQL_WORKERS": "1"}


@dataclass(frozen=True)
class Tokens:
    file: Path
    editor: str  # editor of AGENCY
    other_editor: str  # editor of OTHER
    auditor: str
    admin: str


def make_tokens(folder: Path) -> Tokens:
    """A token file outside the store (given to the server with --tokens) with one token per role."""
    tokens = TokenStore(folder / "tokens.json")
    return Tokens(
        folder / "tokens.json",
        tokens.add(Role.EDITOR, "PPO data officer", AGENCY)[1],
        tokens.add(Role.EDITOR, "IVO data officer", OTHER)[1],
        tokens.add(Role.AUDITOR, "Auditor")[1],
        tokens.add(Role.ADMIN, "Admin")[1],
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def agency_rows(sheet: str, code: str) -> str:
    """The header and the rows of one agency in a sheet of examples/catalog (first column = code)."""
    lines = (CATALOG / sheet).read_text(encoding="utf-8").splitlines()
    return "\n".join([lines[0], *(line for line in lines[1:] if line.startswith(code + ","))]) + "\n"


def agency_submission(code: str = AGENCY, marker: str = "") -> list[tuple[str, tuple[str, bytes]]]:
    """One agency's agencies.csv and services.csv as multipart `files`; `marker` is put into the
    title of its first service, so that a test can find exactly that version in the answers."""
    services = agency_rows("services.csv", code)
    if marker:
        header, first, *rest = services.splitlines()
        cells = first.split(",")
        cells[1] = f"{cells[1]} {marker}"
        services = "\n".join([header, ",".join(cells), *rest]) + "\n"
    return [
        ("files", ("agencies.csv", agency_rows("agencies.csv", code).encode("utf-8"))),
        ("files", ("services.csv", services.encode("utf-8"))),
    ]


def titles_with(client: httpx.Client, text: str) -> int:
    """How many services /services finds with `text` in the title (the browse index)."""
    answer = client.get("/services", params={"q": text}, headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()["total"]


def load_beside(folder: Path, store: Path) -> None:
    """`khadamat load FOLDER` in its own process, as an operator runs it beside a live server."""
    loaded = subprocess.run(
        [sys.executable, "-m", "khadamat", "load", str(folder), "--store", str(store), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr


def sparql_count(client: httpx.Client, text: str) -> int:
    """How many titles hold `text`, asked of /sparql (answered by a query worker process)."""
    query = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://purl.org/dc/terms/title> ?t "
        f'FILTER(CONTAINS(STR(?t), "{text}")) }}'
    )
    answer = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def on_every_worker(
    url: str, workers: int, check: Callable[[httpx.Client], None], rounds: int = 80
) -> set[int]:
    """Run `check` on fresh connections until every server worker has run it; the pids seen.

    A connection stays with one worker, so /health asked after `check` on the same connection
    names the worker that answered the check."""
    seen: set[int] = set()
    for _ in range(rounds):
        with httpx.Client(base_url=url, timeout=60) as client:
            check(client)
            seen.add(client.get("/health").json()["worker"])
        if len(seen) >= workers:
            break
    return seen


@dataclass
class Server:
    url: str
    process: subprocess.Popen


@contextmanager
def running_server(
    store: Path, args: Sequence[str] = (), workers: int = 1, timeout: float = 60.0
) -> Iterator[Server]:
    """`khadamat serve` in its own process group (so a test can SIGKILL it and its children)."""
    port = free_port()
    command = [sys.executable, "-m", "khadamat", "serve", "--store", str(store), "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHADAMAT_")} | SERVER_ENV
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(f"http://127.0.0.1:{port}", process)
        try:
            _wait_up(server, timeout, log)
            yield server
        finally:
            kill(server, signal.SIGTERM)


def kill(server: Server, sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the server's whole process group and wait for the server to end."""
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, sig)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    deadline = time.monotonic() + 10  # the group's other processes (workers, children) end too
    while time.monotonic() < deadline:
        try:
            os.killpg(server.process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _wait_up(server: Server, timeout: float, log) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"khadamat serve exited with {server.process.returncode}:\n{log.read()}")
        try:
            if httpx.get(server.url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"khadamat serve did not answer within {timeout} s")
