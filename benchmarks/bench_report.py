"""Time of the annual evaluation report on a generated catalog (issue 12; target ≤ 10 s at 50k).

    python -m benchmarks.bench_report --store DIR [--date 1405/09/13] [--repeat 3] [--json]

`--store` is a store already loaded with a generated catalog (`python -m benchmarks.generate
--services 50000 --seed 1 --out CAT` then `khadamat load --store DIR CAT/submission`). The whole
report — `khadamat.report.evaluate` (every figure query, the validation, the duplicate and gap
queries, the rankings) and the HTML page with its charts — runs `--repeat` times; the median wall
time is reported with every run, the CPU time and the load average seen, and then one run of each
step alone, so that a miss says where the time goes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from khadamat.config import Settings
from khadamat.jalali import parse_date
from khadamat.report import evaluate
from khadamat.report import figures as fig
from khadamat.report.writers import render, write
from khadamat.store import OxigraphStore, open_store

TARGETS = Path(__file__).resolve().parent / "targets.json"
# The steps `khadamat report --format html` runs (the figures at the agency level only: a family's
# and the nation's are sums of its agencies').
REPORT_STEPS = (
    "report-agencies.rq",
    "report-figures.rq (agency)",
    "report-provinces.rq",
    "validation (findings)",
    "duplicate queries",
    "gap queries",
    "write html",
)


def _timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    value = work()
    return time.perf_counter() - started, time.process_time() - cpu, value


def steps(store: OxigraphStore, day: dt.date) -> tuple[dict[str, float], dict[str, float]]:
    """Wall and CPU seconds of each step of the report, run once each (what `evaluate` and the
    writers do). The CPU seconds add up to the work the report has to do: on C cores it cannot
    take less than their sum / C, however its parts are spread."""
    out: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, work in (
        ("report-agencies.rq", lambda: fig.agency_rows(store, None)),
        ("report-figures.rq (agency)", lambda: fig.figure_rows(store, "agency", day, None)),
        ("report-figures.rq (family)", lambda: fig.figure_rows(store, "family", day, None)),
        ("report-figures.rq (national)", lambda: fig.figure_rows(store, "national", day, None)),
        ("report-provinces.rq", lambda: fig.province_rows(store, None)),
        ("validation (findings)", lambda: fig.findings_of(store, day, None)),
        ("duplicate queries", lambda: fig.duplicate_pairs(store, fig.duplicate_answers(store, None))),
        ("gap queries", lambda: fig.gap_counts(store, *fig.gap_answers(store, day, None))),
    ):
        wall, used, _ = _timed(work)
        out[name], cpu[name] = round(wall, 3), round(used, 3)
    data = evaluate(store, day).data
    for fmt in ("json", "csv", "xlsx", "html"):
        wall, used, _ = _timed(lambda fmt=fmt: write(data, fmt))
        out[f"write {fmt}"], cpu[f"write {fmt}"] = round(wall, 3), round(used, 3)
    return out, cpu


def measure(store: OxigraphStore, repeat: int = 3, day: dt.date | None = None) -> dict[str, object]:
    """The report timed on `store` (what run_all records as the `report` part)."""
    day = day or dt.date(2026, 12, 4)
    walls, cpus, loads, size = [], [], [], 0
    national: dict[str, Any] = {}
    for _ in range(repeat):
        wall, cpu, body = _timed(lambda: render(store, day, "html"))
        walls.append(wall)
        cpus.append(cpu)
        loads.append(os.getloadavg()[0])
        size = len(body)
    national = evaluate(store, day).data["national"]
    walls_of_steps, cpu_of_steps = steps(store, day)
    return {
        "date": day.isoformat(),
        "card_items": national.get("cards"),
        "agencies": national.get("agencies"),
        "evaluation": {
            "seconds": round(statistics.median(walls), 3),
            "runs": [round(s, 3) for s in walls],
            "cpu_seconds": round(statistics.median(cpus), 3),
            "load_average": [round(x, 2) for x in loads],
            "html_bytes": size,
        },
        "steps": walls_of_steps,
        "steps_cpu": cpu_of_steps,
        "report_cpu": round(sum(cpu_of_steps[name] for name in REPORT_STEPS), 3),
        "cores": os.cpu_count(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path, help="a store loaded with a generated catalog")
    parser.add_argument("--date", default="1405/09/13", help="evaluation date, Jalali or ISO")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    store = open_store(Settings.from_env(store_dir=args.store), read_only=True)
    try:
        result = measure(store, args.repeat, parse_date(args.date))
    finally:
        store.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    timing = result["evaluation"]
    print(f"{result['card_items']} card items, {result['agencies']} agencies, date {result['date']}")
    print(f"report (evaluate + HTML): {timing['seconds']} s median of {timing['runs']} (target ≤ 10 s)")
    for name, seconds in result["steps"].items():
        print(f"  {name:32} {seconds:8.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
