"""`khadamat report` (issue 12): every figure of the annual evaluation against counts written by
hand — for the gap fixture (tests/fixtures/queries/gaps.ttl, at 2025-06-01) and for
examples/catalog (at 1405/09/13, counted from its CSV files and examples/planted-defects.csv).

The comments say how each number was counted, so a reader can check it against the files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from test_queries_support import fixture_store

from khadamat.cli import main
from khadamat.config import Settings
from khadamat.output import plain
from khadamat.querylib import library, run_query
from khadamat.report import ScopeError, evaluate, valid_since
from khadamat.report.figures import figure_rows
from khadamat.report.scoring import rankings_spec, ranks, score
from khadamat.store import open_store

FIXTURE_DAY = dt.date(2025, 6, 1)
CATALOG_DAY = "1405/09/13"  # 2026-12-04
FIGURES = (
    "cards", "services", "tasks", "with_service_id", "with_legal_basis", "valid_card",
    "electronic_all_stages", "delegated_to_counters",
)  # fmt: skip


def figures(entry: dict) -> tuple[int, ...]:
    return tuple(entry[k] for k in FIGURES)


def by_code(rows: list[dict]) -> dict[str, dict]:
    return {r["code"]: r for r in rows}


# ── the gap fixture ───────────────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    store = fixture_store(tmp_path_factory.mktemp("report"), "gaps.ttl")
    yield evaluate(store, FIXTURE_DAY).data
    store.close()


def test_fixture_figures_per_agency_counted_by_hand(fixture) -> None:
    agencies = by_code(fixture["agencies"])
    assert set(agencies) == {"MIN", "ORG", "IDLE", "MIN-KR", "MIN-KR-RF", "MIN-YZ", "OTHER"}
    # MIN: services 1111…, 1112…, 1113…, 1114… and tasks t1, t2. Legal basis: all but 1112 (no
    # basis, no mission). Valid on 2025-06-01 (verified after 2024-06-01): all but 1112
    # (2024-01-10). All three stages: 1111, 1113, 1114 (1112's production is false).
    assert figures(agencies["MIN"]) == (6, 4, 2, 4, 5, 5, 3, 0)
    # ORG: 2221 (via mission M4), 2222, b2 (no ID, no date, no level).
    assert figures(agencies["ORG"]) == (3, 3, 0, 2, 3, 2, 1, 0)
    # MIN-KR: a1, verified 2024-06-01, exactly a year before the date: out of date.
    assert figures(agencies["MIN-KR"]) == (1, 1, 0, 0, 1, 0, 0, 0)
    # OTHER: 3333 is electronic in all stages but by office automation only: not counted.
    assert figures(agencies["OTHER"]) == (1, 1, 0, 1, 1, 1, 0, 0)
    for idle in ("IDLE", "MIN-KR-RF", "MIN-YZ"):
        assert figures(agencies[idle]) == (0,) * 8
    assert agencies["ORG"]["electronic_levels"] == {"none": 1, "information": 0, "online": 1, "unstated": 1}
    assert agencies["MIN"]["smart_by_maturity"] == {"1": 1, "2": 0, "3": 0}
    assert (agencies["MIN-KR-RF"]["parent"], agencies["MIN-KR-RF"]["family"]) == ("MIN-KR", "MIN")
    assert agencies["MIN-KR"]["province"] == "کرمان"


def test_fixture_families_and_national_counted_by_hand(fixture) -> None:
    families = by_code(fixture["families"])
    assert set(families) == {"MIN", "OTHER"}
    # MIN's family: MIN + ORG + MIN-KR (IDLE and the other units have no card).
    assert figures(families["MIN"]) == (10, 8, 2, 6, 9, 7, 4, 0)
    assert families["MIN"]["agencies"] == 6
    assert families["MIN"]["electronic_levels"] == {"none": 1, "information": 1, "online": 5, "unstated": 1}
    national = fixture["national"]
    assert figures(national) == (11, 9, 2, 7, 10, 8, 4, 0)
    assert (national["agencies"], national["families"]) == (7, 2)


def test_fixture_gap_rows_and_provinces_counted_by_hand(fixture) -> None:
    agencies = by_code(fixture["agencies"])
    # gap-without-service-id: MIN-KR's a1; ORG's b2 and licence LIC-2 (ID 99999999999 not in the
    # catalog); MIN's licence LIC-3 (no ID).
    assert [agencies[c]["gap_rows"]["gap-without-service-id"] for c in ("MIN-KR", "ORG", "MIN")] == [1, 2, 1]
    # gap-electronic-stages: MIN's 1112 and OTHER's 3333.
    assert agencies["MIN"]["gap_rows"]["gap-electronic-stages"] == 1
    assert agencies["OTHER"]["gap_rows"]["gap-electronic-stages"] == 1
    # Kerman: MIN-KR and MIN-KR-RF are there; a1 is MIN-KR's, 1111 is delivered by MIN-KR-RF.
    assert fixture["provinces"] == [
        {"province": "کرمان", "agencies_located": 2, "services_delivered": 2, "counter_offices": 0,
         "services_delegated": 0},
        {"province": "یزد", "agencies_located": 1, "services_delivered": 0, "counter_offices": 0,
         "services_delegated": 0},
    ]  # fmt: skip


def test_fixture_rankings_follow_the_weights_file_by_hand(fixture) -> None:
    egov = next(r for r in fixture["rankings"] if r["key"] == "e-government")
    assert egov["weights"] == {"electronic_all_stages": 60, "with_service_id": 20, "valid_card": 20}
    # 100 × (60 × all stages / services + 20 × IDs / services + 20 × valid / cards) ÷ 100:
    # MIN 60·3/4 + 20·4/4 + 20·5/6 = 81.7; ORG 60·1/3 + 20·2/3 + 20·2/3 = 46.7; OTHER 0 + 20 + 20;
    # MIN-KR 0. Agencies with no card are not ranked.
    assert [(r["code"], r["score"], r["rank"]) for r in egov["agencies"]] == [
        ("MIN", 81.7, 1), ("ORG", 46.7, 2), ("OTHER", 40.0, 3), ("MIN-KR", 0.0, 4),
    ]  # fmt: skip
    assert by_code(fixture["agencies"])["IDLE"]["rankings"]["e-government"] == {"score": None, "rank": None}
    # Nothing is delegated: every ranked agency shares the first place of the counters ranking.
    counters = next(r for r in fixture["rankings"] if r["key"] == "counters")
    assert {r["rank"] for r in counters["agencies"]} == {1}
    assert "۶۰ × الکترونیکی در هر سه مرحله" in egov["formula_fa"]
    assert egov["formula_en"].startswith(
        "100 × (60 × Electronic in all three stages + 20 × With a service ID"
    )


def test_the_query_at_family_and_national_level_gives_the_same_figures(tmp_path_factory, template) -> None:
    """The report adds up report-figures.rq's agency rows; the query's own family and national
    levels (what an architect runs on an endpoint) must say the same."""
    stores = [fixture_store(tmp_path_factory.mktemp("levels"), "gaps.ttl"),
              open_store(Settings(store_dir=template), read_only=True)]  # fmt: skip
    for store, day in zip(stores, (FIXTURE_DAY, dt.date(2026, 12, 4)), strict=True):
        try:
            data = evaluate(store, day).data
            prefix = store.minter.agency("x").value[:-1]
            for level, expected in (("family", data["families"]), ("national", [data["national"]])):
                rows = figure_rows(store, level, day, None)
                got = {str(plain(r.pop("unit"))).removeprefix(prefix): r for r in rows}
                for entry in expected:
                    row = got[entry.get("code", "national")]
                    assert figures(row) == figures(entry)
                    assert row["electronic_levels"] == entry["electronic_levels"]
                    assert row["smart_by_maturity"] == entry["smart_by_maturity"]
                assert len(got) == len(expected)
        finally:
            store.close()


def test_an_agency_scope_narrows_every_table(template) -> None:
    store = open_store(Settings(store_dir=template), read_only=True)
    try:
        data = evaluate(store, dt.date(2026, 12, 4), agency="mrud-rmto").data
    finally:
        store.close()
    # mrud-rmto and its Isfahan unit; its family (mrud) is not all in the scope: no family row.
    assert [a["code"] for a in data["agencies"]] == ["mrud-rmto", "mrud-rmto-isf"]
    assert data["families"] == []
    assert figures(data["national"]) == (7, 6, 1, 6, 7, 7, 2, 3)
    # Offices that hold mrud-rmto's delegations (counters.csv): 31012876 and 31064125 (Isfahan:
    # 13150200100), 31013390 (Isfahan: …200, …400), 21045567 (Tehran: 13150200200).
    assert data["provinces"] == [
        {"province": "اصفهان", "agencies_located": 1, "services_delivered": 2, "counter_offices": 3,
         "services_delegated": 3},
        {"province": "تهران", "agencies_located": 0, "services_delivered": 0, "counter_offices": 1,
         "services_delegated": 1},
    ]  # fmt: skip


def test_scores_and_ranks_are_the_documented_arithmetic() -> None:
    assert ranks([50.0, 70.0, 50.0, None, 10.0]) == [2, 1, 2, None, 4]
    entry = {"cards": 4, "services": 2, "with_service_id": 1, "valid_card": 4, "findings": {"Violation": 6}}
    assert score(entry, {"with_service_id": 1, "valid_card": 1, "free_of_violations": 2}) == 37.5
    assert score({"cards": 0}, {"valid_card": 1}) is None
    assert [r["key"] for r in rankings_spec()] == ["overall", "e-government", "counters"]


def test_valid_since_is_one_year_before_like_the_gap_query() -> None:
    assert valid_since(dt.date(2026, 12, 4)) == dt.date(2025, 12, 4)
    assert valid_since(dt.date(2028, 2, 29)) == dt.date(2027, 2, 28)


# ── examples/catalog ──────────────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def catalog(template: Path) -> dict:
    store = open_store(Settings(store_dir=template), read_only=True)
    try:
        return evaluate(store, dt.date(2026, 12, 4)).data
    finally:
        store.close()


def test_catalog_national_figures_counted_from_the_csv(catalog) -> None:
    national = catalog["national"]
    # services.csv: 60 rows; 4 unit rows name their parent's service (same ID): 56 cards, 8 tasks.
    # No ID: mrud's «ثبت‌نام … نهضت ملی مسکن» and maj-fars's «صدور گواهی کشت …»: 46 of 48.
    # No legal basis: maj-spcri 14230500300 (no mission, no basis). Out of date: maj 14230100700
    # (1403/11/15). All three stages «بله» and no office automation: 27 services. Delegated: the
    # 11 service IDs of counters.csv.
    assert figures(national) == (56, 48, 8, 46, 55, 55, 27, 11)
    # Electronic level column: 8 غیرالکترونیکی, 12 اطلاع‌رسانی, 28 برخط; maturity ۱, ۲, ۲, ۳.
    assert national["electronic_levels"] == {"none": 8, "information": 12, "online": 28, "unstated": 0}
    assert national["smart_by_maturity"] == {"1": 1, "2": 2, "3": 1}
    # planted-defects.csv: 15 defects found by shapes, the smart service asking two documents
    # gives one finding per document: 16 violations; two duplicate pairs (maj-ivo / maj-sla).
    assert national["findings"] == {"Violation": 16, "Warning": 0, "Info": 0}
    assert national["duplicate_pairs"] == 2
    assert (national["agencies"], national["families"]) == (19, 6)


def test_catalog_agencies_and_families_counted_from_the_csv(catalog) -> None:
    agencies = by_code(catalog["agencies"])
    # maj: rows 2–11 of services.csv: 8 services (all with ID) and 2 tasks; 14230100700 out of
    # date; all stages electronic: rows 4–8; delegated: 14230100100 and 14230100200.
    assert figures(agencies["maj"]) == (10, 8, 2, 8, 10, 9, 5, 2)
    assert agencies["maj"]["electronic_levels"] == {"none": 1, "information": 2, "online": 5, "unstated": 0}
    # maj-fars: 14230170100 (delegated) and the unit service without ID; its row for 14230100100
    # is maj's service, delivered by the unit.
    assert figures(agencies["maj-fars"]) == (2, 2, 0, 1, 2, 2, 0, 1)
    # mrud-rmto: five services and a task; delegated 13150200100, …200, …400.
    assert figures(agencies["mrud-rmto"]) == (6, 5, 1, 5, 6, 6, 2, 3)
    assert agencies["mrud-rmto"]["smart_by_maturity"] == {"1": 0, "2": 1, "3": 0}
    for empty in ("ncr", "ssaa", "doe", "isf-municipality"):
        assert agencies[empty]["cards"] == 0 and agencies[empty]["rank"] is None
    families = by_code(catalog["families"])
    assert figures(families["maj"]) == (33, 29, 4, 28, 32, 32, 18, 6)
    assert figures(families["mrud"]) == (23, 19, 4, 18, 23, 23, 9, 5)
    assert families["maj"]["agencies"] == 8 and families["mrud"]["agencies"] == 7


def test_catalog_findings_duplicates_and_gaps_per_agency_from_the_planted_defects(catalog) -> None:
    agencies = by_code(catalog["agencies"])
    violations = {c: a["findings"]["Violation"] for c, a in agencies.items() if a["findings"]["Violation"]}
    # planted-defects.csv by agency_code (maj-ppo: fee, two licence findings, two documents).
    assert violations == {
        "maj": 1, "maj-fars": 1, "maj-ivo": 2, "maj-ivo-khrz": 1, "maj-ppo": 5, "maj-sla": 2,
        "maj-spcri": 1, "mrud": 1, "mrud-isf": 1, "mrud-rmto": 1,
    }  # fmt: skip
    assert agencies["maj-sla"]["findings_by_rule"] == {
        "MissionOfOwnProviderShape": 1, "ServiceReachesArticleShape": 1,
    }  # fmt: skip
    assert {c: a["duplicate_pairs"] for c, a in agencies.items() if a["duplicate_pairs"]} == {
        "maj-ivo": 2, "maj-sla": 2,
    }  # fmt: skip
    assert agencies["maj-fars"]["gap_rows"]["gap-unit-services-without-id"] == 1
    rules = {r["rule"]: r for r in catalog["findings_by_rule"]}
    assert (
        rules["FeeNeedsBankAccountShape"]["article_fa"]
        == "مصوبه ۲۰۰/۱۴۵ (نقشه راه توسعه دولت الکترونیکی)، ماده ۹"
    )
    assert rules["SmartNoDocumentsShape"]["count"] == 2


def test_catalog_coverage_by_province_counted_from_the_csv(catalog) -> None:
    # Isfahan: units mrud-isf, mrud-isf-kashan, mrud-rmto-isf and isf-municipality; they provide
    # or deliver 6 services; counter offices 31012876, 31064125, 31013390 hold 4 services.
    assert catalog["provinces"][0] == {
        "province": "اصفهان", "agencies_located": 4, "services_delivered": 6, "counter_offices": 3,
        "services_delegated": 4,
    }  # fmt: skip
    assert [p["province"] for p in catalog["provinces"]] == ["اصفهان", "تهران", "خراسان رضوی", "فارس"]


def test_the_cli_json_has_the_documented_shape_and_narrows_to_a_family(template, capsys) -> None:
    capsys.readouterr()
    args = ["report", "--store", str(template), "--date", CATALOG_DAY, "--format", "json"]
    assert main([*args, "--family", "mrud"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["date"], data["date_jalali"]) == ("2026-12-04", "1405/09/13")
    assert [f["code"] for f in data["families"]] == ["mrud"]
    assert len(data["agencies"]) == 7 and figures(data["national"]) == (23, 19, 4, 18, 23, 23, 9, 5)
    rmto = by_code(data["agencies"])["mrud-rmto"]
    assert {"code", "name", "services", "tasks", "with_service_id", "with_legal_basis", "valid_card",
            "electronic_all_stages", "delegated_to_counters", "findings", "duplicate_pairs", "score",
            "rank"} <= set(rmto)  # fmt: skip
    assert main([*args, "--family", ""]) == 0  # empty: no scope (as `?family=` over HTTP)
    assert len(json.loads(capsys.readouterr().out)["agencies"]) == 19
    assert main([*args, "--agency", "no-such"]) == 2
    assert "no agency with code 'no-such'" in capsys.readouterr().err
    store = open_store(Settings(store_dir=template), read_only=True)
    try:
        for scope in ({"family": "mrud-rmto"}, {"agency": "\x11s\u00ab"}):  # not a family; no IRI
            with pytest.raises(ScopeError):
                evaluate(store, dt.date(2026, 12, 4), **scope)
    finally:
        store.close()


def test_every_report_query_says_its_article_and_runs_without_parameters(template) -> None:
    specs = {n: s for n, s in library().items() if n.startswith("report-")}
    assert set(specs) == {"report-figures", "report-agencies", "report-provinces"}
    for spec in specs.values():
        fa, _, en = spec.summary.partition(" — ")
        assert fa and en.isascii() and "circular 29168 art. 12" in spec.description
        assert spec.decorators["law"] == "circ-29168:12" and "NOW()" not in spec.text
    # As grlc calls them with no parameter: one row per agency; without dates no valid-card count.
    store = open_store(Settings(store_dir=template), read_only=True)
    try:
        rows = run_query(store, specs["report-figures"])
        assert len(rows) == 19 and all("validCard" not in r for r in rows if int(r["cards"].value))
        assert len(run_query(store, specs["report-agencies"])) == 19
        national = run_query(store, specs["report-figures"], {"level": "national"})
        assert [int(r["cards"].value) for r in national] == [56]
    finally:
        store.close()
