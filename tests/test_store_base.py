"""A store and the base its IRIs were minted under cannot disagree, and serving never writes.

The README's newcomer path loaded under one base and served under another: entity pages 404ed
and the server wrote a rebased second copy of the ontology and legal corpus into the store for
good. Now the store remembers its base; commands use it when none is asked for and refuse a
different one by name.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from khadamat.api.testing import live_server

from khadamat.cli import main
from khadamat.config import BASE_FILE, DEFAULT_BASE
from tests.security.store_support import fingerprint

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "catalog"
OTHER = "http://127.0.0.1:8000/id/"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store-base") / "store"
    assert main(["load", "--store", str(folder), "--quiet", str(EXAMPLE)]) == 0
    return folder


def test_a_load_records_the_base(store: Path) -> None:
    assert (store / BASE_FILE).read_text(encoding="utf-8") == DEFAULT_BASE + "\n"


def test_another_base_is_refused_by_name(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--store", str(store), "--base", OTHER]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: the store {store} holds data minted under the base {DEFAULT_BASE}, not {OTHER}: "
    )


def test_serve_under_another_base_exits_before_starting(store: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "khadamat.cli", "serve", "--store", str(store), "--base", OTHER],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "holds data minted under the base" in done.stderr


def test_serve_uses_the_stored_base_and_writes_nothing(store: Path) -> None:
    before = fingerprint(store, logs=False)
    with live_server(store) as url:
        agency = httpx.get(url + "/agencies/maj-ppo", headers={"Accept": "application/json"})
    assert agency.status_code == 200
    assert DEFAULT_BASE + "agency/maj-ppo" in agency.text
    assert fingerprint(store, logs=False) == before
