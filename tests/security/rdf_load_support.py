"""Shared by the graph-ownership, RDF-bounds and concurrent-load tests: a store holding
examples/catalog, a fingerprint of every file under a store folder, `khadamat load` as a child.

Holds no tests itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from khadamat.cli import main

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "examples" / "catalog"
BASE = "https://w3id.org/khadamat/id/"
KH = "https://w3id.org/khadamat/ontology#"
PREFIXES = f"@prefix kh: <{KH}> .\n@prefix dct: <http://purl.org/dc/terms/> .\n"


def catalog_template(folder: Path) -> Path:
    """A store with examples/catalog loaded (built once per module, copied per test)."""
    store = folder / "store"
    assert main(["load", str(CATALOG), "--store", str(store), "-q"]) == 0
    return store


def copy_store(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, symlinks=True)
    return target


def fingerprint(store: Path) -> dict[str, str]:
    """sha256 of every file under the store folder (and the target of every link), by path."""
    found: dict[str, str] = {}
    for path in sorted(store.rglob("*")):
        name = str(path.relative_to(store))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def khadamat(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`khadamat ARGS` in a child process, so that a crash shows as a signal (negative exit)."""
    return subprocess.run(
        [sys.executable, "-m", "khadamat", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def agency_turtle(code: str, body: str = "") -> str:
    """Turtle declaring agency `code` (its node with type and code), plus `body`."""
    node = f"<{BASE}agency/{code}>"
    return f'{PREFIXES}{node} a kh:ExecutiveAgency ; kh:agencyCode "{code}" .\n{body}'
