"""Sheets that are not of the format are skipped with a notice, not refused (issue 11, Formats).

Agencies' templates carry an instructions sheet (راهنما) and lookup sheets, and openpyxl names a
new workbook's sheet `Sheet`. Such a workbook loads exactly what its format sheets hold, and every
skipped sheet is named, by file and sheet, on stderr (CLI), in the JSON of `khadamat validate` and
`/validate`; a submission with no services sheet is still refused, naming what is missing.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import httpx
import pytest
from khadamat.api.testing import live_server
from khadamat.loader.submission import SHEET_NAMES
from test_loader_helpers import BASE, BASIC, copy_basic, csv_folder_to_xlsx, disk_store, graph_lines

from khadamat.cli import main

# An instructions sheet as agencies write them: Persian text, a formula and an error cell. The
# error cell alone would refuse the workbook if the sheet were read (error cells are refused).
GUIDE = [
    ["راهنمای تکمیل قالب"],
    ["هر خدمت در یک سطر برگهٔ شناسنامه خدمات نوشته شود."],
    ["=SUM(1,2)", "#N/A"],
]
SKIPPED = f"skipped, not read: not a sheet of the format ({SHEET_NAMES})"


def notice(file: str, sheet: str) -> str:
    return f"notice: {file}, sheet {sheet}: {SKIPPED}"


def template(tmp_path: Path, name: str = "template.xlsx", folder: Path | None = BASIC) -> Path:
    """A workbook with openpyxl's default `Sheet`, a `راهنما` sheet, then the format's sheets."""
    if folder is None:
        folder = tmp_path / "no-sheets"
        folder.mkdir()
    return csv_folder_to_xlsx(
        folder, tmp_path / name, persian_sheet_names=True, extra_sheets={"Sheet": [], "راهنما": GUIDE}
    )


def store_lines(path: Path) -> list[str]:
    """The agencies' and laws' graphs of a store, without kh:sourceRow (which names the file)."""
    store = disk_store(path)
    try:
        graphs = [g for g in store.named_graphs() if "/graph/agency/" in g.value or "/graph/law/" in g.value]
        return [line for g in graphs for line in graph_lines(store, g) if "sourceRow" not in line]
    finally:
        store.close()


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[str]]:
    out, err = capsys.readouterr()
    return out, err.splitlines()


def test_a_workbook_with_a_default_and_an_instructions_sheet_loads_them_skipped(tmp_path, capsys) -> None:
    workbook = template(tmp_path)
    assert main(["load", str(workbook), "--store", str(tmp_path / "xlsx"), "-q"]) == 0
    out, err = stderr_lines(capsys)
    assert out.startswith("loaded: 6 graphs replaced (5 agencies, 1 laws)")
    assert err == [notice("template.xlsx", "Sheet"), notice("template.xlsx", "راهنما")]
    # exactly what the same sheets load from the CSV folder (sourceRow names the file)
    assert main(["load", str(BASIC), "--store", str(tmp_path / "csv"), "-q"]) == 0
    loaded = store_lines(tmp_path / "xlsx")
    assert len(loaded) > 200
    assert loaded == store_lines(tmp_path / "csv")


def test_a_workbook_with_only_extra_sheets_is_refused_naming_the_services_sheet(tmp_path, capsys) -> None:
    workbook = template(tmp_path, "empty-template.xlsx", folder=None)
    store = tmp_path / "store"
    assert main(["load", str(workbook), "--store", str(store), "-q"]) == 2
    _, err = stderr_lines(capsys)
    assert err == [
        notice("empty-template.xlsx", "Sheet"),
        notice("empty-template.xlsx", "راهنما"),
        "1 error(s), nothing loaded — 1 خطا، هیچ چیز بارگذاری نشد",
        "== empty-template.xlsx",
        "empty-template.xlsx: expected a services sheet (شناسنامه خدمات); the submission has none",
    ]


def test_a_csv_folder_skips_a_file_that_is_not_a_sheet_unread(tmp_path, capsys) -> None:
    folder = copy_basic(tmp_path)
    (folder / "readme.csv").write_bytes("notes in Latin-1: caf\xe9\n".encode("latin-1"))  # not readable
    assert main(["load", str(folder), "--store", str(tmp_path / "store"), "-q"]) == 0
    _, err = stderr_lines(capsys)
    assert err == [notice("readme.csv", "readme")]


def test_a_csv_file_given_on_its_own_is_a_sheet_named_by_the_user(tmp_path, capsys) -> None:
    services = copy_basic(tmp_path) / "services.csv"
    named = services.rename(services.with_name("my-services.csv"))
    assert main(["load", str(named), "--store", str(tmp_path / "store"), "-q"]) == 2
    _, err = stderr_lines(capsys)
    assert (
        f"my-services.csv, sheet my-services: expected a sheet named one of {SHEET_NAMES}, got 'my-services'"
        in err
    )


def test_validate_reports_the_skipped_sheets_in_its_json_and_html(tmp_path, capsys) -> None:
    workbook = template(tmp_path)
    store = str(tmp_path / "none")
    code = main(["validate", str(workbook), "--store", store, "--format", "json"])
    assert code in (0, 1)
    out, err = capsys.readouterr()
    expected = [f"template.xlsx, sheet {sheet}: {SKIPPED}" for sheet in ("Sheet", "راهنما")]
    assert json.loads(out)["notices"] == expected
    assert err.splitlines() == [f"notice: {n}" for n in expected]
    report = tmp_path / "report.html"
    assert main(["validate", str(workbook), "--store", store, "--format", "html", "-o", str(report)]) == code
    items = "".join(f'<li dir="auto">{html.escape(n)}</li>' for n in expected)
    assert f'<ul id="notices">{items}</ul>' in report.read_text(encoding="utf-8")


def test_the_validation_service_lists_the_skipped_sheets(tmp_path) -> None:
    assert main(["load", str(BASIC), "--store", str(tmp_path / "store"), "-q"]) == 0
    good, empty = template(tmp_path), template(tmp_path, "empty-template.xlsx", folder=None)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    with live_server(tmp_path / "store", base=BASE) as url:
        response = httpx.post(
            url + "/validate", files=[("files", (good.name, good.read_bytes(), xlsx))], timeout=120
        )
        assert response.status_code == 200, response.text
        assert response.json()["notices"] == [
            f"template.xlsx, sheet Sheet: {SKIPPED}",
            f"template.xlsx, sheet راهنما: {SKIPPED}",
        ]
        response = httpx.post(
            url + "/validate", files=[("files", (empty.name, empty.read_bytes(), xlsx))], timeout=120
        )
        assert response.status_code == 422
        body = response.json()
        assert body["errors"] == [
            "empty-template.xlsx: expected a services sheet (شناسنامه خدمات); the submission has none"
        ]
        assert body["notices"] == [
            f"empty-template.xlsx, sheet Sheet: {SKIPPED}",
            f"empty-template.xlsx, sheet راهنما: {SKIPPED}",
        ]
