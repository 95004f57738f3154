"""The data both differential tests (pySHACL, TopBraid) hand to our engine and to the reference.

Kept in one place so that the two comparisons are guaranteed to run on the same input: a
disagreement then points at an engine, never at a difference between the test set-ups.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from khadamat.config import Settings
from khadamat.store import OxigraphStore, open_store
from khadamat.validation.engine import Validator
from khadamat.validation.testsuite import read_cases, store_with

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "shapes"
EXAMPLE = ROOT / "examples" / "catalog"
ON_DATE = dt.date(2026, 6, 30)


def fixture_store() -> tuple[OxigraphStore, Validator]:
    """Every rule fixture's data, each file in its own graph, with a validator on that store."""
    store = open_store(Settings(), in_memory=True)
    validator = Validator(store)
    for path in sorted(FIXTURES.glob("*.ttl")):
        for case in read_cases(path, shapes=validator.graph, strip_manifest=True):
            store_with(store, case.data, NamedNode(f"https://w3id.org/khadamat/id/graph/fixture/{path.stem}"))
    return store, validator


def example_catalog_store(tmp_path: Path) -> OxigraphStore:
    """The example catalog loaded as a user would (without the planted-defects sheet)."""
    if not (EXAMPLE / "services.csv").exists():
        pytest.skip("examples/catalog is not there")
    from khadamat.loader.submission import load_submission

    sheets = tmp_path / "catalog"
    sheets.mkdir()
    for csv in EXAMPLE.glob("*.csv"):
        if csv.name != "planted-defects.csv":
            shutil.copy(csv, sheets / csv.name)
    store = open_store(Settings(), in_memory=True)
    load_submission([sheets], store)
    return store
