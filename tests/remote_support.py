"""Standard SPARQL servers for the remote-store tests and benchmark: started, awaited, stopped.

* Oxigraph server: `oxigraph serve` from the PyPI `oxigraph` package (the test extra puts it in
  `.venv/bin`), on its own database folder, with the union default graph that Khadamat needs.
* OpenLink Virtuoso 7: `virtuoso-t` from the Debian package `virtuoso-opensource` (`.ci/run`
  installs it), with its own database folder, ini file and two loopback ports. A write user
  `khadamat` (role SPARQL_UPDATE) is made with `isql-vt`; writes go to `/sparql-auth` with HTTP
  digest authentication, reads to the anonymous `/sparql` — a read-only public endpoint and an
  authenticated write endpoint, as docs/deployment.md advises.

Each `start_*` returns a `Server` (an `Endpoint` to give Khadamat, and `stop()`), or raises
`Unavailable` with the reason (the binary is missing) — the fixtures skip on it. Every process is
started here and stopped by its own id.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from khadamat.config import Endpoint
from khadamat.remote_store import endpoint_auth

ROOT = Path(__file__).resolve().parents[1]
OXIGRAPH = Path(sys.executable).parent / "oxigraph"
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")
VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")
WRITE_USER, WRITE_PASSWORD = "khadamat", "khadamat-test-secret"  # a throwaway test database's user
START_TIMEOUT = 120.0


class Unavailable(RuntimeError):
    """The server cannot run on this machine (its binary is missing); the reason says which."""


@dataclass
class Server:
    """A running SPARQL server of ours: the endpoint to give Khadamat and the process to stop."""

    name: str
    endpoint: Endpoint
    process: subprocess.Popen
    folder: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)  # what the CLI needs to reach it

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 20 s); its own id only."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def clear(self) -> None:
        """Drop every graph Khadamat may have written (between tests on one server)."""
        auth = endpoint_auth(self.endpoint)
        response = httpx.post(
            self.endpoint.update_url, data={"update": "DROP SILENT ALL"}, auth=auth, timeout=120
        )
        if self.name == "virtuoso":  # DROP ALL is refused on Virtuoso (it holds system graphs)
            graphs = httpx.post(
                self.endpoint.query,
                data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                headers={"Accept": "application/sparql-results+json"},
                timeout=120,
            ).json()["results"]["bindings"]
            ours = [b["g"]["value"] for b in graphs if not _virtuoso_system_graph(b["g"]["value"])]
            if ours:
                text = " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in ours)
                response = httpx.post(self.endpoint.update_url, data={"update": text}, auth=auth, timeout=120)
        response.raise_for_status()


def _virtuoso_system_graph(iri: str) -> bool:
    return iri.startswith(("http://www.openlinksw.com/", "http://localhost:", "http://www.w3.org/"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> None:
    """Wait until `url` answers a SPARQL query; raise with the log's tail if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            response = httpx.get(url, params={"query": "ASK {}"}, timeout=5)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"the server did not answer within {timeout:g} s: {log.read_text()[-2000:]}")


def start_oxigraph(folder: Path) -> Server:
    """`oxigraph serve` on a database in `folder`, union default graph, a free loopback port."""
    if not OXIGRAPH.exists():
        raise Unavailable(f"no {OXIGRAPH}: install the test extra (pip install -e '.[test]')")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "oxigraph.log"
    process = subprocess.Popen(
        [
            str(OXIGRAPH),
            "serve",
            "--location",
            str(folder / "db"),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    _wait_http(f"{base}/query", process, log)
    # One update request is one transaction on Oxigraph server, and it takes requests up to
    # 128 MiB: a whole write in one request keeps readers from seeing staging graphs.
    endpoint = Endpoint(
        query=f"{base}/query", update=f"{base}/update", graph_store=f"{base}/store", write_mode="single"
    )
    return Server("oxigraph", endpoint, process, folder, log, env=endpoint.to_env())


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {db}
NumberOfBuffers = 40000
MaxDirtyBuffers = 30000
MaxQueryMem = 1G
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
MaxClientConnections = 20
ServerThreads = 20
EnabledDavVSP = 0
Charset = UTF-8
EnabledGzipContent = 0
MaxKeepAlives = 10
KeepAliveTimeout = 10

[SPARQL]
; Khadamat reads whole graphs and large answers: the default cap of 10000 rows would cut them
; (a cut answer is refused: khadamat.remote_store.PartialAnswer).
ResultSetMaxRows = {max_rows}
MaxSortedTopRows = 10000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 600
DefaultQuery = ASK {{}}
DeferInferenceRulesInit = 0
"""

_VIRTUOSO_SETUP = f"""\
DB.DBA.USER_CREATE('{WRITE_USER}', '{WRITE_PASSWORD}');
GRANT SPARQL_UPDATE TO "{WRITE_USER}";
DB.DBA.RDF_DEFAULT_USER_PERMS_SET('nobody', 1);
DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{WRITE_USER}', 3);
"""


def start_virtuoso(folder: Path, max_rows: int = 10_000_000) -> Server:
    """`virtuoso-t` in the foreground with its own database folder, ini and loopback ports;
    `max_rows` is its ResultSetMaxRows (the most rows of one answer)."""
    if VIRTUOSO is None or ISQL is None:
        raise Unavailable("no virtuoso-t/isql-vt: install the Debian package virtuoso-opensource (.ci/run)")
    db = folder / "db"
    db.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    vsp = VIRTUOSO_VSP if VIRTUOSO_VSP.is_dir() else db
    ini.write_text(
        _VIRTUOSO_INI.format(db=db, sql_port=sql_port, http_port=http_port, vsp=vsp, max_rows=max_rows)
    )
    log = folder / "virtuoso-console.log"
    process = subprocess.Popen(
        [VIRTUOSO, "+foreground", "+configfile", str(ini)],
        cwd=db,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait_http(f"{base}/sparql", process, log)
        subprocess.run(
            [ISQL, f"127.0.0.1:{sql_port}", "dba", "dba"],
            input=_VIRTUOSO_SETUP.encode(),
            check=True,
            capture_output=True,
            timeout=60,
        )
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        raise
    endpoint = Endpoint(
        query=f"{base}/sparql",
        update=f"{base}/sparql-auth",
        graph_store=None,
        user=WRITE_USER,
        password=WRITE_PASSWORD,
        auth="digest",
    )
    env = {**endpoint.to_env(), "KHADAMAT_ENDPOINT_PASSWORD": WRITE_PASSWORD}
    return Server("virtuoso", endpoint, process, folder, log, env=env)


@contextmanager
def loaded_server(name: str, tmp_path_factory: pytest.TempPathFactory, submission: Path) -> Iterator[Server]:
    """A fresh server of the engine `name` with `submission` loaded by `khadamat load` (the test
    is skipped when the engine is not installed); the writer's store folder (base, history, write
    lock) is `server.folder / "store"`. The server is stopped at the end."""
    from tests.security.store_support import khadamat

    try:
        running = start(name, tmp_path_factory.mktemp(name))
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        folder = tmp_path_factory.mktemp(f"{name}-writer")
        done = khadamat("load", str(submission), "--store", str(folder / "store"), "-q", env=running.env)
        assert done.returncode == 0, done.stderr
        running.folder = folder
        yield running
    finally:
        running.stop()


def start(name: str, folder: Path) -> Server:
    return {"oxigraph": start_oxigraph, "virtuoso": start_virtuoso}[name](folder)


def cli_env(server: Server) -> dict[str, str]:
    """The environment a `khadamat` child process needs to use `server` as its store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHADAMAT_ENDPOINT")}
    return {**env, **server.env}


__all__ = ["Server", "Unavailable", "cli_env", "free_port", "start", "start_oxigraph", "start_virtuoso"]
