"""Khadamat installs as a wheel, not only editable, and finds its data files there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_carries_every_data_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Warning" not in proc.stderr, proc.stderr[-2000:]  # the packaging configuration is clean
    (wheel,) = tmp_path.glob("khadamat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"khadamat/{folder}/{path.name}"
        for folder, pattern in (("ontology", "*.ttl"), ("shapes", "*.ttl"), ("queries", "*.rq"))
        for path in (ROOT / folder).glob(pattern)
    } | {f"khadamat/api/queries/{p.name}" for p in (ROOT / "api" / "queries").glob("*.rq")}
    assert expected, "no data files found in the checkout"
    assert expected <= names, sorted(expected - names)
    assert "khadamat/loader/submission.py" in names and "khadamat/cli.py" in names
    assert any(n.startswith("khadamat/api/static/yasgui/") for n in names)
    assert any(n.startswith("khadamat/api/templates/") for n in names)
