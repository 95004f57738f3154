"""What the page tests share: a live server over examples/catalog loaded by the real loader, a
headless Chromium, and axe-core's WCAG 2.1 A/AA run on the page the browser shows.

Needs Debian's `chromium` and `chromium-driver` and selenium (the `test` extra); the tests are
skipped with the reason when they are missing. Nothing is fetched from the network: axe-core is
vendored in tests/vendor/axe-core.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import pytest
from khadamat.api.testing import free_port, live_server

from khadamat.cli import main

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "examples" / "catalog"
SHEETS = ("agencies", "laws", "missions", "services", "inquiries", "licenses", "counters")
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
IMAGES = ROOT / "docs" / "images"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# What Chromium and Firefox send for a page.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="Chromium not found: apt-get install -y chromium chromium-driver"
)


@contextmanager
def catalog_server(tmp: Path) -> Iterator[tuple[str, Path]]:
    """(root URL, store dir) of `khadamat serve` over examples/catalog, whose base is its own /id/."""
    folder = tmp / "catalog"
    folder.mkdir()
    for name in SHEETS:
        if (CATALOG / f"{name}.csv").exists():
            shutil.copy(CATALOG / f"{name}.csv", folder)
    port = free_port()
    store_dir = tmp / "store"
    with redirect_stdout(io.StringIO()):
        assert (
            main(["load", "--store", str(store_dir), "--base", f"http://127.0.0.1:{port}/id/", str(folder)])
            == 0
        )
    with live_server(store_dir, base=f"http://127.0.0.1:{port}/id/", port=port) as url:
        yield url, store_dir


def token(store_dir: Path, role: str) -> str:
    """A new token of `role` in the store's tokens file (the last line `khadamat token add` prints)."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            main(["token", "add", "--store", str(store_dir), "--role", role, "--name", f"test {role}"]) == 0
        )
    return out.getvalue().strip().splitlines()[-1]


@contextmanager
def chromium(profile: Path, width: int = 1100, height: int = 1000) -> Iterator[object]:
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        "--lang=fa",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    # A Persian reader's browser: Accept-Language picks the page's labels.
    options.add_experimental_option("prefs", {"intl.accept_languages": "fa,en"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def axe_violations(driver: object) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page the browser shows."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    result = driver.execute_async_script(  # type: ignore[attr-defined]
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.html).slice(0, 3)}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
        WCAG_TAGS,
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def full_page_png(driver: object, path: Path, width: int = 1100) -> None:
    """A screenshot of the whole page (the window grown to the document's height), written to `path`."""
    height = driver.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    driver.set_window_size(width, min(int(height) + 40, 4000))  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
