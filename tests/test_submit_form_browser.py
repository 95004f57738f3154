"""The data officer's form `/submit` in headless Chromium: type the token, choose the files, send,
and read the findings table; then send for real and find the new title on /services.

Chromium and selenium as in tests/test_browser.py (whose `browser` fixture this module uses);
skipped with the reason when they are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.store_support import catalog_template
from tests.submission_support import (
    Server,
    Tokens,
    agency_submission,
    make_tokens,
    running_server,
    titles_with,
)
from tests.test_browser import CHROMIUM, DRIVER, browser  # noqa: F401  (the shared Chromium fixture)

By = pytest.importorskip("selenium.webdriver.common.by", reason="selenium is not installed").By
WebDriverWait = pytest.importorskip("selenium.webdriver.support.ui").WebDriverWait

pytestmark = [
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Chromium not found: apt-get install -y chromium"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Tokens, list[Path]]]:
    store = catalog_template(tmp_path_factory.mktemp("catalog"))
    tokens = make_tokens(tmp_path_factory.mktemp("tokens"))
    folder = tmp_path_factory.mktemp("files")
    paths = []
    for _, (name, data) in agency_submission(marker="ازفرم"):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    with running_server(store, ["--tokens", str(tokens.file)]) as server:
        yield server, tokens, paths


def _send(browser, url: str, token: str, files: list[Path], dry_run: bool) -> str:  # noqa: F811
    browser.get(url + "/submit")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in files))
    if dry_run:
        browser.find_element(By.ID, "dry-run").click()
    browser.find_element(By.ID, "send").click()
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 120).until(lambda _: status.get_attribute("data-outcome"))
    return status.get_attribute("data-outcome")


def test_dry_run_shows_the_findings_table(browser, setup) -> None:  # noqa: F811
    server, tokens, files = setup
    assert _send(browser, server.url, tokens.editor, files, dry_run=True) == "dry-run"
    rows = browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
    assert rows, browser.find_element(By.ID, "status").text
    first = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert first[0] in {"تخلف", "هشدار", "آگاهی"} and first[1] == "maj-ppo" and first[4]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert titles_with(client, "ازفرم") == 0  # nothing written


def test_a_wrong_token_is_refused_in_persian(browser, setup) -> None:  # noqa: F811
    server, _, files = setup
    assert _send(browser, server.url, "kh_000000000000_" + "0" * 64, files, dry_run=False) == "refused"
    assert "401" in browser.find_element(By.ID, "status").text


def test_submit_for_real(browser, setup) -> None:  # noqa: F811
    server, tokens, files = setup
    assert _send(browser, server.url, tokens.editor, files, dry_run=False) == "accepted"
    assert "پذیرفته شد" in browser.find_element(By.ID, "status").text
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert titles_with(client, "ازفرم") == 1
