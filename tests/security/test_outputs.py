"""Outputs a person opens: CSV that a spreadsheet shows as text, HTML that links only http(s).

A catalog value is written by an agency and read by an auditor. A title such as
`=HYPERLINK("http://evil/","x")` would run as a formula when the auditor opens a CSV export in
Excel (formula injection), and an IRI `javascript:alert(1)` in an href would run in the reader's
browser (stored XSS). The hostile values are planted in a real catalog, loaded into a real
store, and every CSV face (CLI and API) and the entity page are read back.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import httpx
import pytest
from khadamat.api.testing import live_server

from khadamat.cli import main
from khadamat.output import FORMULA_LEADS, csv_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"
# Titles of services that the gap and duplicate queries report on examples/catalog.
PLANTED = {
    "صدور مجوز ایجاد مجتمع‌های کشت و صنعت": '=HYPERLINK("http://127.0.0.1:9/x","click")',
    "فروش نهاده‌های دامی یارانه‌ای به دامداران": "+1+cmd|' /C calc'!A0",
    "صدور کارت هوشمند رانندگان حمل‌ونقل عمومی بار و مسافر": "@SUM(1,2)",
    "صدور کارت هوشمند کامیون‌ها و کشنده‌های باری": "-2+3",
}


def test_csv_text_prefixes_formula_leads_and_keeps_numbers() -> None:
    rows = [
        {"a": "=1+1", "b": "+9", "c": "-x", "d": "@A1", "e": "\tx", "f": "\rx"},
        {"a": "عنوان", "b": -5, "c": 2.5, "d": None, "e": "a=b", "f": "'kept"},
    ]
    parsed = list(csv.reader(io.StringIO(csv_text(rows, list("abcdef")), newline="")))
    assert parsed[1] == ["'=1+1", "'+9", "'-x", "'@A1", "'\tx", "'\nx"]
    assert parsed[2] == ["عنوان", "-5", "2.5", "", "a=b", "'kept"]


def _formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would evaluate: text starting with a formula lead (numbers are fine)."""
    bad = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell.startswith(FORMULA_LEADS):
                try:
                    float(cell)
                except ValueError:
                    bad.append(cell)
    return bad


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile-outputs")
    catalog = tmp / "catalog"
    shutil.copytree(EXAMPLE, catalog)
    services = catalog / "services.csv"
    text = services.read_text(encoding="utf-8")
    for title, hostile in PLANTED.items():
        assert title in text, title
        text = text.replace(title, hostile.replace('"', '""').join('""'), 1)
    services.write_text(text, encoding="utf-8")
    store = tmp / "store"
    assert main(["load", "--store", str(store), "--quiet", str(catalog)]) == 0
    return store


@pytest.mark.parametrize(
    "argv",
    [
        ["gaps", "--format", "csv"],
        ["query", "gap-electronic-priorities", "--format", "csv"],
        ["duplicates", "--format", "csv"],
        ["validate", "--format", "csv"],
    ],
    ids=lambda argv: argv[0],
)
def test_cli_csv_outputs_neutralize_formulas(
    hostile_store: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    main([argv[0], "--store", str(hostile_store), *argv[1:]])
    out = capsys.readouterr().out
    assert _formula_cells(out) == []
    if argv[0] in {"gaps", "query"}:
        assert "'+1+cmd|' /C calc'!A0" in out  # planted in a service the priorities ranking lists
    if argv[0] == "gaps":
        assert '\'=HYPERLINK(""http://127.0.0.1:9/x"",""click"")' in out


def test_api_csv_outputs_neutralize_formulas(hostile_store: Path) -> None:
    with live_server(hostile_store) as url:
        ranking = httpx.get(url + "/queries/gap-electronic-priorities", headers={"Accept": "text/csv"})
        report = httpx.get(url + "/validate", headers={"Accept": "text/csv"})
    assert ranking.status_code == 200 and report.status_code == 200
    assert "'+1+cmd|' /C calc'!A0" in ranking.text
    assert _formula_cells(ranking.text) == [] and _formula_cells(report.text) == []


HOSTILE_TRIG = """
@prefix kh: <https://w3id.org/khadamat/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<{base}graph/agency/xss> {{
  <{base}agency/xss> a kh:ExecutiveAgency ; kh:agencyCode "xss" ;
     dct:title "<script>alert('title')</script>"@fa ;
     foaf:homepage <javascript:alert(document.cookie)> , <https://example.org/ok> ;
     kh:parentAgency <data:text/html,alert(2)> .
}}
"""


def test_entity_page_links_only_http_and_escapes_text(tmp_path: Path) -> None:
    from khadamat.api.testing import free_port, load_dataset_file

    port = free_port()
    base = f"http://127.0.0.1:{port}/id/"
    dataset = tmp_path / "xss.trig"
    dataset.write_text(HOSTILE_TRIG.format(base="https://w3id.org/khadamat/id/"), encoding="utf-8")
    load_dataset_file(tmp_path / "store", base, dataset)
    with live_server(tmp_path / "store", base=base, port=port) as url:
        page = httpx.get(url + "/id/agency/xss", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html.lower() and 'href="data:' not in html.lower()
    assert "javascript:alert(document.cookie)" in html  # shown as text, not dropped
    assert '<a href="https://example.org/ok" dir="auto">' in html
