"""`khadamat diff A B` (issue 9): between two versions, two store folders and two exports, the
exact rows of services added, removed, retitled, moved, with a new ID, card fields changed and
findings fixed and new, per agency; and one line naming the side that cannot be read."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from history_support import BASE, BASIC, three_versions

from khadamat.cli import main
from khadamat.config import Settings
from khadamat.diff import COLUMNS, compare, open_side

OLD_TITLE = "صدور مجوز حق بهره‌برداری از زمین"
NEW_TITLE = "صدور مجوز حق بهره‌برداری از زمین صنعتی"
SERVICE_CHANGES = {"added", "removed", "retitled", "moved", "id-changed"}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    return three_versions(tmp_path_factory.mktemp("three"))


def run_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["diff", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def service_rows(result: dict) -> set[tuple]:
    return {
        (r["agency"], r["change"], r["service_id"], r["title"], r["old"], r["new"])
        for r in result["changes"]
        if r["change"] in SERVICE_CHANGES
    }


def test_diff_between_versions_lists_exact_changes_per_agency(three, capsys):
    store = ["--store", str(three.settings.store_dir), "--date", "1405/09/13"]
    result = run_json(capsys, "v000001", "v000003", *store)
    assert (result["old"], result["new"]) == ("v000001", "v000003")
    assert service_rows(result) == {
        ("ISIPO", "added", "13091729999", "تمدید پروانه بهره‌برداری", None, None),
        ("ISIPO", "removed", "13091727100", "صدور مجوز نقل و انتقال قرارداد", None, None),
        ("ISIPO", "retitled", "13091726000", NEW_TITLE, OLD_TITLE, NEW_TITLE),
        ("MCHT", "id-changed", "14000000001", OLD_TITLE, "13091726000", "14000000001"),
    }
    fields = {
        (r["agency"], r["service_id"], r["field"], r["field_fa"], r["old"], r["new"])
        for r in result["changes"]
        if r["change"] == "field-changed" and r["agency"] == "MCHT"
    }
    # MCHT's v2 sends a channel and leaves out audience and nature (its v1 row had them)
    assert fields == {
        ("MCHT", "14000000001", "channel", "کانال ارائه", None, "khc:channel-portal"),
        ("MCHT", "14000000001", "audience", "نوع خدمت (مخاطب)", "khc:audience-G2C", None),
        ("MCHT", "14000000001", "nature", "ماهیت خدمت", "khc:nature-sovereign", None),
    }
    findings = {
        (r["agency"], r["change"], r["service_id"], r["field"])
        for r in result["changes"]
        if "finding" in r["change"]
    }
    # the duplicate service ID is fixed on both sides of it; MCHT's missing channel too
    assert ("MCHT", "finding-fixed", "13091726000", "Violation ServiceIdUniqueShape") in findings
    assert ("ISIPO", "finding-fixed", "13091726000", "Violation ServiceIdUniqueShape") in findings
    assert ("MCHT", "finding-fixed", "13091726000", "Warning ServiceChannelShape") in findings
    assert ("MCHT", "finding-new", "14000000001", "Violation CardNatureShape") in findings
    # a finding the service had before and after its ID changed is neither fixed nor new
    assert not {f for f in findings if f[3] == "Violation ServiceReachesArticleShape"}
    assert result["summary"]["MCHT"]["id-changed"] == 1
    assert set(result["summary"]) == {"ISIPO", "MCHT"}

    mcht = run_json(capsys, "v000001", "v000003", *store, "--agency", "MCHT")
    assert {r["agency"] for r in mcht["changes"]} == {"MCHT"}
    assert len(mcht["changes"]) == sum(result["summary"]["MCHT"].values())
    # versions next to each other: v2 → v3 is ISIPO's change only
    assert {r[0] for r in service_rows(run_json(capsys, "v000002", "v000003", *store, "--no-findings"))} == {
        "ISIPO"
    }

    assert main(["diff", "v000001", "v000003", *store, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(result["changes"])
    assert main(["diff", "v000001", "v000003", *store, "--no-findings"]) == 0
    table = capsys.readouterr().out
    assert "== ISIPO: added 1, removed 1, retitled 1" in table and "id-changed" in table


def _moved_catalog(tmp_path: Path) -> Path:
    """The basic catalog with service 13091727100 given to MIMT instead of ISIPO."""
    folder = shutil.copytree(BASIC, tmp_path / "moved")
    path = folder / "services.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[2][2] == "13091727100" and rows[2][0] == "ISIPO"
    rows[2][0] = "MIMT"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return folder


def test_diff_between_two_stores_and_two_exports_finds_a_move(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["load", str(BASIC), "--store", str(a), "-q"]) == 0
    assert main(["load", str(_moved_catalog(tmp_path)), "--store", str(b), "-q"]) == 0
    moved = ("MIMT", "moved", "13091727100", "صدور مجوز نقل و انتقال قرارداد", "ISIPO", "MIMT")
    stores = run_json(capsys, str(a), str(b), "--no-findings")
    assert service_rows(stores) == {moved}
    parent = [r for r in stores["changes"] if r["change"] == "field-changed"]
    assert [(r["field"], r["old"], r["new"]) for r in parent] == [
        ("parent service", BASE + "agency/ISIPO/service/13091726000", None)
    ]
    for fmt, suffix in (("trig", ".trig"), ("nquads", ".nq")):
        for store, name in ((a, "a"), (b, "b")):
            out = tmp_path / f"{name}{suffix}"
            assert main(["export", "--store", str(store), "--format", fmt, "-o", str(out)]) == 0
        exports = run_json(
            capsys, str(tmp_path / f"a{suffix}"), str(tmp_path / f"b{suffix}"), "--no-findings"
        )
        assert exports["changes"] == stores["changes"]
    # the same through the core function, which other reports call
    settings = Settings(store_dir=a, base=BASE)
    old, new = open_side(str(a), settings), open_side(str(tmp_path / "b.trig"), settings)
    try:
        assert compare(old, new, findings=False).of_kind("moved")[0]["new"] == "MIMT"
    finally:
        old.close()
        new.close()


def test_diff_of_a_side_that_cannot_be_read_says_which_and_why(tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["load", str(BASIC), "--store", str(store), "-q"]) == 0
    broken = tmp_path / "broken.trig"
    broken.write_text("<http://a> <http://b> .\n", encoding="utf-8")
    capsys.readouterr()
    cases = {
        str(tmp_path / "missing.trig"): "missing.trig: no such version, store folder or file",
        str(broken): "broken.trig: not valid TriG",
        "v000042": "no version v000042 in the history of this store (versions: v000001 … v000001)",
    }
    for side, message in cases.items():
        assert main(["diff", "--store", str(store), "v000001", side]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
