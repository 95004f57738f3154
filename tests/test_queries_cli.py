"""The commands a reviewer runs: `khadamat queries`, `query`, `gaps`, `duplicates`, on a real store."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_queries_support import BASE, fixture_store

from khadamat.cli import main


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("cli")
    fixture_store(tmp, "gaps.ttl").close()
    return str(tmp / "store")


@pytest.fixture(scope="module")
def dups_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("cli-dups")
    fixture_store(tmp, "duplicates.ttl").close()
    return str(tmp / "store")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_queries_lists_names_and_titles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "queries", "--format", "json")
    listed = {q["name"]: q for q in json.loads(out)}
    assert code == 0 and len(listed) == 17  # 11 gap, 3 duplicate, 3 report queries
    assert listed["dup-near-titles"]["title"].endswith("Near-duplicate services by title similarity")
    assert listed["dup-near-titles"]["parameters"] == "threshold=0.75 acrossFamilies=false agency"


def test_query_by_name_with_a_parameter(capsys: pytest.CaptureFixture[str], store_dir: str) -> None:
    code, out, _ = _run(
        capsys,
        "query",
        "gap-unit-services-without-id",
        "--store",
        store_dir,
        "--param",
        "agency=agency/MIN",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["item"], r["province"]) for r in rows] == [(BASE + "agency/MIN-KR/item/a1", "کرمان")]
    assert list(rows[0]) == ["item", "title", "unit", "unitName", "province", "county", "parentAgency"]


def test_query_by_path_and_table_output(capsys: pytest.CaptureFixture[str], store_dir: str) -> None:
    path = Path(__file__).parents[1] / "queries" / "gap-tasks-with-recipients.rq"
    code, out, _ = _run(capsys, "query", str(path), "--store", store_dir)
    assert code == 0 and "agency/MIN/item/t1" in out and "شهروندان" in out and "(1 rows)" in out


def test_query_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], store_dir: str) -> None:
    code, _, err = _run(capsys, "query", "dup-near-titles", "--store", store_dir, "--param", "size=3")
    assert code == 2 and "no parameter size" in err
    code, _, err = _run(capsys, "query", "nothing-here", "--store", store_dir)
    assert code == 2 and "no query named" in err


@pytest.mark.parametrize("argument", ["my-own.rq", "mine/gap-tasks-with-recipients"])
def test_a_missing_query_file_is_named_not_looked_up_in_the_library(
    capsys: pytest.CaptureFixture[str],
    store_dir: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argument: str,
) -> None:
    # A path-like argument is a file the user wrote: say it is missing, do not list the library.
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "query", argument, "--store", store_dir)
    assert (code, out, err) == (2, "", f"error: no such file: {argument}\n")


def test_a_query_file_in_the_working_folder_runs(
    capsys: pytest.CaptureFixture[str], store_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = Path(__file__).parents[1] / "queries" / "gap-tasks-with-recipients.rq"
    (tmp_path / "my-own.rq").write_bytes(library.read_bytes())
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "query", "my-own.rq", "--store", store_dir)
    assert code == 0 and "agency/MIN/item/t1" in out and "(1 rows)" in out


def test_gaps_json_has_every_gap_query(capsys: pytest.CaptureFixture[str], store_dir: str) -> None:
    code, out, _ = _run(capsys, "gaps", "--store", store_dir, "--date", "1404/03/11", "--format", "json")
    report = json.loads(out)
    assert code == 0 and len(report) == 11
    assert report["gap-tasks-with-recipients"]["count"] == 1
    assert [r["item"] for r in report["gap-cards-out-of-date"]["rows"]] == [
        BASE + "agency/ORG/item/b2",
        BASE + "agency/MIN/service/11111112000",
        BASE + "agency/MIN-KR/item/a1",
    ]


def test_gaps_for_one_agency_and_one_query(capsys: pytest.CaptureFixture[str], store_dir: str) -> None:
    code, out, _ = _run(
        capsys, "gaps", "--store", store_dir, "--agency", "ORG", "--only", "gap-missions-without-service"
    )
    assert code == 0 and out.startswith("== gap-missions-without-service")
    assert "mission/M3" in out and "mission/M2" not in out


def test_gaps_pages_the_priorities_ranking(capsys: pytest.CaptureFixture[str], store_dir: str) -> None:
    only = ("--only", "gap-electronic-priorities", "--format", "json")
    code, out, _ = _run(capsys, "gaps", "--store", store_dir, *only, "--limit", "1", "--offset", "1")
    rows = json.loads(out)["gap-electronic-priorities"]["rows"]
    assert code == 0 and [r["item"] for r in rows] == [BASE + "agency/MIN-KR/item/a1"]  # the second of three
    code, _, err = _run(capsys, "gaps", "--store", store_dir, *only, "--limit", "-5")
    assert code == 2 and "parameter limit: expected a whole number ≥ 0, got '-5'" in err


def test_duplicates_command(capsys: pytest.CaptureFixture[str], dups_dir: str) -> None:
    code, out, _ = _run(capsys, "duplicates", "--store", dups_dir, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 7
    first = rows[0]
    assert first["reason"] == "عنوان یکسان — same title; عنوان مشابه — similar title"
    assert first["score"] == 1.0
    assert first["commonParent"] == BASE + "agency/MIN"
    code, out, _ = _run(
        capsys,
        "duplicates",
        "--store",
        dups_dir,
        "--format",
        "json",
        "--across-families",
        "--threshold",
        "0.6",
        "--agency",
        "ORG1",
    )
    pairs = {(r["serviceA"].rsplit("/", 1)[-1], r["serviceB"].rsplit("/", 1)[-1]) for r in json.loads(out)}
    assert pairs == {("20000002000", "90000001000"), ("20000003000", "30000003000")}


def test_missing_store_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "gaps", "--store", str(tmp_path / "none"))
    assert code == 2 and "khadamat load" in err
