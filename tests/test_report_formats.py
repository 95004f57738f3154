"""`khadamat report` in CSV, XLSX and HTML (issue 12): the same tables as the JSON, with Persian
headers and right-to-left sheets in the workbook, and Persian text in the charts shaped."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from khadamat.cli import main
from khadamat.config import Settings
from khadamat.report import evaluate
from khadamat.report.charts import shaped
from khadamat.report.writers import render, write
from khadamat.store import open_store

pytestmark = pytest.mark.slow  # four whole reports of examples/catalog: ~15 s on a busy machine
DAY = "1405/09/13"


@pytest.fixture(scope="module")
def outputs(template: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report-formats")
    base = ["report", "--store", str(template), "--date", DAY]
    for name in ("report.csv", "report.xlsx", "report.html"):
        assert main([*base, "-o", str(folder / name)]) == 0
    assert main([*base, "--lang", "en", "-o", str(folder / "report-en.html")]) == 0
    return folder


def test_csv_carries_every_table_under_the_json_keys(outputs: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((outputs / "report.csv").read_text(encoding="utf-8"))))
    assert {r["table"] for r in rows} == {"national", "families", "agencies", "rankings", "findings_by_rule",
                                          "provinces"}  # fmt: skip
    (national,) = [r for r in rows if r["table"] == "national"]
    assert (national["cards"], national["with_service_id"], national["Violation"]) == ("56", "46", "16")
    maj = next(r for r in rows if r["table"] == "agencies" and r["code"] == "maj")
    assert (maj["services"], maj["tasks"], maj["valid_card"], maj["level_online"]) == ("8", "2", "9", "5")
    assert maj["kind"] == "وزارتخانه"  # the ontology's label of khc:agency-kind-ministry


def test_xlsx_has_one_right_to_left_sheet_per_table_with_persian_headers(outputs: Path) -> None:
    book = openpyxl.load_workbook(outputs / "report.xlsx")
    assert len(book.worksheets) == 6 and all(ws.sheet_view.rightToLeft for ws in book.worksheets)
    agencies = book["دستگاه‌ها"]
    header = [c.value for c in agencies[1]]
    assert header[:3] == ["کد", "نام", "نوع"] and "دارای شناسه خدمت" in header
    maj = next(r for r in agencies.iter_rows(min_row=2, values_only=True) if r[0] == "maj")
    assert maj[header.index("خدمات")] == 8 and maj[header.index("الکترونیکی در هر سه مرحله")] == 5
    provinces = book["پوشش استان‌ها"]
    assert [c.value for c in provinces[2]] == ["اصفهان", 4, 6, 3, 4]


def test_html_in_persian_and_in_english(outputs: Path) -> None:
    fa = (outputs / "report.html").read_text(encoding="utf-8")
    en = (outputs / "report-en.html").read_text(encoding="utf-8")
    assert '<html lang="fa" dir="rtl">' in fa and '<html lang="en" dir="ltr">' in en
    assert "تاریخ ارزیابی" in fa and "Evaluation date" in en and "1405/09/13" in en
    for page in (fa, en):
        assert "<script" not in page and "<link" not in page and "@import" not in page
        assert page.count("<svg ") >= 5 and 'role="img"' in page


def test_persian_labels_are_shaped_for_a_matplotlib_without_text_layout() -> None:
    # matplotlib ≥ 3.11 (libraqm) shapes and orders Persian itself: the text is left as it is.
    assert shaped("کشور", native=True) == "کشور"
    # Older matplotlib draws code points one by one: joined forms, in visual (reversed) order.
    assert shaped("کشور", native=False) == "\ufead\ufeee\ufeb8\ufb90"
    assert shaped("Score 12", native=False) == "Score 12"


def test_an_output_folder_that_does_not_exist_is_refused_before_any_work(
    template: Path, tmp_path, capsys
) -> None:
    code = main(["report", "--store", str(template), "-o", str(tmp_path / "missing" / "r.html")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_the_charts_drawn_while_the_last_queries_run_are_the_charts_of_the_whole_report(
    template: Path,
) -> None:
    """`render` draws the charts before the duplicate and gap queries end; the page must be the
    one drawn from the finished evaluation."""
    store = open_store(Settings(store_dir=template), read_only=True)
    day = dt.date(2026, 12, 4)
    try:
        for lang in ("fa", "en"):
            page = render(store, day, "html", lang)
            assert page == write(evaluate(store, day).data, "html", lang)
            assert page.count(b'<figure id="chart-') == 6  # levels, three rankings, findings, provinces
    finally:
        store.close()
