"""Where Khadamat's data files live, installed or in a checkout.

The ontology, shapes and queries are data (.ttl, .rq), shipped inside the wheel as the packages
khadamat.ontology, khadamat.shapes and khadamat.queries. This module is the one way to reach
them, and the one place that re-bases files written with the default base IRI.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from khadamat.config import DEFAULT_BASE

DATA_PACKAGES = ("ontology", "shapes", "queries")


def data_path(name: str) -> Path:
    """The folder of one data package ('ontology', 'shapes' or 'queries')."""
    if name not in DATA_PACKAGES:
        raise ValueError(f"unknown data package {name!r}; expected one of {DATA_PACKAGES}")
    return Path(str(resources.files(f"khadamat.{name}")))


def data_files(name: str, suffix: str) -> list[Path]:
    """Every file of a data package with that suffix, sorted by name for a stable order."""
    return sorted(p for p in data_path(name).iterdir() if p.suffix == suffix)


def read_rebased(path: Path, base: str) -> str:
    """The file's text with the default base IRI replaced by the configured one."""
    text = path.read_text(encoding="utf-8")
    return text if base == DEFAULT_BASE else text.replace(DEFAULT_BASE, base)
