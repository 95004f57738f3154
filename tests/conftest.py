"""Fixtures shared by the test modules: a store holding examples/catalog, fresh for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.store_support import catalog_template, copy_store


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with examples/catalog loaded, built once per test module; never written."""
    return catalog_template(tmp_path_factory.mktemp("catalog"))


@pytest.fixture
def store_dir(template: Path, tmp_path: Path) -> Path:
    """A copy of `template` that a test may load into."""
    return copy_store(template, tmp_path / "store")
