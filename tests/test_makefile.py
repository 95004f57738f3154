"""The README's two commands: `make demo` installs only the runtime, `make test` adds the test extras.

`make -n` prints what make would run without running it, so these tests read make's own plan for
a fresh clone (a virtual environment that does not exist yet) and for one already installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def plan(target: str, venv: Path) -> list[str]:
    """The commands `make TARGET` would run with its virtual environment at `venv`."""
    proc = subprocess.run(
        ["make", "-n", "-C", str(ROOT), f"VENV={venv}", target],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line for line in proc.stdout.splitlines() if not line.startswith("make")]


def pip_installs(commands: list[str]) -> list[str]:
    return [c for c in commands if "pip install" in c]


def test_demo_on_a_fresh_clone_installs_the_runtime_only_and_quietly(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    commands = plan("demo", venv)
    installs = pip_installs(commands)
    assert any(" -e . " in c for c in installs)
    assert not any("[test]" in c for c in installs)
    # pip's and the build backend's output go to a log, shown only if the install fails.
    assert all(f">>{venv}/install.log 2>&1" in c or f">{venv}/install.log 2>&1" in c for c in installs)
    assert commands[-2:] == [
        f"{venv}/bin/khadamat load --store khadamat-store examples/catalog",
        f"{venv}/bin/khadamat stats --store khadamat-store",
    ]


def test_test_installs_the_test_extras_then_runs_ruff_and_pytest(tmp_path: Path) -> None:
    commands = plan("test", tmp_path / "venv")
    assert any("-e '.[test]'" in c for c in pip_installs(commands))
    assert commands[-2:] == [f"{tmp_path}/venv/bin/ruff check .", f"{tmp_path}/venv/bin/pytest"]


def test_an_installed_environment_is_not_installed_again(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("bin/python", ".installed-runtime", ".installed-test"):
        (venv / name).touch()  # newer than pyproject.toml
    assert pip_installs(plan("demo", venv)) == []
    assert pip_installs(plan("test", venv)) == []
    (venv / ".installed-test").unlink()  # after `make demo` only, `make test` adds the extras alone
    (install,) = pip_installs(plan("test", venv))
    assert "-e '.[test]'" in install
