"""The bundled examples and the built-in legal corpus, checked as files.

Why: the loader, the shapes and the queries are all tested against `examples/`, and every shape
points at a node of `ontology/legal-corpus.ttl`. If an example drifts from the workbook spec, cites
a law the corpus does not hold, or its truth list (`examples/planted-defects.csv`) stops describing it, those
tests would chase the wrong thing. These checks read the CSV files and the Turtle directly; the
last one loads both examples with the real loader into a real store.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from khadamat.loader import columns as cols
from khadamat.loader.cells import parse_int
from workbook_doc import doc_sheets

from khadamat.config import DEFAULT_BASE
from khadamat.iris import Minter
from khadamat.jalali import parse_date
from khadamat.namespaces import DCT, ELI, KH, RDF
from khadamat.normalize import latin_digits, normalize_key, normalize_text
from khadamat.resources import data_path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CATALOG = EXAMPLES / "catalog"
KERMAN = EXAMPLES / "kerman-iec"
KERMAN_PUBLISHED_SHA256 = "fc551b56d4283f20d3f4addb20986c99c26bba7412b7e0f6274a6cd52c73d77f"
CORPUS = data_path("ontology") / "legal-corpus.ttl"
MINT = Minter(DEFAULT_BASE)
# The truth list holds for any validation day in this window (see examples/README.md).
VALIDATION_DAYS = (dt.date(2026, 2, 4), dt.date(2026, 6, 30), dt.date(2026, 11, 23), dt.date(2027, 8, 27))
SHEETS = {
    spec.key: spec
    for spec in (
        cols.AGENCIES,
        cols.LAWS,
        cols.MISSIONS,
        cols.SERVICES,
        cols.INQUIRIES,
        cols.LICENSES,
        cols.COUNTERS,
    )
}
YES, NO = "بله", "خیر"


# ── reading ────────────────────────────────────────────────────────────────────────────────
def read_sheet(folder: Path, sheet: str) -> list[dict[str, str]]:
    """Rows of one CSV keyed by the English column key (headers may be Persian or keys)."""
    path = folder / f"{sheet}.csv"
    if not path.exists():
        return []
    index = {normalize_key(c.key): c.key for c in SHEETS[sheet].columns}
    index |= {normalize_key(c.header): c.key for c in SHEETS[sheet].columns}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        keys = [index[normalize_key(h)] for h in next(reader)]
        return [{k: v.strip() for k, v in zip(keys, row, strict=True)} for row in reader]


def multi(cell: str) -> list[str]:
    return [v.strip() for v in re.split(r"[؛;\n]", cell or "") if v.strip()]


def corpus_store() -> ox.Store:
    store = ox.Store()
    store.load(path=str(CORPUS), format=ox.RdfFormat.TURTLE)
    return store


def objects(store: ox.Store, subject: ox.NamedNode, predicate: str) -> list:
    return [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)]


def catalog() -> dict[str, list[dict[str, str]]]:
    return {sheet: read_sheet(CATALOG, sheet) for sheet in SHEETS}


def truth() -> list[dict[str, str]]:
    with (EXAMPLES / "planted-defects.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def planted(defect_prefix: str) -> set[str]:
    """Focus IRIs (relative to the base) of the truth rows whose defect starts with the prefix."""
    return {row["focus"] for row in truth() if row["defect"].startswith(defect_prefix)}


def owner(agency: str, agencies: list[dict[str, str]]) -> str:
    """The nearest ancestor that is not a unit (docs/architecture.md, service IRIs)."""
    by_code = {a["code"]: a for a in agencies}
    while by_code[agency]["kind"] in ("واحد استانی", "واحد شهرستانی"):
        agency = by_code[agency]["parent"]
    return agency


def focus(row: dict[str, str], agencies: list[dict[str, str]]) -> str:
    """The IRI the loader mints for a service row, relative to the base."""
    if row.get("service_id"):
        node = MINT.service(owner(row["agency"], agencies), row["service_id"])
    else:
        node = MINT.unidentified_item(row["agency"], normalize_text(row["title"]))
    return node.value[len(DEFAULT_BASE) :]


def services_by_focus() -> dict[str, dict[str, str]]:
    """Service rows by focus IRI; a unit's row that repeats its owner's ID is the same node."""
    data = catalog()
    return {focus(r, data["agencies"]): r for r in reversed(data["services"])}


# ── headers ────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("folder", [CATALOG, KERMAN], ids=["catalog", "kerman-iec"])
def test_every_header_is_a_documented_header_or_key(folder: Path) -> None:
    tables = doc_sheets()  # docs/workbook.md, the input format as users read it
    files = sorted(folder.glob("*.csv"))
    assert files
    for path in files:
        assert path.stem in tables, f"{path.name} is not named after a sheet of docs/workbook.md"
        allowed = {c.key for c in tables[path.stem].columns} | {c.header for c in tables[path.stem].columns}
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert set(header) <= allowed, f"{path.name}: {set(header) - allowed}"


def test_catalog_headers_are_persian_and_kerman_headers_are_keys() -> None:
    with (CATALOG / "services.csv").open(encoding="utf-8") as handle:
        assert next(csv.reader(handle))[:3] == ["کد دستگاه", "عنوان خدمت", "شناسه خدمت"]
    with (KERMAN / "services.csv").open(encoding="utf-8") as handle:
        assert next(csv.reader(handle))[:3] == ["agency", "title", "service_id"]


# ── the legal corpus ───────────────────────────────────────────────────────────────────────
def test_corpus_parses_with_rdflib_too() -> None:
    rdflib = pytest.importorskip("rdflib")
    graph = rdflib.Graph().parse(CORPUS, format="turtle")
    assert len(graph) == len(corpus_store())


def test_every_corpus_article_and_part_iri_is_what_minter_gives() -> None:
    store = corpus_store()
    checked = 0
    for quad in store.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(KH + "Article")):
        article = quad.subject
        (law,) = objects(store, article, ELI + "is_part_of")
        (code,) = objects(store, law, KH + "legalCode")
        (number,) = objects(store, article, KH + "articleNumber")
        assert article == MINT.legal_ref(f"{code.value}:{number.value}")
        assert article in objects(store, law, ELI + "has_part")
        for part in objects(store, article, ELI + "has_part"):
            (label,) = objects(store, part, KH + "partLabel")
            assert part == MINT.legal_ref(f"{code.value}:{number.value}:{label.value}")
            assert objects(store, part, ELI + "is_part_of") == [article]
            checked += 1
        checked += 1
    assert checked == 28 + 38  # articles; parts: 24 + 3 + 6 (circ-29168), 3, 1, 1


def test_corpus_holds_the_spec_codes_and_the_cited_articles() -> None:
    store = corpus_store()

    def articles(code: str) -> set[str]:
        law = MINT.law(code)
        parts = objects(store, law, ELI + "has_part")
        return {objects(store, a, KH + "articleNumber")[0].value for a in parts}

    def parts(code: str, article: str) -> list[str]:
        node = MINT.article(code, article)
        return sorted(
            latin_digits(objects(store, p, KH + "partLabel")[0].value)
            for p in objects(store, node, ELI + "has_part")
        )

    assert articles("circ-29168") == {str(n) for n in range(1, 13)}
    assert parts("circ-29168", "2") == sorted(f"بند {n}" for n in range(1, 25))
    assert parts("circ-29168", "4") == ["تبصره 1", "تبصره 2", "تبصره 3"]
    assert parts("circ-29168", "5") == sorted(f"بند {n}" for n in range(1, 7))
    assert articles("reg-egov-services") == {"14", "18", "19", "21"}
    assert parts("reg-egov-services", "14") == ["تبصره 1", "تبصره 2", "تبصره 3"]
    assert articles("csml") == {"5", "16", "36", "38"}
    assert parts("fifth-plan", "46") == ["بند ج جزء 2"]
    assert parts("ara-roadmap", "24") == ["تبصره"]
    assert articles("sac-1126446") == {"1", "2"}
    assert articles("res-206-93-7740") == {"2"} and articles("res-200-145") == {"9"}
    assert articles("reg-counters") == {"4"} and articles("ndiml") == {"10"}
    assert articles("circ-643356") == set()


def test_corpus_dates_are_the_documents_jalali_dates() -> None:
    store = corpus_store()
    expected = {
        "circ-29168": "1403/04/02",
        "sac-1126446": "1395/12/28",
        "res-206-93-7740": "1393/6/10",
        "res-200-145": "1393/6/11",
        "circ-643356": "1395/5/6",
    }
    dated = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(ELI + "date_document"), None):
        (code,) = objects(store, quad.subject, KH + "legalCode")
        dated[code.value] = dt.date.fromisoformat(quad.object.value)
    assert dated == {code: parse_date(day) for code, day in expected.items()}
    (title,) = objects(store, MINT.law("circ-29168"), DCT + "title")
    assert title.value == "بخشنامه ساماندهی و بازتعریف خدمات دستگاه‌های اجرایی"


def test_item_7_of_article_2_defines_the_task() -> None:
    store = corpus_store()
    (text,) = objects(store, MINT.legal_ref("circ-29168:2:بند ۷"), KH + "text")
    assert text.value.startswith("وظیفه:") and "خدمت‌گیرنده مستقیم نیست" in text.value


# ── references resolve ─────────────────────────────────────────────────────────────────────
def laws_sheet_nodes(rows: list[dict[str, str]]) -> set[ox.NamedNode]:
    nodes = set()
    for row in rows:
        nodes.add(MINT.law(row["code"]))
        if row.get("article"):
            nodes.add(MINT.article(row["code"], row["article"]))
            if row.get("part"):
                nodes.add(MINT.article_part(row["code"], row["article"], row["part"]))
    return nodes


def test_every_legal_reference_resolves_to_an_article_of_the_corpus_or_the_laws_sheet() -> None:
    data = catalog()
    store = corpus_store()
    articles = {
        q.subject
        for kind in ("Article", "ArticlePart")
        for q in store.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(KH + kind))
    }
    sheet = laws_sheet_nodes(data["laws"])
    sheet_articles = {n for n in sheet if "/article/" in n.value}
    corpus_nodes = {q.subject for q in store.quads_for_pattern(None, None, None)}
    assert not sheet & corpus_nodes, "the laws sheet redefines a node of the corpus"
    refs = [(r["code"], ref) for r in data["missions"] for ref in multi(r["legal_basis"])]
    refs += [(r["title"], ref) for r in data["services"] for ref in multi(r.get("legal_basis", ""))]
    assert len(refs) > 20
    for where, ref in refs:
        assert MINT.legal_ref(ref) in articles | sheet_articles, f"{where}: {ref}"
    cited_corpus = {MINT.legal_ref(ref) for _, ref in refs} & articles
    assert MINT.legal_ref("csml:38") in cited_corpus
    assert MINT.legal_ref("fifth-plan:46:بند ج جزء ۲") in cited_corpus


def test_every_agency_mission_and_service_reference_resolves() -> None:
    data = catalog()
    agencies = {a["code"] for a in data["agencies"]}
    missions = {m["code"]: m["agency"] for m in data["missions"]}
    ids = {s["service_id"] for s in data["services"] if s.get("service_id")}
    assert len(agencies) == len(data["agencies"]) and len(missions) == len(data["missions"])
    assert {a["parent"] for a in data["agencies"] if a["parent"]} <= agencies
    assert set(missions.values()) <= agencies
    for sheet in ("services", "inquiries", "licenses"):
        assert {r["agency"] for r in data[sheet]} <= agencies, sheet
    assert {m for s in data["services"] for m in multi(s.get("missions", ""))} <= set(missions)
    assert {s["parent_service"] for s in data["services"] if s.get("parent_service")} <= ids
    assert {q["service_id"] for q in data["inquiries"]} <= ids
    assert {c["service_id"] for c in data["counters"]} <= ids
    kinds = {a["kind"] for a in data["agencies"]}
    assert {"وزارتخانه", "سازمان", "شرکت دولتی", "مؤسسه دولتی", "واحد استانی", "واحد شهرستانی"} <= kinds


def test_kerman_references_resolve_and_parents_follow_the_id_structure() -> None:
    agencies = read_sheet(KERMAN, "agencies")
    services = read_sheet(KERMAN, "services")
    assert [(a["code"], a.get("parent", "")) for a in agencies] == [
        ("mimt", ""),
        ("isipo", "mimt"),
        ("kerman-iec", "isipo"),
    ]
    ids = {s["service_id"] for s in services}
    for service in services:
        parent = service.get("parent_service", "")
        assert service["agency"] == "kerman-iec"
        if parent:
            assert parent in ids
            sid = service["service_id"]
            assert parent == (sid[:9] + "00" if sid[9:] != "00" else sid[:8] + "000")
    assert Counter(bool(s.get("parent_service")) for s in services)[True] == 28
    assert next(s for s in services if s["service_id"] == "13091728100")["parent_service"] == "13091728000"
    assert next(s for s in services if s["service_id"] == "13091721101")["parent_service"] == ""


def test_kerman_has_exactly_the_58_published_ids_and_titles() -> None:
    # The published list (examples/kerman-iec/ATTRIBUTION.md) is not kept twice: its (ID, title,
    # group) triples, sorted and joined as lines "id<TAB>title<TAB>group", hash to this digest.
    services = read_sheet(KERMAN, "services")
    lines = sorted(f"{s['service_id']}\t{s['title']}\t{s['subtypes']}" for s in services)
    assert len(services) == len({s["service_id"] for s in services}) == 58
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == KERMAN_PUBLISHED_SHA256


# ── the truth list describes the catalog ───────────────────────────────────────────────────
def test_truth_list_rows_name_real_rows_of_the_catalog() -> None:
    data = catalog()
    by_focus = services_by_focus()
    licenses = {MINT.license(x["code"]).value[len(DEFAULT_BASE) :]: x for x in data["licenses"]}
    rows = truth()
    assert Counter(r["defect"] for r in rows) == Counter(
        {
            "no-service-id": 1,
            "unit-service-without-id": 1,
            "no-legal-basis": 1,
            "mission-of-another-agency": 2,
            "expired-card": 1,
            "task-with-recipient": 1,
            "electronic-not-all-stages": 1,
            "fee-without-bank-account": 1,
            "inter-agency-without-process-inquiry": 1,
            "smart-service-asks-documents": 1,
            "delegated-without-counter-offices": 1,
            "license-without-service-id": 2,
            "license-of-unknown-service": 1,
            "duplicate-title": 2,
            "near-duplicate-synonym": 2,
        }
    )
    for row in rows:
        item = by_focus.get(row["focus"]) or licenses[row["focus"]]
        assert (item["agency"], item.get("service_id", ""), item["title"]) == (
            row["agency_code"],
            row["service_id"],
            row["title"],
        ), row
        assert MINT.legal_ref(row["article"]).value.startswith(DEFAULT_BASE + "law/")


@pytest.mark.parametrize("day", VALIDATION_DAYS, ids=str)
def test_only_the_planted_card_is_out_of_date(day: dt.date) -> None:
    by_focus = services_by_focus()
    cutoff = day.replace(year=day.year - 1)
    assert {f for f, r in by_focus.items() if parse_date(r["verified_on"]) < cutoff} == planted("expired")


def test_only_the_planted_rows_break_the_id_and_task_rules() -> None:
    by_focus = services_by_focus()
    services = {f: r for f, r in by_focus.items() if r["item_kind"] == "خدمت"}
    tasks = {f: r for f, r in by_focus.items() if r["item_kind"] == "وظیفه"}
    without_id = {f for f, r in services.items() if not r["service_id"]}
    assert without_id == planted("no-service-id") | planted("unit-service-without-id")
    assert not any(r.get("service_id") for r in tasks.values())
    assert {f for f, r in tasks.items() if r.get("recipients") or r.get("audience")} == planted("task-with")


def test_only_the_planted_rows_break_the_electronic_fee_and_counter_rules() -> None:
    data = catalog()
    services = {f: r for f, r in services_by_focus().items() if r["item_kind"] == "خدمت"}
    online = {f: r for f, r in services.items() if r["e_level"] == "برخط"}
    stages = ("start_electronic", "production_electronic", "delivery_electronic")
    assert {f for f, r in online.items() if any(r[s] != YES for s in stages)} == planted("electronic-")
    assert all(r["office_automation"] == NO and r["general_unit"] == NO for r in services.values())
    smart = {f: r for f, r in services.items() if r.get("smart_level")}
    assert set(smart) <= set(online) and len(smart) == 4
    assert {f for f, r in smart.items() if r.get("documents")} == planted("smart-")
    fee = {f for f, r in services.items() if parse_int(r["direct_cost"]) > 0}
    assert {f for f in fee if not services[f].get("bank_account")} == planted("fee-")
    listed = Counter(c["service_id"] for c in data["counters"])
    delegated = {
        f
        for f, r in services.items()
        if "پیشخوان" in multi(r["channels"]) or parse_int(r["counter_offices"]) > 0
    }
    assert {f for f in delegated if not listed[services[f]["service_id"]]} == planted("delegated-")
    assert all(
        parse_int(services[f]["counter_offices"]) == listed[services[f]["service_id"]]
        for f in delegated - planted("delegated-")
    )
    assert all(r.get("in_person_reason") for f, r in services.items() if f not in online)


def test_only_the_planted_rows_break_the_inquiry_license_and_mission_rules() -> None:
    data = catalog()
    services = {f: r for f, r in services_by_focus().items() if r["item_kind"] == "خدمت"}
    process = {q["service_id"] for q in data["inquiries"] if q["kind"] == "فرآیندی"}
    inter = {f for f, r in services.items() if r["inter_agency"] == YES}
    assert {f for f in inter if services[f]["service_id"] not in process} == planted("inter-agency")
    assert not {services[f]["service_id"] for f in services if f not in inter} & process
    ids = {r["service_id"] for r in services.values() if r["service_id"]}
    broken = {
        MINT.license(x["code"]).value[len(DEFAULT_BASE) :]
        for x in data["licenses"]
        if x["service_id"] not in ids
    }
    assert broken == planted("license-")
    holder = {m["code"]: m["agency"] for m in data["missions"]}
    agencies = data["agencies"]
    foreign = {
        f
        for f, r in services.items()
        if any(holder[m] != owner(r["agency"], agencies) for m in multi(r.get("missions", "")))
    }
    assert foreign == planted("mission-of-another")
    bare = {f for f, r in services.items() if not r.get("missions") and not r.get("legal_basis")}
    assert bare == planted("no-legal-basis")


def test_planted_duplicates_normalize_to_the_same_title() -> None:
    by_focus = services_by_focus()
    written = [by_focus[f]["title"] for f in sorted(planted("duplicate-title"))]
    exact = [normalize_text(t) for t in written]
    assert len(exact) == 2 and exact[0] == exact[1] and written[0] != written[1]
    near = sorted(normalize_text(by_focus[f]["title"]) for f in planted("near-duplicate"))
    assert [t.replace("مجوز", "پروانه") for t in near] == [near[0].replace("مجوز", "پروانه")] * 2
    titles = Counter(normalize_text(r["title"]) for f, r in by_focus.items())
    assert [t for t, n in titles.items() if n > 1] == [exact[0]]


# ── both examples load with the real loader ────────────────────────────────────────────────
def test_both_examples_load_into_one_store(tmp_path: Path) -> None:
    loader = pytest.importorskip("khadamat.loader.sheets")  # the loader package must be installed
    del loader
    from khadamat.cli import main

    store = tmp_path / "store"
    assert main(["load", "--store", str(store), str(CATALOG)]) == 0
    assert main(["load", "--store", str(store), str(KERMAN)]) == 0
    from khadamat.config import Settings
    from khadamat.store import open_store

    opened = open_store(Settings.from_env(store_dir=store), read_only=True)
    try:
        query = f"PREFIX kh: <{KH}> SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a kh:Service }}"
        rows = opened.select(query)
        assert int(rows[0]["n"].value) == 48 + 58
        parents = opened.select(f"PREFIX kh: <{KH}> SELECT ?s WHERE {{ ?s kh:parentService ?p }}")
        assert len(parents) == 2 + 28
    finally:
        opened.close()
