"""A finding an auditor can act on: the item's title, agency and source row, in every format.

The example catalog has a service without a service ID (planted: "no-service-id", agency mrud):
its IRI is an opaque hash (…/agency/mrud/item/c257dc6db5ec). Its finding must name its title,
its agency (code and name), and the file, sheet and row it was read from, in the table, JSON,
CSV, HTML and Turtle reports and in the API's JSON; loading the same rows again must give the
same item IRI; an item read from an RDF file names that file.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from khadamat.api.testing import live_server

from khadamat.cli import main
from khadamat.namespaces import DCT, KH, SH, SKOS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "catalog"
BASE = "https://w3id.org/khadamat/id/"
DATE = "2026-06-30"
AGENCY = "mrud"
TITLE = "ثبت‌نام متقاضیان طرح نهضت ملی مسکن"
ITEM = f"{BASE}agency/{AGENCY}/item/c257dc6db5ec"
RULE = "ServiceIdPresentShape"


def _csv_rows(name: str) -> list[dict[str, str]]:
    with (EXAMPLE / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _expected_row() -> int:
    """The row of the item in services.csv as a spreadsheet numbers it (the header is row 1)."""
    rows = _csv_rows("services.csv")
    title_column = next(k for k in rows[0] if k.startswith("عنوان"))
    return next(i for i, row in enumerate(rows, start=2) if row[title_column] == TITLE)


def _agency_name() -> str:
    rows = _csv_rows("agencies.csv")
    code, name = (next(k for k in rows[0] if k.startswith(p)) for p in ("کد دستگاه", "نام دستگاه"))
    return next(row[name] for row in rows if row[code] == AGENCY)


ROW = _expected_row()
AGENCY_NAME = _agency_name()
SOURCE = f"services.csv#services!{ROW}"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("actionable") / "catalog"
    folder.mkdir()
    for path in EXAMPLE.glob("*.csv"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def store(catalog: Path) -> Path:
    store = catalog.parent / "store"
    assert main(["load", "--store", str(store), "-q", str(catalog)]) == 0
    return store


def report(store: Path, capsys: pytest.CaptureFixture[str], fmt: str, *paths: str) -> str:
    args = ["validate", "--store", str(store), "--date", DATE, "--format", fmt, "--lang", "en"]
    main([*args, *(paths or ("--agency", AGENCY))])
    return capsys.readouterr().out


def _the_finding(findings: list[dict]) -> dict:
    (finding,) = [f for f in findings if f["focusNode"] == ITEM and f["rule"] == RULE]
    return finding


def _assert_json_finding(finding: dict) -> None:
    assert finding["serviceId"] is None
    assert finding["title"] == TITLE
    assert (finding["agency"], finding["agencyName"]) == (AGENCY, AGENCY_NAME)
    assert finding["source"] == {"file": "services.csv", "sheet": "services", "row": ROW, "text": SOURCE}


def test_the_json_report_names_title_agency_file_sheet_and_row(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _assert_json_finding(_the_finding(json.loads(report(store, capsys, "json"))["findings"]))


def test_the_csv_report_names_them_in_columns(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.DictReader(report(store, capsys, "csv").splitlines()))
    (row,) = [r for r in rows if r["focus_node"] == ITEM and r["rule"] == RULE]
    assert row["service_id"] == ""
    assert (row["title"], row["agency"], row["agency_name"]) == (TITLE, AGENCY, AGENCY_NAME)
    assert (row["source_file"], row["source_sheet"], row["source_row"]) == (
        "services.csv",
        "services",
        str(ROW),
    )


def test_the_table_names_them_on_the_finding_line(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = report(store, capsys, "table")
    (line,) = [line for line in text.splitlines() if ITEM in line and "services.csv" in line]
    assert TITLE in line and SOURCE in line
    assert f"agency {AGENCY} ({AGENCY_NAME})" in text


def test_the_html_report_links_the_title_to_the_entity_page(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = report(store, capsys, "html")
    # Findings are grouped by agency, then by rule (issue 14): the item's row sits in the rule's
    # group inside the agency's section, and names the file, sheet and row in their own cells.
    (section,) = [s for s in html.split('<section class="agency"')[1:] if f'id="agency-{AGENCY}"' in s]
    assert f"{AGENCY_NAME} ({AGENCY})" in section
    (group,) = [g for g in section.split('<details class="rule"')[1:] if f">{RULE}</span>" in g]
    (row,) = [r for r in group.split("<tr") if ITEM in r]
    assert f'<a href="{ITEM}">{TITLE}</a>' in row
    assert '<td class="ltr">services.csv</td><td class="ltr">services</td>' in row
    assert f"<td>{ROW}</td>" in row


def test_the_turtle_report_carries_them_on_the_validation_result(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = ox.Store()
    graph.load(report(store, capsys, "turtle").encode("utf-8"), format=ox.RdfFormat.TURTLE)
    rows = list(
        graph.query(
            f"""SELECT ?title ?id ?source ?agency ?name WHERE {{
                ?r <{SH}focusNode> <{ITEM}> ; <{SH}sourceShape> ?shape ;
                   <{DCT}title> ?title ; <{DCT}source> ?source ; <{DCT}publisher> ?agency .
                ?agency <{SKOS}prefLabel> ?name .
                OPTIONAL {{ ?r <{DCT}identifier> ?id }}
                FILTER (STRENDS(STR(?shape), "#{RULE}")) }}"""
        )
    )
    assert [(r["title"], r["id"], r["source"], r["agency"], r["name"]) for r in rows] == [
        (
            ox.Literal(TITLE, language="fa"),
            None,
            ox.Literal(SOURCE),
            ox.NamedNode(f"{BASE}agency/{AGENCY}"),
            ox.Literal(AGENCY_NAME, language="fa"),
        )
    ]


def test_the_api_json_names_them(store: Path) -> None:
    with live_server(store) as url, httpx.Client(base_url=url, timeout=60) as client:
        response = client.get("/validate", params={"agency": AGENCY, "date": DATE})
    assert response.status_code == 200, response.text
    _assert_json_finding(_the_finding(response.json()["findings"]))


def test_loading_the_same_rows_again_gives_the_same_item(
    store: Path, catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = json.loads(report(store, capsys, "json"))["findings"]
    assert main(["load", "--store", str(store), "-q", str(catalog)]) == 0
    capsys.readouterr()
    after = json.loads(report(store, capsys, "json"))["findings"]
    assert _the_finding(after) == _the_finding(before)
    assert [(f["focusNode"], f["rule"], f["path"]) for f in after] == [
        (f["focusNode"], f["rule"], f["path"]) for f in before
    ]


def test_an_item_read_from_an_rdf_file_names_the_file(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The agency's graph as Turtle without its kh:sourceRow triples, validated as a submission."""
    from khadamat.config import Settings
    from khadamat.store import open_store

    opened = open_store(Settings.from_env(store_dir=store), read_only=True)
    graph = opened.minter.agency_graph(AGENCY)
    triples = [q.triple for q in opened.quads(graph) if q.predicate != ox.NamedNode(KH + "sourceRow")]
    opened.close()
    path = tmp_path / "mrud-services.ttl"
    path.write_bytes(ox.serialize(triples, format=ox.RdfFormat.TURTLE))
    finding = _the_finding(json.loads(report(store, capsys, "json", str(path)))["findings"])
    assert (finding["title"], finding["agency"]) == (TITLE, AGENCY)
    assert finding["source"] == {
        "file": "mrud-services.ttl",
        "sheet": None,
        "row": None,
        "text": "RDF file mrud-services.ttl",
    }
