"""Speed of the gap and duplicate queries on a generated catalog (issue 4 §2).

    python -m benchmarks.bench_queries --store DIR [--catalog DIR] [--repeat 1] [--json]

`--store` is a store already loaded with a generated catalog (`python -m benchmarks.generate
--services 50000 --seed 1 --out CAT` then `khadamat load --store DIR CAT/submission`). Every query
of the library runs `--repeat` times with its default parameters; the best time is reported
with the row count and the budget of the issue: each gap query ≤ 2 s, the near-duplicate query
≤ 5 s (the other duplicate queries are held to the same 5 s). With `--catalog`, the planted
duplicate and near-duplicate titles of its truth.csv are looked up among the reported pairs.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from khadamat.commands.duplicates import find_duplicates
from khadamat.config import Settings
from khadamat.namespaces import KH
from khadamat.output import plain
from khadamat.querylib import library, run_query
from khadamat.store import OxigraphStore, open_store

BUDGET = {"gaps": 2.0, "duplicates": 5.0}


def time_query(store: OxigraphStore, name: str, repeat: int) -> tuple[float, int]:
    """Best wall time of `repeat` runs, and the row count."""
    spec = library()[name]
    best, count = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        count = len(run_query(store, spec, {}))
        best = min(best, time.perf_counter() - t0)
    return best, count


def planted_pairs(catalog: Path) -> dict[str, set[frozenset[str]]]:
    """The (service ID, related ID) pairs the generator planted, per defect kind."""
    out: dict[str, set[frozenset[str]]] = {"duplicate_title": set(), "near_duplicate_title": set()}
    with (catalog / "truth.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["defect"] in out and row["service_id"] and row["related"]:
                out[row["defect"]].add(frozenset((row["service_id"], row["related"])))
    return out


def found_planted(store: OxigraphStore, catalog: Path) -> dict[str, object]:
    """How many planted pairs the merged duplicate report contains, and how many rows it has."""
    reported = set()
    rows = find_duplicates(store)
    for row in rows:
        reported.add(frozenset(str(plain(row[k])).rsplit("/", 1)[-1] for k in ("serviceA", "serviceB")))
    out: dict[str, object] = {"reported_pairs": len(rows)}
    for kind, pairs in planted_pairs(catalog).items():
        out[kind] = {"planted": len(pairs), "found": len(pairs & reported)}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path, help="a store loaded with a generated catalog")
    parser.add_argument("--catalog", type=Path, help="the generator's output folder (for truth.csv)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    store = open_store(Settings.from_env(store_dir=args.store), read_only=True)
    services = store.select(f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{KH}CardItem> }}")
    results = []
    for name, spec in sorted(library().items()):
        tag = "gaps" if "gaps" in spec.tags else "duplicates"
        seconds, count = time_query(store, name, args.repeat)
        results.append({"query": name, "seconds": round(seconds, 3), "rows": count,
                        "budget": BUDGET[tag], "within": seconds <= BUDGET[tag]})
    report: dict[str, object] = {"card_items": int(plain(services[0]["n"])), "queries": results}
    if args.catalog:
        report["planted"] = found_planted(store, args.catalog)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"{report['card_items']} card items in {args.store}")
        for r in results:
            mark = "ok " if r["within"] else "SLOW"
            print(f"  {mark} {r['query']:34} {r['seconds']:7.3f} s  (budget {r['budget']} s)  "
                  f"{r['rows']} rows")
        if "planted" in report:
            print(f"  planted duplicates: {report['planted']}")
    return 0 if all(r["within"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
