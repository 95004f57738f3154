"""`khadamat validate` as an auditor runs it, on the example catalog loaded into a real store.

The example catalog ships with planted-defects.csv: the validator must find every planted defect
(rule and focus node) and nothing else; then scopes, formats, exit codes and the validation of a
submission that is not loaded.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from khadamat.cli import main
from khadamat.normalize import normalize_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "catalog"
# Next to the catalog (examples/planted-defects.csv), or inside it in earlier layouts.
PLANTED = next(
    (p for p in (ROOT / "examples" / "planted-defects.csv", EXAMPLE / "planted-defects.csv") if p.exists()),
    ROOT / "examples" / "planted-defects.csv",
)
BASE = "https://w3id.org/khadamat/id/"
DATE = "2026-06-30"

pytestmark = pytest.mark.skipif(not PLANTED.exists(), reason="examples/planted-defects.csv is not there")


def planted() -> list[dict[str, str]]:
    """Planted rows that a shape must find (the others are for the duplicates queries)."""
    with PLANTED.open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["rule"].endswith("Shape")]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("validate")
    sheets = root / "catalog"
    sheets.mkdir()
    for path in EXAMPLE.glob("*.csv"):
        if path.name != "planted-defects.csv":
            shutil.copy(path, sheets / path.name)
    assert main(["load", "--store", str(root / "store"), "-q", str(sheets)]) == 0
    return root / "store"


def run_json(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["validate", "--store", str(store), "--date", DATE, "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_every_planted_defect_is_found_and_nothing_else(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(store, capsys)
    assert code == 1 and report["conforms"] is False
    found = {(f["focusNode"].removeprefix(BASE), f["rule"]) for f in report["findings"]}
    expected = {(row["focus"], row["rule"]) for row in planted()}
    assert found == expected


def test_the_findings_do_not_depend_on_how_many_queries_run_at_once(store: Path) -> None:
    """The evaluation report validates one query at a time beside its other queries; the command
    runs one per core. Both must give the same findings, exactly the planted defects."""
    import datetime as dt

    from khadamat.config import Settings
    from khadamat.store import open_store
    from khadamat.validation import validate
    from khadamat.validation.report import rule_name

    opened = open_store(Settings(store_dir=store), read_only=True)
    try:
        one, many = (
            validate(opened, on_date=dt.date.fromisoformat(DATE), workers=workers).findings
            for workers in (1, 3)
        )
    finally:
        opened.close()
    assert [f.key() for f in one] == [f.key() for f in many]
    found = {(f.focus.value.removeprefix(BASE), rule_name(f.shape)) for f in one}
    assert found == {(row["focus"], row["rule"]) for row in planted()}


def test_findings_carry_service_id_agency_and_the_article_they_enforce(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = run_json(store, capsys)
    by_key = {(f["focusNode"].removeprefix(BASE), f["rule"]): f for f in report["findings"]}
    for row in planted():
        finding = by_key[(row["focus"], row["rule"])]
        legal = finding["legalSource"]
        cited = ":".join(p for p in (legal["instrument"], legal["article"], legal["part"]) if p)
        assert normalize_text(cited) == normalize_text(row["article"])
        assert finding["agency"] == row["agency_code"]
        assert (finding["serviceId"] or "") == (row["service_id"] if "/service/" in row["focus"] else "")
        assert finding["messages"]["fa"] and finding["messages"]["en"] and finding["severity"] == "Violation"


def test_agency_scope_and_affiliates(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(store, capsys, "--agency", "maj-ppo")
    assert code == 1
    assert {f["agency"] for f in report["findings"]} == {"maj-ppo"}
    assert {f["rule"] for f in report["findings"]} == {
        r["rule"] for r in planted() if r["agency_code"] == "maj-ppo"
    }
    _, alone = run_json(store, capsys, "--agency", "maj")
    _, family = run_json(store, capsys, "--agency", "maj", "--with-affiliates")
    assert {f["agency"] for f in alone["findings"]} == {"maj"}
    assert {f["agency"] for f in family["findings"]} == {
        r["agency_code"] for r in planted() if r["agency_code"].startswith("maj")
    }
    assert set(family["summary"]) == {f["agency"] for f in family["findings"]}


def test_a_clean_agency_conforms(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (EXAMPLE / "agencies.csv").open(encoding="utf-8") as handle:
        codes = [row[next(iter(row))] for row in csv.DictReader(handle)]
    clean = sorted(set(codes) - {r["agency_code"] for r in planted()})
    assert clean, "the example has no agency without a planted defect"
    code, report = run_json(store, capsys, "--agency", clean[0])
    assert code == 0 and report["conforms"] is True and report["findings"] == []


def test_the_date_is_a_parameter(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expired = next(r for r in planted() if r["rule"] == "CardVerifiedWithinYearShape")
    _, later = run_json(store, capsys, "--agency", expired["agency_code"])
    code = main(
        [
            "validate",
            "--store",
            str(store),
            "--agency",
            expired["agency_code"],
            "--date",
            "1390/01/01",
            "--format",
            "json",
        ]
    )
    earlier = json.loads(capsys.readouterr().out)
    assert "CardVerifiedWithinYearShape" in {f["rule"] for f in later["findings"]}
    assert "CardVerifiedWithinYearShape" not in {f["rule"] for f in earlier["findings"]}
    assert earlier["validationDateJalali"] == "1390/01/01" and code in (0, 1)


def test_turtle_is_a_standard_validation_report(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--store", str(store), "--date", DATE, "--format", "turtle"]) == 1
    graph = ox.Store()
    graph.load(capsys.readouterr().out.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    sh = "http://www.w3.org/ns/shacl#"
    (row,) = graph.query(
        f"SELECT ?c (COUNT(?r) AS ?n) WHERE {{ ?rep a <{sh}ValidationReport> ; <{sh}conforms> ?c ; "
        f"<{sh}result> ?r . ?r <{sh}focusNode> ?f ; <{sh}sourceShape> ?s ; "
        f"<{sh}sourceConstraintComponent> ?k ; <{sh}resultSeverity> ?v ; <{sh}resultMessage> ?m }} "
        "GROUP BY ?c"
    )
    assert row["c"].value == "false" and int(row["n"].value) >= len(planted())


def test_csv_html_and_table(store: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["validate", "--store", str(store), "--date", DATE, "--format", "csv"]) == 1
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert {r["rule"] for r in rows} == {r["rule"] for r in planted()}
    out = tmp_path / "report.html"
    assert main(["validate", "--store", str(store), "--date", DATE, "--format", "html", "-o", str(out)]) == 1
    page = out.read_text(encoding="utf-8")
    assert 'dir="rtl"' in page and "۱۴۰۵/۰۴/۰۹" in page and 'id="filter"' in page and "@media print" in page
    assert main(["validate", "--store", str(store), "--date", DATE, "--lang", "en"]) == 1
    table = capsys.readouterr().out
    assert "══ agency maj-ppo" in table and "FeeNeedsBankAccountShape" in table and "res-200-145:9" in table


def test_usage_errors_exit_2(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--store", str(store), "--date", "1403/13/40"]) == 2
    assert main(["validate", "--store", str(store), "--agency", "no-such-agency"]) == 2
    assert main(["validate", "--store", str(store), "--with-affiliates"]) == 2
    assert main(["validate", "--store", str(store), str(store.parent / "missing.xlsx")]) == 2
    assert "khadamat validate:" in capsys.readouterr().err


def test_fail_on_warning(store: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A Warning alone passes by default and fails with --fail-on warning."""
    sheets = tmp_path / "sub"
    sheets.mkdir()
    agency = "maj-spcri"
    _write_agency_services(
        sheets,
        agency,
        lambda row: {
            **row,
            "ضرورت مراجعه حضوری": "",
            "روش ارائه الکترونیکی": "غیرالکترونیکی",
            "مبنای قانونی": row["مبنای قانونی"] or "circ-29168:10",
        },
    )
    args = ["validate", "--store", str(store), "--date", DATE, "--format", "json", str(sheets)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["findings"] and {f["severity"] for f in report["findings"]} == {"Warning"}
    assert main([*args, "--fail-on", "warning"]) == 1


def _write_agency_services(folder: Path, agency: str, change) -> None:
    with (EXAMPLE / "services.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [change(r) for r in reader if r["کد دستگاه"] == agency]
        fields = reader.fieldnames
    with (folder / "services.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _write_fee_fix(folder: Path) -> dict[str, str]:
    """A submission of the agency with the planted fee defect, every fee card now with an account.

    Returns the planted row, so that a test can check that just that finding goes away.
    """
    fee = next(r for r in planted() if r["rule"] == "FeeNeedsBankAccountShape")
    folder.mkdir()
    _write_agency_services(
        folder,
        fee["agency_code"],
        lambda row: {**row, "شماره حساب": row["شماره حساب"] or "IR990100004001114006399999"},
    )
    return fee


def test_a_submission_is_validated_with_its_context_and_not_written(
    store: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sheets = tmp_path / "sub"
    fee = _write_fee_fix(sheets)
    code, report = run_json(store, capsys, str(sheets))
    rules = {f["rule"] for f in report["findings"]}
    assert "FeeNeedsBankAccountShape" not in rules
    assert "SmartNoDocumentsShape" in rules  # still there: the submission did not fix it
    assert {f["agency"] for f in report["findings"]} == {fee["agency_code"]}
    assert code == 1
    _, after = run_json(store, capsys)  # the store was not touched
    assert "FeeNeedsBankAccountShape" in {f["rule"] for f in after["findings"]}


def test_api_submission_and_summary_on_an_in_memory_store(tmp_path: Path) -> None:
    """validate(store, submission=…) through the Python API, on a store held in memory."""
    import datetime as dt

    from khadamat.loader.submission import build_submission
    from shapes_support import example_catalog_store

    from khadamat.validation import validate

    store = example_catalog_store(tmp_path)
    before = sum(1 for _ in store.quads())
    fixed = tmp_path / "fixed"
    fee = _write_fee_fix(fixed)
    day = dt.date.fromisoformat(DATE)
    report = validate(store, submission=build_submission([fixed], store), on_date=day)
    assert "FeeNeedsBankAccountShape" not in {f.shape.value.rsplit("#", 1)[-1] for f in report.findings}
    assert sum(1 for _ in store.quads()) == before
    whole = validate(store, on_date=day)
    summary = whole.summary()
    assert summary[fee["agency_code"]]["byRule"]["FeeNeedsBankAccountShape"] == 1
    assert sum(s["total"] for s in summary.values()) == len(whole.findings)


def test_validate_to_a_missing_folder_is_one_line_before_any_work(tmp_path, capsys) -> None:
    from khadamat.cli import main

    target = tmp_path / "missing" / "report.html"
    code = main(["validate", "--store", str(tmp_path / "no-store"), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and not target.exists()
    assert (
        err.strip() == f"khadamat validate: cannot write {target}: the folder {target.parent} does not exist"
        " (create it first)"
    )
