"""The evaluation page in headless Chromium (issue 12): `khadamat report -o report.html` on
examples/catalog, opened from the file with the network unused — the browser finds the tables and
the charts, loads nothing from outside, passes axe-core's WCAG 2.1 A/AA, and the README's picture
(docs/images/report.png) is taken here."""

from __future__ import annotations

from pathlib import Path

import pytest
from pages_support import IMAGES, axe_violations, chromium, needs_chromium

from khadamat.cli import main

pytestmark = [needs_chromium, pytest.mark.slow]


@pytest.fixture(scope="module")
def page(template: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report-page") / "report.html"
    assert main(["report", "--store", str(template), "--date", "1405/09/13", "-o", str(out)]) == 0
    return out


def test_the_page_shows_tables_and_charts_offline_and_its_picture_is_taken(page: Path, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    with chromium(tmp_path / "profile", width=1280, height=1500) as browser:
        browser.get(page.as_uri())
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
        assert browser.find_element(By.ID, "report-date").text == "۱۴۰۵/۰۹/۱۳"
        national = browser.find_element(By.ID, "table-national")
        cells = {
            row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
            for row in national.find_elements(By.CSS_SELECTOR, "tbody tr")
        }
        # examples/catalog: 56 cards, 48 services, 46 with an ID, 11 delegated (test_report_figures).
        assert (cells["خدمات و وظایف"], cells["خدمات"], cells["دارای شناسه خدمت"]) == ("۵۶", "۴۸", "۴۶")
        assert cells["واگذارشده به دفاتر پیشخوان"] == "۱۱"
        agencies = browser.find_elements(By.CSS_SELECTOR, "#table-agencies tbody tr")
        assert len(agencies) == 19
        for name in ("families", "rankings", "findings_by_rule", "provinces"):
            assert browser.find_elements(By.CSS_SELECTOR, f"#table-{name} tbody tr"), name
        charts = {f.get_attribute("id") for f in browser.find_elements(By.CSS_SELECTOR, "figure")}
        assert {"chart-levels", "chart-ranking-overall", "chart-findings", "chart-provinces"} <= charts
        for figure in browser.find_elements(By.CSS_SELECTOR, "figure svg"):
            assert figure.size["width"] > 200 and figure.size["height"] > 100  # drawn, not empty
        assert "۱۰۰ × (۲۰ × دارای شناسه خدمت" in browser.find_element(By.ID, "formula-overall").text
        fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert fetched == []  # one file: no stylesheet, script, font or image from anywhere
        assert axe_violations(browser) == []
        IMAGES.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(IMAGES / "report.png"))
    assert (IMAGES / "report.png").stat().st_size > 50_000
