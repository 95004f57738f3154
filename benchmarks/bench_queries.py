"""Speed of the gap and duplicate queries on a generated catalog (issues 4 and 13).

    python -m benchmarks.bench_queries --store DIR [--catalog DIR] [--repeat 3] [--json]

`--store` is a store already loaded with a generated catalog (`python -m benchmarks.generate
--services 50000 --seed 1 --out CAT` then `khadamat load --store DIR CAT/submission`). Every query
of the library runs `--repeat` times with its default parameters (the electronic-priorities
ranking: its first page of 100); the median wall time is reported with every run, the CPU time,
the load average seen during the runs, the row count and the budget of benchmarks/targets.json
(each gap query ≤ 2 s, each duplicate query ≤ 5 s). With `--catalog`, the planted duplicate and
near-duplicate titles of its truth.csv are looked up among the reported pairs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
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

TARGETS = Path(__file__).resolve().parent / "targets.json"


def budgets(path: Path = TARGETS) -> dict[str, float]:
    """Seconds allowed per query tag (gaps, duplicates), from the targets file."""
    targets = json.loads(path.read_text(encoding="utf-8"))["targets"]
    out = {}
    for target in targets:
        if target["part"] == "queries" and "max" in target:
            tag = target["path"].split("[tag=", 1)[1].split("]", 1)[0]
            out[tag] = float(target["max"])
    return out


def time_query(store: OxigraphStore, name: str, repeat: int) -> dict[str, object]:
    """Median wall time of `repeat` runs, every run's wall and CPU time, load average and rows."""
    spec = library()[name]
    walls, cpus, loads, count = [], [], [], 0
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        count = len(run_query(store, spec, {}))
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        loads.append(os.getloadavg()[0])
    return {
        "seconds": round(statistics.median(walls), 3),
        "runs": [round(s, 3) for s in walls],
        "cpu_seconds": round(statistics.median(cpus), 3),
        "load_average": [round(x, 2) for x in loads],
        "rows": count,
    }


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


def measure(store: OxigraphStore, repeat: int = 3, catalog: Path | None = None) -> dict[str, object]:
    """Every library query timed on `store` (what run_all records as the `queries` part)."""
    allowed = budgets()
    services = store.select(f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{KH}CardItem> }}")
    results = []
    for name, spec in sorted(library().items()):
        # The library's own tags (grlc `#+ tags`): gaps and duplicates have a budget each; the
        # report's figures are timed with the whole report (benchmarks/bench_report.py).
        tag = next((t for t in ("gaps", "duplicates") if t in spec.tags), None)
        if tag is None:
            continue
        timing = time_query(store, name, repeat)
        results.append(
            {
                "query": name,
                "tag": tag,
                **timing,
                "budget": allowed[tag],
                "within": timing["seconds"] <= allowed[tag],
            }
        )
    report: dict[str, object] = {
        "card_items": int(plain(services[0]["n"])),
        "repeat": repeat,
        "queries": results,
    }
    if catalog:
        report["planted"] = found_planted(store, catalog)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path, help="a store loaded with a generated catalog")
    parser.add_argument("--catalog", type=Path, help="the generator's output folder (for truth.csv)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    store = open_store(Settings.from_env(store_dir=args.store), read_only=True)
    report = measure(store, args.repeat, args.catalog)
    results = report["queries"]
    assert isinstance(results, list)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"{report['card_items']} card items in {args.store} (median of {args.repeat} runs)")
        for r in results:
            mark = "ok " if r["within"] else "SLOW"
            print(
                f"  {mark} {r['query']:34} {r['seconds']:7.3f} s  (budget {r['budget']} s)  "
                f"{r['rows']} rows  load {r['load_average']}"
            )
        if "planted" in report:
            print(f"  planted duplicates: {report['planted']}")
    return 0 if all(r["within"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
