"""`khadamat diff` and `khadamat report --since` (issue 12) on two catalogs that differ in each way
the issue lists: examples/catalog as last year's, and a copy edited by this test — one service
added, one removed, one retitled, one moved to another agency, one renumbered, one card field
changed, one finding fixed and one new. The diff must name exactly those, per agency, in JSON,
CSV, XLSX and HTML; the report must show each figure's change beside it."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from khadamat.cli import main

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "examples" / "catalog"
DAY = "1405/09/13"
ID, TITLE, AGENCY = "شناسه خدمت", "عنوان خدمت", "کد دستگاه"
DAYS, ACCOUNT = "مدت زمان ارائه (روز)", "شماره حساب"
OLD_TITLE = "صدور مفاصاحساب و اجازه انتقال زمین\u200cهای واگذاری"
NEW_TITLE = "صدور مفاصاحساب و اجازه انتقال واحدهای مسکونی واگذارشده"


def edited_catalog(folder: Path) -> Path:
    """examples/catalog with one change of each kind, made to services.csv."""
    shutil.copytree(CATALOG, folder)
    path = folder / "services.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    by_id = {(r[AGENCY], r[ID]): r for r in rows}
    added = dict(by_id[("maj-ppo", "14230200100")])
    added.update({ID: "14230200900", TITLE: "صدور گواهی قرنطینه نهال وارداتی"})
    rows.append(added)  # added to maj-ppo
    rows.remove(by_id[("mrud-cdtic", "13150400200")])  # removed from mrud-cdtic
    by_id[("mrud-nlho", "13150300200")][TITLE] = NEW_TITLE  # retitled
    by_id[("maj-spcri", "14230500200")][AGENCY] = "maj-ppo"  # moved to maj-ppo
    by_id[("maj-spcri", "14230500200")]["کد ماموریت"] = "ppo-m1"  # with a mission of its new agency
    by_id[("mrud-nlho", "13150300300")][ID] = "13150300900"  # renumbered
    by_id[("maj", "14230100300")][DAYS] = "۷"  # a card field (was ۱۵)
    by_id[("maj-ppo", "14230200400")][ACCOUNT] = "IR330100004001114006374441"  # finding fixed
    by_id[("mrud", "13150100100")][ACCOUNT] = ""  # a fee with no account: finding new
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> Path:
    """One store: v000001 is examples/catalog, v000002 the edited copy."""
    tmp = tmp_path_factory.mktemp("report-diff")
    store = tmp / "store"
    assert main(["load", str(CATALOG), "--store", str(store), "-q"]) == 0
    assert main(["load", str(edited_catalog(tmp / "edited")), "--store", str(store), "-q"]) == 0
    return store


def diff_json(capsys, store: Path, *extra: str) -> dict:
    capsys.readouterr()
    assert main(["diff", "v000001", "v000002", "--store", str(store), "--date", DAY, "--format", "json",
                 *extra]) == 0  # fmt: skip
    return json.loads(capsys.readouterr().out)


def test_the_diff_names_each_change_exactly_per_agency(versions, capsys) -> None:
    result = diff_json(capsys, versions)
    rows = {
        (r["agency"], r["change"], r["service_id"], r["old"], r["new"])
        for r in result["changes"]
        if r["change"] in {"added", "removed", "retitled", "moved", "id-changed"}
    }
    assert rows == {
        ("maj-ppo", "added", "14230200900", None, None),
        ("mrud-cdtic", "removed", "13150400200", None, None),
        ("mrud-nlho", "retitled", "13150300200", OLD_TITLE, NEW_TITLE),
        ("maj-ppo", "moved", "14230500200", "maj-spcri", "maj-ppo"),
        ("mrud-nlho", "id-changed", "13150300900", "13150300300", "13150300900"),
    }
    fields = {
        (r["agency"], r["service_id"], r["field"], r["old"], r["new"])
        for r in result["changes"]
        if r["change"] == "field-changed"
    }
    mission = "https://w3id.org/khadamat/id/mission/"
    assert fields == {
        ("maj", "14230100300", "duration (days)", "15", "7"),
        ("maj-ppo", "14230200400", "bank account", None, "IR330100004001114006374441"),
        ("mrud", "13150100100", "bank account", "IR140100004001113006310021", None),
        ("maj-ppo", "14230500200", "realizes mission", mission + "spcri-m1", mission + "ppo-m1"),
    }
    findings = {(r["agency"], r["change"], r["service_id"], r["field"]) for r in result["changes"]
                if r["change"].startswith("finding")}  # fmt: skip
    assert findings == {
        ("maj-ppo", "finding-fixed", "14230200400", "Violation FeeNeedsBankAccountShape"),
        ("mrud", "finding-new", "13150100100", "Violation FeeNeedsBankAccountShape"),
    }
    summary = result["summary"]
    assert summary["maj-ppo"] == {"added": 1, "moved": 1, "field-changed": 2, "finding-fixed": 1}
    assert summary["mrud-cdtic"] == {"removed": 1}
    assert summary["mrud-nlho"] == {"retitled": 1, "id-changed": 1}


def test_the_diff_in_csv_xlsx_and_html_carries_the_same_rows(versions, capsys, tmp_path) -> None:
    expected = len(diff_json(capsys, versions)["changes"])
    base = ["diff", "v000001", "v000002", "--store", str(versions), "--date", DAY]
    capsys.readouterr()
    assert main([*base, "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(table) == expected
    assert {"agency": "mrud-cdtic", "change": "removed", "service_id": "13150400200"}.items() <= next(
        r for r in table if r["change"] == "removed"
    ).items()
    assert main([*base, "--format", "xlsx", "-o", str(tmp_path / "diff.xlsx")]) == 0
    book = openpyxl.load_workbook(tmp_path / "diff.xlsx")
    summary, changes = book.worksheets
    assert summary.sheet_view.rightToLeft and changes.sheet_view.rightToLeft
    assert [c.value for c in changes[1]][:3] == ["دستگاه", "تغییر", "شناسه خدمت"]
    assert changes.max_row == expected + 1
    moved = next(r for r in changes.iter_rows(values_only=True) if r[1] == "moved")
    assert moved[:3] == ("maj-ppo", "moved", "14230500200")
    assert main([*base, "--format", "html", "--lang", "fa", "-o", str(tmp_path / "diff.html")]) == 0
    page = (tmp_path / "diff.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in page and page.count('<tr data-change="') == expected
    assert '<tr data-change="id-changed"><td>mrud-nlho</td><td>تغییر شناسه</td><td>13150300900</td>' in page
    assert "<script" not in page and "<link" not in page


def test_the_report_since_last_year_shows_each_figure_change(versions, capsys, tmp_path) -> None:
    capsys.readouterr()
    args = ["report", "--store", str(versions), "--date", DAY, "--since", "v000001"]
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    agencies = {a["code"]: a for a in data["agencies"]}
    # maj-ppo: +1 added, +1 moved in; maj-spcri −1; mrud-cdtic −1; mrud-nlho unchanged in number.
    assert agencies["maj-ppo"]["change"]["services"] == 2
    assert agencies["maj-spcri"]["change"]["services"] == -1
    assert agencies["mrud-cdtic"]["change"]["cards"] == -1
    assert agencies["mrud-nlho"]["change"]["cards"] == 0
    # The fee finding moved from maj-ppo to mrud: −1 and +1 violations.
    assert agencies["maj-ppo"]["change"]["Violation"] == -1
    assert agencies["mrud"]["change"]["Violation"] == 1
    assert data["national"]["change"]["cards"] == 0 and data["national"]["change"]["services"] == 0
    assert data["since"]["source"] == "v000001"
    assert data["diff"]["summary"]["mrud-cdtic"] == {"removed": 1}
    out = tmp_path / "since.html"
    assert main([*args, "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'id="report-since">v000001<' in page and 'id="table-diff"' in page
    assert '<span class="chg up">+۲</span>' in page and '<span class="chg down">−۱</span>' in page
