"""Differential test: pySHACL (the reference) and the compiled engine give the same findings.

Both engines read the same shapes files and the same data (the rule fixtures all together, and the
example catalog); they must agree on the set of (focus node, source shape, path) triples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shapes_support import ON_DATE, example_catalog_store, fixture_store

from khadamat.validation import validate
from khadamat.validation.engine import shapes_files
from khadamat.validation.reference import pyshacl_keys


def test_pyshacl_agrees_on_every_fixture() -> None:
    store, validator = fixture_store()
    ours = {f.key() for f in validator.run(None, ON_DATE)}
    reference = pyshacl_keys((q.triple for q in store.quads()), shapes_files(), store.minter.base, ON_DATE)
    assert len(ours) > 100
    assert ours == reference


@pytest.mark.slow
def test_pyshacl_agrees_on_the_example_catalog(tmp_path: Path) -> None:
    store = example_catalog_store(tmp_path)
    ours = {f.key() for f in validate(store, on_date=ON_DATE).findings}
    reference = pyshacl_keys((q.triple for q in store.quads()), shapes_files(), store.minter.base, ON_DATE)
    assert ours and ours == reference
