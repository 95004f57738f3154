"""What the submission tests share: where the fixtures are, a store holding examples/catalog, the
one fingerprint of a store folder, `khadamat` in a child process, and refused loads.

A refused load is the same check everywhere: `khadamat load` exits 2, prints no traceback, and
every file of the store is the same byte for byte afterwards. It runs in this process (errors
read with capsys) or in a child (where a crash of the parser shows as a signal, not as exit 2).
The fixtures `catalog_template` and `store_dir` are in conftest.py. Holds no tests itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from khadamat.cli import main

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "examples" / "catalog"  # the bundled example, loaded into every test store
BASIC = ROOT / "tests" / "fixtures" / "loader" / "basic"  # a small valid submission (.csv sheets)
FIXTURE = ROOT / "tests" / "fixtures" / "api" / "catalog.trig"  # what the live servers serve
BASE = "https://w3id.org/khadamat/id/"
KH = "https://w3id.org/khadamat/ontology#"
PREFIXES = f"@prefix kh: <{KH}> .\n@prefix dct: <http://purl.org/dc/terms/> .\n"
TIME = Path("/usr/bin/time")  # GNU time: a child's peak memory, see `khadamat(measure=True)`


def catalog_template(folder: Path) -> Path:
    """A store with examples/catalog loaded (built once per module, copied per test)."""
    store = folder / "store"
    assert main(["load", str(CATALOG), "--store", str(store), "-q"]) == 0
    return store


def copy_store(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, symlinks=True)
    return target


def fingerprint(store: Path, logs: bool = True) -> dict[str, str]:
    """sha256 of every file under the store folder (and the target of every link), by path.

    `logs=False` leaves out RocksDB's info logs (`LOG`, `LOG.old.*`), which a server writes even
    when it opens the store read-only; they hold no data."""
    found: dict[str, str] = {}
    for path in sorted(store.rglob("*")):
        if not logs and path.name.startswith("LOG"):
            continue
        name = str(path.relative_to(store))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@dataclass
class Run:
    """How a `khadamat` child ended."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss: int | None = None  # bytes, the child's own maximum resident set (when measured)


def khadamat(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, measure: bool = False
) -> Run:
    """`khadamat ARGS` in a child process, so that a crash shows as a signal (negative exit).

    `measure`: through GNU time, for the child's peak resident memory. Not os.wait4 on a direct
    child: Linux counts in a child's ru_maxrss the memory of the process it was forked from (here
    the test runner) before exec."""
    command = [sys.executable, "-m", "khadamat", *args]
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "rss"
        if measure:
            command = [str(TIME), "-f", "%M", "-o", str(report), *command]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
        )
        peak = int(report.read_text().split()[-1]) * 1024 if measure else None
    return Run(done.returncode, done.stdout, done.stderr, peak)


def agency_turtle(code: str, body: str = "") -> str:
    """Turtle declaring agency `code` (its node with type and code), plus `body`."""
    node = f"<{BASE}agency/{code}>"
    return f'{PREFIXES}{node} a kh:ExecutiveAgency ; kh:agencyCode "{code}" .\n{body}'


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# -- refused loads --------------------------------------------------------------------------------


def _refusal(store: Path, load: Callable[[], tuple[int, str]]) -> str:
    """Run `load` (→ exit code, stderr); assert it was refused cleanly and the store is unchanged."""
    before = fingerprint(store)
    code, err = load()
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err
    assert fingerprint(store) == before
    return err


def refused(store: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """`khadamat load path` in this process is refused, the store unchanged; its error text."""

    def load() -> tuple[int, str]:
        capsys.readouterr()
        code = main(["load", str(path), "--store", str(store), "-q"])
        return code, capsys.readouterr().err

    return _refusal(store, load)


def refused_by_child(store: Path, path: Path, env: dict[str, str] | None = None) -> str:
    """`khadamat load path` in a child process is refused, the store unchanged; its error text."""

    def load() -> tuple[int, str]:
        done = khadamat("load", str(path), "--store", str(store), "-q", env=env)
        return done.returncode, done.stderr

    return _refusal(store, load)


def refused_lines(
    store: Path, path: Path, capsys: pytest.CaptureFixture[str], file: str | None = None
) -> list[str]:
    """As `refused`; the error lines about `file` (by default the file loaded)."""
    name = file or path.name
    return [
        line
        for line in refused(store, path, capsys).splitlines()
        if line.startswith((name + ",", name + ":"))
    ]
