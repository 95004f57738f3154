"""Shared helpers of the loader tests: fixture copies, CSV/XLSX writers, store dumps, a generator.

Named test_loader_* so that it sits with the loader tests it serves; it holds no tests itself.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Mapping
from pathlib import Path

import openpyxl
import pyoxigraph as ox
from khadamat.loader.columns import SHEETS

from khadamat.config import Settings
from khadamat.store import OxigraphStore, open_store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "loader"
BASIC = FIXTURES / "basic"
BASE = "https://w3id.org/khadamat/id/"


def disk_store(path: Path) -> OxigraphStore:
    return open_store(Settings(store_dir=path, base=BASE))


def copy_basic(tmp_path: Path, name: str = "basic") -> Path:
    target = tmp_path / name
    shutil.copytree(BASIC, target)
    return target


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def csv_folder_to_xlsx(
    folder: Path,
    target: Path,
    *,
    english_headers: bool = False,
    persian_sheet_names: bool = False,
    extra_sheets: Mapping[str, list[list[object]]] | None = None,
) -> Path:
    """A folder of CSV sheets as one workbook, after `extra_sheets` (name → rows) if given, as an
    agency's template puts its instructions first."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in (extra_sheets or {}).items():
        extra = book.create_sheet(name)
        for row in rows:
            extra.append(row)
    for spec in SHEETS:
        path = folder / f"{spec.key}.csv"
        if not path.exists():
            continue
        header, rows = read_csv(path)
        if english_headers:
            by_header = {c.header: c.key for c in spec.columns}
            header = [by_header.get(h, h) for h in header]
        sheet = book.create_sheet(spec.name if persian_sheet_names else spec.key)
        sheet.append(header)
        for row in rows:
            # numbers as Excel stores them: integers, not text
            sheet.append([int(v) if v.isdigit() and len(v) < 16 else (v or None) for v in row])
    book.save(target)
    return target


def append_rows(path: Path, rows: list[list[object]]) -> None:
    header, old = read_csv(path)
    write_csv(path, header, old + rows)


def dump_lines(store: OxigraphStore, skip: tuple[ox.NamedNode, ...] = ()) -> list[str]:
    """Every quad of every named graph as sorted N-Quads lines (a full, comparable dump)."""
    graphs = [g for g in store.named_graphs() if g not in skip]
    text = store.dump(ox.RdfFormat.N_QUADS, graphs).decode("utf-8")
    return sorted(line for line in text.splitlines() if line.strip())


def graph_lines(store: OxigraphStore, graph: ox.NamedNode) -> list[str]:
    return sorted(f"{q.subject} {q.predicate} {q.object}" for q in store.quads(graph))


def generate_catalog(folder: Path, services: int, agencies: int = 20, description_words: int = 12) -> Path:
    """A synthetic CSV submission: `agencies` organizations under one ministry, each with a mission
    and `services // agencies` fully filled service rows (several MB for a few thousand rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(
        folder / "agencies.csv",
        ["code", "name", "parent", "kind"],
        [["GEN-MIN", "وزارت آزمایشی", "", "وزارتخانه"]]
        + [[f"GEN-{a}", f"سازمان آزمایشی {a}", "GEN-MIN", "سازمان"] for a in range(agencies)],
    )
    write_csv(
        folder / "missions.csv",
        ["code", "agency", "title", "legal_basis"],
        [[f"GM-{a}", f"GEN-{a}", f"ماموریت آزمایشی {a}", "csml:38؛circ-29168:10"] for a in range(agencies)],
    )
    header = [
        "agency",
        "title",
        "service_id",
        "item_kind",
        "nature",
        "description",
        "recipients",
        "audience",
        "channels",
        "e_level",
        "scope",
        "annual_recipients",
        "duration_days",
        "direct_cost",
        "inter_agency",
        "missions",
        "legal_basis",
        "documents",
        "verified_on",
        "steps",
        "start_electronic",
    ]
    words = " ".join(["شرح", "کامل", "خدمت", "برای", "متقاضیان", "حقیقی", "و", "حقوقی"] * description_words)
    rows = []
    for i in range(services):
        a = i % agencies
        rows.append(
            [
                f"GEN-{a}",
                f"خدمت آزمایشی شماره {i} صدور پروانه",
                f"{20000000000 + i}",
                "خدمت",
                "حاکمیتی",
                f"{words} {i}",
                "شهروندان",
                "G2C؛G2B",
                "حضوری؛درگاه اینترنتی",
                "برخط",
                "ملی",
                f"{i * 7}",
                "3",
                "۱٬۲۰۰٬۰۰۰",
                "بله",
                f"GM-{a}",
                "csml:38",
                "کارت ملی؛شناسنامه",
                "۱۴۰۳/۰۴/۰۲",
                "ثبت درخواست؛ بررسی؛ صدور",
                "بله",
            ]
        )
    write_csv(folder / "services.csv", header, rows)
    return folder
