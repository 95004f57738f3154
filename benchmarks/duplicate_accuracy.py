"""How well `khadamat duplicates` tells duplicate services apart, measured, not assumed (issue 4).

    python -m benchmarks.duplicate_accuracy [--threshold 0.75] [--pairs tests/data/title-pairs.csv]
        [--kerman examples/kerman-iec/services.csv] [--json]

1. The labeled set (tests/data/title-pairs.csv: pairs of Persian service titles labeled
   duplicate / distinct, with the variant each pair tests): every pair becomes one family — a
   ministry with two affiliated organizations, one service each — written as a CSV submission and
   loaded through the real loader into a real store, so that kh:titleToken come from the loader.
   `find_duplicates` (what the command runs: the three duplicate queries, merged) then reports
   pairs; a labeled pair is predicted duplicate when it is reported. Precision and recall follow.
2. The 58 real services of the Kerman Industrial Estates Company (examples/kerman-iec/, see its
   ATTRIBUTION.md): loaded as one agency, sub-services linked to their parent by the ID pattern
   (13091728100 under 13091728000, as docs/workbook.md shows), and every pair the default reports
   is listed — the titles share long phrases («… در شهرک‌ها، نواحی صنعتی و مناطق ویژه اقتصادی»)
   yet are different services, so every reported pair is a false positive unless a reader judges
   otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from khadamat.loader.submission import load_submission

from khadamat.commands.duplicates import find_duplicates
from khadamat.config import Settings
from khadamat.output import plain
from khadamat.store import OxigraphStore, open_store

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "data" / "title-pairs.csv"


# The published services as the example bundles them (columns service_id, title, …).
KERMAN = ROOT / "examples" / "kerman-iec" / "services.csv"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    duplicate: bool
    variant: str


def read_pairs(path: Path = PAIRS) -> list[Pair]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Pair(r["title_a"], r["title_b"], r["label"] == "duplicate", r["variant"]) for r in rows]


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _store_from(agencies: list[list[str]], services: list[list[str]]) -> OxigraphStore:
    """A fresh in-memory store with the ontology and this submission, loaded by the real loader."""
    store = open_store(Settings.from_env("unused"), in_memory=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_csv(folder / "agencies.csv", ("code", "name", "parent", "kind"), agencies)
        _write_csv(folder / "services.csv", ("agency", "title", "service_id", "parent_service"), services)
        load_submission([folder], store)
    return store


def pairs_store(pairs: Sequence[Pair]) -> OxigraphStore:
    """Pair i: ministry F{i}, organizations F{i}A and F{i}B, one service each (A: title_a, B: title_b)."""
    agencies: list[list[str]] = []
    services: list[list[str]] = []
    for i, pair in enumerate(pairs):
        family = f"F{i:03d}"
        agencies += [
            [family, f"وزارت {i}", "", "وزارتخانه"],
            [family + "A", f"سازمان الف {i}", family, "سازمان"],
            [family + "B", f"سازمان ب {i}", family, "سازمان"],
        ]
        services += [[family + "A", pair.a, "", ""], [family + "B", pair.b, "", ""]]
    return _store_from(agencies, services)


def reported_families(store: OxigraphStore, threshold: float | None) -> set[str]:
    """Families (pair indexes) in which `find_duplicates` reports a pair."""
    found = set()
    for row in find_duplicates(store, threshold=threshold):
        agency = str(plain(row["agencyA"])).rsplit("/", 1)[-1]
        found.add(agency[:4])
    return found


def measure_pairs(pairs: Sequence[Pair], threshold: float | None) -> dict[str, object]:
    store = pairs_store(pairs)
    t0 = time.monotonic()
    found = reported_families(store, threshold)
    seconds = time.monotonic() - t0
    tp = fp = fn = 0
    errors = []
    for i, pair in enumerate(pairs):
        predicted = f"F{i:03d}" in found
        tp += predicted and pair.duplicate
        fp += predicted and not pair.duplicate
        fn += pair.duplicate and not predicted
        if predicted != pair.duplicate:
            errors.append(
                {
                    "kind": "false positive" if predicted else "false negative",
                    "a": pair.a,
                    "b": pair.b,
                    "variant": pair.variant,
                }
            )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "pairs": len(pairs),
        "duplicates": sum(p.duplicate for p in pairs),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "query_seconds": round(seconds, 2),
        "errors": errors,
    }


def _parent_id(service_id: str, ids: set[str]) -> str:
    # 13091728105 belongs to 13091728000: the last three digits number the sub-services.
    parent = service_id[:8] + "000"
    return parent if parent != service_id and parent in ids else ""


def kerman_store(path: Path = KERMAN, with_parents: bool = True) -> OxigraphStore:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    ids = {r["service_id"] for r in rows}
    agencies = [
        ["ISIPO", "سازمان صنایع کوچک و شهرک‌های صنعتی ایران", "", "سازمان"],
        ["IEC-KR", "شرکت شهرک‌های صنعتی استان کرمان", "ISIPO", "شرکت دولتی"],
    ]
    services = [
        ["IEC-KR", r["title"], r["service_id"], _parent_id(r["service_id"], ids) if with_parents else ""]
        for r in rows
    ]
    return _store_from(agencies, services)


def measure_kerman(
    threshold: float | None, with_parents: bool = True, path: Path = KERMAN
) -> list[dict[str, object]]:
    store = kerman_store(path, with_parents=with_parents)
    out = []
    for row in find_duplicates(store, threshold=threshold):
        ids = [str(plain(row[k])).rsplit("/", 1)[-1] for k in ("serviceA", "serviceB")]
        out.append(
            {
                "a": ids[0],
                "b": ids[1],
                "titleA": plain(row["titleA"]),
                "titleB": plain(row["titleB"]),
                "reason": row["reason"],
                "score": row["score"],
            }
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, help="near-duplicate threshold (default: the query's)")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--kerman", type=Path, default=KERMAN, help="the Kerman services (a services.csv)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result: dict[str, object] = {"labeled": measure_pairs(read_pairs(args.pairs), args.threshold)}
    result["kerman"] = measure_kerman(args.threshold, path=args.kerman)
    result["kerman_without_parent_links"] = measure_kerman(args.threshold, False, args.kerman)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    labeled = result["labeled"]
    assert isinstance(labeled, dict)
    print(
        f"labeled pairs: {labeled['pairs']} ({labeled['duplicates']} duplicates) — precision "
        f"{labeled['precision']}, recall {labeled['recall']} (TP {labeled['true_positives']}, "
        f"FP {labeled['false_positives']}, FN {labeled['false_negatives']})"
    )
    for error in labeled["errors"]:  # type: ignore[union-attr]
        print(f"  {error['kind']:15} [{error['variant']}] {error['a']}  |  {error['b']}")
    for key in ("kerman", "kerman_without_parent_links"):
        if key in result:
            rows = result[key]
            assert isinstance(rows, list)
            print(f"{key}: {len(rows)} pair(s) reported at the default threshold")
            for r in rows:
                print(f"  {r['score']:.3f} {r['a']} {r['b']} [{r['reason']}]")
                print(f"     {r['titleA']}\n     {r['titleB']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
