"""The synthetic catalog generator (benchmarks/generate.py): what every benchmark stands on.

A benchmark's figures are only worth something if the catalog is the same on every run, is a
valid submission per the workbook spec, and carries exactly the defects truth.csv lists. These
tests read the files the generator writes, as the loader and a reviewer would.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from khadamat.jalali import parse_date
from khadamat.normalize import latin_digits, normalize_key, normalize_text
from khadamat.store import Store

# benchmarks/ is a folder of the checkout, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workbook_doc import doc_sheets

from benchmarks.generate import DEFECTS, LICENSE_DEFECTS, REFERENCE_DATE, SERVICE_DEFECTS, main

SHEETS = ("agencies", "laws", "missions", "services", "inquiries", "licenses", "counters")
RATES = {"expired_card": 0.05, "general_unit_service": 0.0, "license_missing_service": 0.1}
SIZE = 300
SYNONYMS = {"مجوز": "پروانه", "اعطای": "صدور", "تجدید": "تمدید"}  # folded for near-duplicates


def generate(out: Path, *extra: str, size: int = SIZE, seed: int = 7) -> Path:
    rates = [f"--rate={k}={v}" for k, v in RATES.items()]
    assert main(["--services", str(size), "--seed", str(seed), "--out", str(out), *rates, *extra]) == 0
    return out


def read(folder: Path, name: str) -> list[dict[str, str]]:
    """A sheet of the submission in `folder` (or truth.csv next to it)."""
    path = folder / f"{name}.csv" if name == "truth" else folder / "submission" / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def values(cell: str) -> list[str]:
    return [v.strip() for v in re.split(r"[؛;\n]", cell) if v.strip()]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="module")
def data(catalog: Path) -> dict[str, list[dict[str, str]]]:
    return {name: read(catalog, name) for name in (*SHEETS, "truth")}


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_byte_identical_files(catalog: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again")
    names = sorted(str(p.relative_to(catalog)) for p in catalog.rglob("*"))
    assert names == sorted(str(p.relative_to(again)) for p in again.rglob("*"))
    assert "truth.csv" in names and "submission/services.csv" in names
    for name in (n for n in names if (catalog / n).is_file()):
        assert (catalog / name).read_bytes() == (again / name).read_bytes(), name


def test_another_seed_gives_another_catalog(catalog: Path, tmp_path: Path) -> None:
    other = generate(tmp_path / "other", seed=8)
    path = "submission/services.csv"
    assert (catalog / path).read_bytes() != (other / path).read_bytes()


# --------------------------------------------------------------------------- spec conformance
def test_every_sheet_has_exactly_the_documented_columns(catalog: Path) -> None:
    expected = {key: [c.key for c in sheet.columns] for key, sheet in doc_sheets().items()}
    assert sorted(expected) == sorted(SHEETS)
    for name in SHEETS:
        with (catalog / "submission" / f"{name}.csv").open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert header == expected[name], name


def corpus_nodes() -> set[str]:
    import pyoxigraph as ox

    from khadamat.resources import data_path

    path = data_path("ontology") / "legal-corpus.ttl"
    if not path.exists():
        pytest.skip("ontology/legal-corpus.ttl is not there yet")
    return {q.subject.value for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)}


def test_every_reference_resolves_in_the_catalog_or_the_corpus(data: dict[str, list[dict[str, str]]]) -> None:
    from khadamat.config import DEFAULT_BASE
    from khadamat.iris import Minter

    minter, corpus = Minter(DEFAULT_BASE), corpus_nodes()
    agencies = {a["code"] for a in data["agencies"]}
    generated = set()
    for row in data["laws"]:
        parts = [row["code"], row["article"], row["part"]]
        generated.add(minter.legal_ref(":".join(p for p in parts if p)).value)
    known_laws = corpus | generated

    def resolves(ref: str) -> bool:
        return minter.legal_ref(ref).value in known_laws

    assert all(a["parent"] in agencies for a in data["agencies"] if a["parent"])
    missions = {m["code"]: m for m in data["missions"]}
    assert all(m["agency"] in agencies and m["legal_basis"] for m in data["missions"])
    assert all(resolves(ref) for m in data["missions"] for ref in values(m["legal_basis"]))
    ids = {s["service_id"] for s in data["services"] if s["service_id"]}
    for s in data["services"]:
        assert s["agency"] in agencies
        assert not s["parent_service"] or s["parent_service"] in ids
        assert all(m in missions for m in values(s["missions"])), s["missions"]
        assert all(resolves(ref) for ref in values(s["legal_basis"])), s["legal_basis"]
    assert all(i["service_id"] in ids and i["agency"] in agencies for i in data["inquiries"])
    assert all(c["service_id"] in ids and c["address"] for c in data["counters"])
    license_defects = {t["related"] for t in data["truth"] if t["defect"] in LICENSE_DEFECTS}
    for lic in data["licenses"]:
        assert lic["agency"] in agencies
        assert lic["service_id"] in ids or lic["code"] in license_defects


def test_ids_are_eleven_digits_and_shared_only_along_one_line(data: dict[str, list[dict[str, str]]]) -> None:
    """A unit delivering its parent's service repeats the ID; nobody outside that line does."""
    parent = {a["code"]: a["parent"] for a in data["agencies"]}
    kind = {a["code"]: a["kind"] for a in data["agencies"]}

    def owner(code: str) -> str:
        while kind[code] in ("واحد استانی", "واحد شهرستانی"):
            code = parent[code]
        return code

    owners: dict[str, set[str]] = defaultdict(set)
    for s in data["services"]:
        if s["service_id"]:
            assert re.fullmatch(r"\d{11}", s["service_id"])
            owners[s["service_id"]].add(owner(s["agency"]))
    assert all(len(o) == 1 for o in owners.values())
    assert all(not s["service_id"] for s in data["services"] if s["item_kind"] == "وظیفه")  # art. 2 item 7
    assert any(len([s for s in data["services"] if s["service_id"] == sid]) > 1 for sid in owners)


def test_hierarchy_has_every_kind_of_agency(data: dict[str, list[dict[str, str]]]) -> None:
    kinds = Counter(a["kind"] for a in data["agencies"])
    assert {"وزارتخانه", "واحد استانی", "واحد شهرستانی"} <= set(kinds)
    assert all(a["province"] for a in data["agencies"] if a["kind"] == "واحد استانی")
    assert all(a["county"] for a in data["agencies"] if a["kind"] == "واحد شهرستانی")
    depth = {a["code"]: a["code"].count(".") for a in data["agencies"]}
    assert max(depth.values()) >= 2  # ministry → provincial unit → county unit


def test_every_agency_has_a_row_and_every_mission_a_service(data: dict[str, list[dict[str, str]]]) -> None:
    """No unplanted gap: affiliates and units all have services, missions are all realized."""
    with_rows = {s["agency"] for s in data["services"]}
    assert [a["code"] for a in data["agencies"] if a["code"] not in with_rows] == []
    realized = {m for s in data["services"] for m in values(s["missions"])}
    assert [m["code"] for m in data["missions"] if m["code"] not in realized] == []


def test_xlsx_is_deterministic_with_persian_headers(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    first = generate(tmp_path / "a", "--format", "xlsx", size=120)
    second = generate(tmp_path / "b", "--format", "xlsx", size=120)
    assert (first / "submission.xlsx").read_bytes() == (second / "submission.xlsx").read_bytes()
    workbook = load_workbook(first / "submission.xlsx", read_only=True)
    sheet = workbook["شناسنامه خدمات"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("کد دستگاه", "عنوان خدمت", "شناسه خدمت")
    assert sum(1 for _ in sheet.iter_rows(min_row=2)) >= 120


# --------------------------------------------------------------------------- planted defects
def primary_rows(services: list[dict[str, str]]) -> dict[int, dict[str, str]]:
    """Services-sheet rows by row number (header = 1), without the units' delivery rows."""
    seen: set[str] = set()
    rows = {}
    for number, row in enumerate(services, start=2):
        if row["service_id"] and row["service_id"] in seen:
            continue
        seen.add(row["service_id"])
        rows[number] = row
    return rows


def found_defects(data: dict[str, list[dict[str, str]]]) -> dict[str, set[str]]:
    """Each defect as a reviewer would find it in the files, independently of truth.csv."""
    rows = primary_rows(data["services"])
    family = {a["code"]: a["code"].split(".")[0] for a in data["agencies"]}
    mission_agency = {m["code"]: m["agency"] for m in data["missions"]}
    delegated_ids = {c["service_id"] for c in data["counters"]}
    process_ids = {i["service_id"] for i in data["inquiries"] if i["kind"] == "فرآیندی"}
    ids = {r["service_id"] for r in rows.values()}
    expired_before = REFERENCE_DATE - dt.timedelta(days=365)

    def money(text: str) -> int:
        return int(re.sub(r"\D", "", latin_digits(text)) or 0)

    checks = {
        "no_service_id": lambda r: not r["service_id"] and r["item_kind"] != "وظیفه",
        "no_legal_basis": lambda r: not r["missions"] and not r["legal_basis"],
        "foreign_mission": lambda r: any(
            family[mission_agency[m]] != family[r["agency"]] for m in values(r["missions"])
        ),
        "expired_card": lambda r: parse_date(r["verified_on"]) < expired_before,
        "task_with_recipient": lambda r: r["item_kind"] == "وظیفه" and bool(r["recipients"]),
        "electronic_stage_not_electronic": lambda r: (
            r["e_level"] == "برخط"
            and "خیر" in (r["start_electronic"], r["production_electronic"], r["delivery_electronic"])
        ),
        "fee_without_bank_account": lambda r: money(r["direct_cost"]) > 0 and not r["bank_account"],
        "delegated_without_counter": lambda r: (
            "پیشخوان" in values(r["channels"]) and r["service_id"] not in delegated_ids
        ),
        "inter_agency_without_process_inquiry": lambda r: (
            r["inter_agency"] == "بله" and r["service_id"] not in process_ids
        ),
        "smart_with_documents": lambda r: bool(r["smart_level"] and r["documents"]),
        "general_unit_service": lambda r: r["general_unit"] == "بله",
    }
    found = {name: {f"services!{n}" for n, r in rows.items() if check(r)} for name, check in checks.items()}
    found["license_without_service_id"] = {
        f"licenses!{n}" for n, lic in enumerate(data["licenses"], start=2) if not lic["service_id"]
    }
    found["license_missing_service"] = {
        f"licenses!{n}"
        for n, lic in enumerate(data["licenses"], start=2)
        if lic["service_id"] and lic["service_id"] not in ids
    }
    found.update(duplicate_pairs(rows, family))
    return found


def duplicate_pairs(rows: dict[int, dict[str, str]], family: dict[str, str]) -> dict[str, set[str]]:
    """Titles equal after normalization (exact) or after folding the synonyms too (near), per family."""
    exact: dict[tuple[str, str], list[int]] = defaultdict(list)
    near: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, r in rows.items():
        text = normalize_text(r["title"])
        exact[(family[r["agency"]], normalize_key(text))].append(n)
        folded = "".join(SYNONYMS.get(w, w) for w in text.split(" "))
        near[(family[r["agency"]], folded)].append(n)
    exact_rows = {n for group in exact.values() if len(group) > 1 for n in group}
    near_rows = {n for group in near.values() if len(group) > 1 for n in group} - exact_rows
    return {
        "duplicate_title": {f"services!{n}" for n in exact_rows},
        "near_duplicate_title": {f"services!{n}" for n in near_rows},
    }


def test_truth_lists_exactly_the_defects_found_in_the_files(data: dict[str, list[dict[str, str]]]) -> None:
    """Every planted defect is where truth.csv says, and the rest of the catalog is clean."""
    found = found_defects(data)
    number = {s["service_id"]: n for n, s in primary_rows(data["services"]).items() if s["service_id"]}
    for name in DEFECTS:
        truth = [t for t in data["truth"] if t["defect"] == name]
        expected = {t["row_key"] for t in truth}
        if name in ("duplicate_title", "near_duplicate_title"):  # the originals are rows too
            expected |= {f"services!{number[t['related']]}" for t in truth}
        assert found[name] == expected, name


def test_defect_counts_follow_the_requested_rates(data: dict[str, list[dict[str, str]]]) -> None:
    counts = Counter(t["defect"] for t in data["truth"])
    for name in SERVICE_DEFECTS:
        assert counts[name] == round(RATES.get(name, 0.02) * SIZE), name
    for name in LICENSE_DEFECTS:
        assert counts[name] == round(RATES.get(name, 0.02) * len(data["licenses"])), name
    assert counts["general_unit_service"] == 0
    assert len({t["row_key"] for t in data["truth"]}) == len(data["truth"])  # one defect per row


def test_every_card_field_is_used_somewhere(data: dict[str, list[dict[str, str]]]) -> None:
    for name in SHEETS:
        rows = data[name]
        empty = [k for k in rows[0] if not any(r[k] for r in rows)]
        assert empty == [], (name, empty)


def test_split_per_family_writes_one_submission_per_ministry(tmp_path: Path) -> None:
    out = generate(tmp_path / "split", "--split-per-family")
    families = sorted(p.name for p in (out / "families").iterdir())
    ministries = sorted(a["code"] for a in read(out, "agencies") if not a["parent"])
    assert families == ministries
    split_rows = sum(len(read(out / "families" / f, "services")) for f in families)
    assert all(sorted(p.name for p in (out / "families" / f).iterdir()) == ["submission"] for f in families)
    assert split_rows == len(read(out, "services"))


# --------------------------------------------------------------------------- the real loader
KH = "PREFIX kh: <https://w3id.org/khadamat/ontology#> "


def count(store: Store, where: str) -> int:
    """How many distinct ?s match the pattern."""
    return int(store.select(KH + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}")[0]["n"].value)


def test_small_catalog_loads_with_the_real_loader(tmp_path: Path) -> None:
    """200 card items load as 200 nodes: unit rows join their owner's service, nothing is refused."""
    pytest.importorskip("khadamat.loader")
    from benchmarks.bench_load import loader_api
    from khadamat.config import Settings
    from khadamat.store import open_store

    folder = generate(tmp_path / "small", size=200)
    truth = Counter(t["defect"] for t in read(folder, "truth"))
    delivery_rows = len(read(folder, "services")) - 200
    store = open_store(Settings.from_env(store_dir=tmp_path / "store"))
    try:
        submission = loader_api()([folder / "submission"], store)
        assert count(store, "VALUES ?c { kh:Service kh:Task } ?s a ?c") == 200
        without_id = "?s a kh:Service OPTIONAL { ?s kh:serviceId ?id } FILTER(!BOUND(?id))"
        assert count(store, without_id) == truth["no_service_id"]
        assert count(store, "?s kh:deliveredBy ?unit") > 0 and delivery_rows > 0
        assert count(store, "?s a kh:Delegation") == len(read(folder, "counters"))
        assert count(store, "?s a kh:License") == len(read(folder, "licenses"))
        agencies = {a["code"] for a in read(folder, "agencies")}
        assert submission.agencies and set(submission.agencies) <= agencies
    finally:
        store.close()
