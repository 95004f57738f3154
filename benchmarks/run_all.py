"""Every benchmark of issue 13 in one run per catalog size, checked against benchmarks/targets.json.

    python -m benchmarks.run_all --sizes 10000 50000 --json OUT
        [--parts load validate queries api accuracy] [--seed 1] [--out benchmarks/out]
        [--store SIZE=DIR …] [--repeat 3] [--api-duration 15] [--api-warm 60] [--into EARLIER]

For each size, in this order, each part calling the benchmark's own functions:

* load — `bench_load.measure` (the workbook path, then pyoxigraph's `bulk_load` of N-Triples and
  of N-Quads into the same graphs, each in a fresh process); its store is kept and reused below;
* queries — `bench_queries.measure` on that store (or `--store SIZE=DIR`): every library query,
  median of `--repeat` runs, with the planted duplicates of the catalog's truth.csv;
* report — `bench_report.measure` on that store: the evaluation report (issue 12), whole and by step;
* api — `bench_api.main` against `khadamat serve` on that store (wrk on loopback; skipped when
  the Debian package `wrk` is missing);
* validate — `bench_validate.measure` (its own store of the same catalog, loaded once);
* engines, only when named in `--parts` — `bench_engines.measure`: the catalog loaded, validated,
  gap-queried and browsed on the embedded store, Oxigraph server and Virtuoso (issue 10).

and once: accuracy — `duplicate_accuracy.measure_pairs` and `measure_kerman`. A part that fails is
recorded with its error and the run goes on. The JSON (OUT) holds the machine (cores, memory, load
average before and after), every part's result per size and one line per target with its value
and `met`; the same lines are printed. `python -m benchmarks.readme --json OUT` writes them into
README.md. `--into EARLIER --parts validate --sizes 50000` measures one part again after a change
and writes it back into an earlier run, which then says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks import bench_api, bench_load, bench_queries, bench_report, bench_validate, duplicate_accuracy
from benchmarks.bench_load import DEFAULT_OUT, catalog_dir

TARGETS = Path(__file__).resolve().parent / "targets.json"
PARTS = ("load", "queries", "report", "api", "validate", "accuracy", "engines")
# Run only when asked for (`--parts engines`): it loads the catalog into two SPARQL servers too.
DEFAULT_PARTS = PARTS[:-1]
_SELECT = re.compile(r"^(\w[\w-]*)\[(\w+)=([^\]]+)\]$")


# --------------------------------------------------------------------------- the machine
def machine() -> dict[str, object]:
    """What the figures were measured on; the load average is added before and after the run."""
    import psutil

    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_mb": round(psutil.virtual_memory().total / 2**20),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pyoxigraph": _version("pyoxigraph"),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------- the parts
def run_part(name: str, work: Callable[..., dict[str, object]], *args: object) -> dict[str, object]:
    """One part's result (`work(*args)`), or its error: a failed part must not lose the others."""
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    print(f"[run_all] {name} …", file=sys.stderr, flush=True)
    try:
        result = work(*args)
    except Exception as exc:  # recorded in the JSON, and the run goes on
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["_run"] = {
        "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "seconds": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    return result


def store_for(size: int, out: Path, given: dict[int, Path]) -> Path:
    """The store the queries and the server read: `--store SIZE=DIR`, else the one the load kept."""
    if size in given:
        return given[size]
    kept = out / f"run-{size}" / "store"
    if not kept.is_dir():
        raise FileNotFoundError(f"no store for {size} services: run the load part or give --store {size}=DIR")
    return kept


def queries_part(size: int, seed: int, out: Path, given: dict[int, Path], repeat: int) -> dict[str, object]:
    from khadamat.config import Settings
    from khadamat.store import open_store

    store = open_store(Settings.from_env(store_dir=store_for(size, out, given)), read_only=True)
    try:
        return bench_queries.measure(store, repeat, catalog_dir(out, size, seed))
    finally:
        store.close()


def report_part(size: int, out: Path, given: dict[int, Path], repeat: int) -> dict[str, object]:
    from khadamat.config import Settings
    from khadamat.store import open_store

    store = open_store(Settings.from_env(store_dir=store_for(size, out, given)), read_only=True)
    try:
        return bench_report.measure(store, repeat)
    finally:
        store.close()


def api_part(
    size: int, seed: int, out: Path, given: dict[int, Path], duration: int, warm: int
) -> dict[str, object]:
    import shutil

    if shutil.which("wrk") is None:
        return {"skipped": "wrk is missing (Debian package wrk)"}
    store_dir = store_for(size, out, given)
    args = ["--services", str(size), "--seed", str(seed), "--store", str(store_dir), "--out", str(out)]
    args += ["--duration", str(duration), "--warm-seconds", str(warm)]
    if bench_api.main(args) != 0:
        raise RuntimeError("bench_api failed")
    return {"results": json.loads((out / f"bench-api-{size}.json").read_text(encoding="utf-8"))}


def engines_part(size: int, seed: int, out: Path) -> dict[str, object]:
    """The same catalog on the embedded store, Oxigraph server and Virtuoso (issue 10); an
    engine whose server cannot start here is recorded as skipped, the others still run."""
    import tempfile

    from benchmarks import bench_engines

    catalog = catalog_dir(out, size, seed)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-engines-", dir=out) as scratch:
        for engine in bench_engines.ENGINES:
            try:
                rows.append(bench_engines.measure(engine, catalog, Path(scratch) / engine, 50, 15))
            except Exception as exc:  # recorded, and the other engines run
                rows.append({"engine": engine, "skipped": f"{type(exc).__name__}: {exc}"[:300]})
    return {"results": rows}


def accuracy_part() -> dict[str, object]:
    labeled = duplicate_accuracy.measure_pairs(duplicate_accuracy.read_pairs(), threshold=None)
    kerman = duplicate_accuracy.measure_kerman(threshold=None)
    return {"labeled": labeled, "kerman": kerman, "kerman_pairs": len(kerman)}


def earlier_run(path: Path, parts: Sequence[str], sizes: Sequence[int]) -> dict[str, Any]:
    """An earlier run's report, to which the parts measured again are written back: it records
    which parts, at which sizes, when and on how busy a machine (`remeasured`)."""
    report = json.loads(path.read_text(encoding="utf-8"))
    report["parts"] = sorted(set(report.get("parts", [])) | set(parts), key=PARTS.index)
    again = {
        "parts": list(parts),
        "sizes": [str(size) for size in sizes],
        "started": _now(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    report.setdefault("remeasured", []).append(again)
    return report


# --------------------------------------------------------------------------- the targets
def load_targets(path: Path = TARGETS) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["targets"]


def resolve(value: object, path: str) -> Iterator[tuple[dict[str, object], object]]:
    """(fields for `what`, value) for each value `path` reaches; nothing when a step is missing."""
    steps = path.split(".")

    def walk(node: object, rest: list[str], fields: dict[str, object]) -> Iterator[tuple[dict, object]]:
        if not rest:
            yield fields, node
            return
        step, *tail = rest
        if match := _SELECT.match(step):
            key, field, wanted = match.groups()
            items = node.get(key) if isinstance(node, dict) else None
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and (
                    str(item.get(field)) == wanted or (wanted == "*" and field in item)
                ):
                    yield from walk(item, tail, {**fields, **item})
        elif isinstance(node, dict) and step in node:
            yield from walk(node[step], tail, fields)

    yield from walk(value, steps, {})


class _Fields(dict):
    """The fields of a selected element; a name the line lacks reads as "—"."""

    def __missing__(self, key: str) -> str:
        return "—"


def _part_load(result: dict[str, object]) -> list[float] | None:
    """The 1-minute load average when the part started and when it ended."""
    run = result.get("_run")
    if not isinstance(run, dict):
        return None
    return [run["load_average_before"][0], run["load_average_after"][0]]


def number(value: object) -> str:
    """A figure as the README shows it: three significant digits, thousands separated."""
    if not isinstance(value, int | float):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def judge(target: dict[str, Any], value: object) -> bool | None:
    """True when met, False when missed, None when the target only reports."""
    if not isinstance(value, int | float):
        return None
    if "max" in target:
        return value <= target["max"]
    if "min" in target:
        return value >= target["min"]
    return None


def check(report: dict[str, Any], targets: list[dict[str, Any]]) -> list[dict[str, object]]:
    """One line per target and size (and per selected element): the value, the bound, met."""
    lines: list[dict[str, object]] = []
    for target in targets:
        part = target["part"]
        if part not in report.get("parts", PARTS):
            continue
        scopes = (
            [(None, report.get("accuracy", {}))]
            if part == "accuracy"
            else [(int(size), parts.get(part, {})) for size, parts in report["sizes"].items()]
        )
        for size, result in scopes:
            if size is not None and target.get("sizes") and size not in target["sizes"]:
                continue
            if part not in DEFAULT_PARTS and not result:
                continue  # a part run only when asked for, not asked for at this size
            found = list(resolve(result, target["path"])) if "error" not in result else []
            for fields, value in found or [({}, None)]:
                what = target["what"].format_map(_Fields(fields))
                met = judge(target, value)
                lines.append(
                    {
                        "what": what,
                        "part": part,
                        "size": size,
                        "value": value,
                        "unit": target.get("unit", ""),
                        "bound": ("≤ " + str(target["max"]))
                        if "max" in target
                        else ("≥ " + str(target["min"]))
                        if "min" in target
                        else None,
                        "met": met,
                        "load_average": fields.get("load_average") or _part_load(result),
                        "note": result.get("error") or result.get("skipped") if value is None else None,
                    }
                )
    return lines


def verdict(line: dict[str, object]) -> str:
    if line["value"] is None:
        return f"not measured ({line['note'] or 'part not run'})"
    if line["met"] is None:
        return "reported"
    return "target met" if line["met"] else "target MISSED"


def with_unit(text: str, unit: object) -> str:
    return f"{text} {unit}" if unit and unit != "×" else f"{text}{unit or ''}"


def format_line(line: dict[str, object]) -> str:
    size = f"{line['size']:>6}" if line["size"] else "     —"
    bound = f" (target {with_unit(str(line['bound']), line['unit'])})" if line["bound"] else ""
    load = (
        f", load average {line['load_average']}" if line["load_average"] and line["value"] is not None else ""
    )
    shown = with_unit(number(line["value"]), line["unit"])
    return f"{size}  {line['what']}: {shown}{bound}{load} — {verdict(line)}"


# --------------------------------------------------------------------------- the run
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run_all", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--json", type=Path, required=True, help="where to write the results")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(DEFAULT_PARTS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="catalogs, stores and each part's files"
    )
    parser.add_argument(
        "--store",
        action="append",
        default=[],
        metavar="SIZE=DIR",
        help="an already loaded store of that size's catalog (for queries and api)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (the median is reported)")
    parser.add_argument("--api-duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--api-warm", type=int, default=60, help="seconds of warm-up per server")
    parser.add_argument(
        "--into",
        type=Path,
        help="an earlier run's JSON: measure only --parts at --sizes again and replace them in it "
        "(the rest keeps its figures and times; the README names what was measured again, and when)",
    )
    parser.add_argument("--pyshacl-max", type=int, default=1000)
    parser.add_argument("--topbraid-max", type=int, default=10000)
    args = parser.parse_args(argv)
    given = {int(k): Path(v) for k, v in (s.split("=", 1) for s in args.store)}
    args.out.mkdir(parents=True, exist_ok=True)
    if args.into is not None:
        report = earlier_run(args.into, args.parts, args.sizes)
    else:
        report = {
            "started": _now(),
            "machine": {**machine(), "load_average_before": [round(x, 2) for x in os.getloadavg()]},
            "parts": list(args.parts),
            "repeat": args.repeat,
            "sizes": {},
        }
    for size in args.sizes:
        parts: dict[str, object] = report["sizes"].setdefault(str(size), {})
        if "load" in args.parts:
            parts["load"] = run_part(f"load {size}", bench_load.measure, size, args.seed, args.out, True)
        if "queries" in args.parts:
            parts["queries"] = run_part(
                f"queries {size}", queries_part, size, args.seed, args.out, given, args.repeat
            )
        if "report" in args.parts:
            parts["report"] = run_part(f"report {size}", report_part, size, args.out, given, args.repeat)
        if "api" in args.parts:
            parts["api"] = run_part(
                f"api {size}", api_part, size, args.seed, args.out, given, args.api_duration, args.api_warm
            )
        if "validate" in args.parts:
            parts["validate"] = run_part(
                f"validate {size}",
                bench_validate.measure,
                size,
                args.seed,
                args.out,
                args.pyshacl_max,
                args.topbraid_max,
            )
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        if "engines" in args.parts:
            parts["engines"] = run_part(f"engines {size}", engines_part, size, args.seed, args.out)
            args.json.write_text(
                json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
            )
    if "accuracy" in args.parts:
        report["accuracy"] = run_part("accuracy", accuracy_part)
    if args.into is not None:
        report["remeasured"][-1]["finished"] = _now()
    else:
        report["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        report["finished"] = _now()
    report["lines"] = check(report, load_targets())
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    m = report["machine"]
    print(
        f"{m['cpus']} cores, {m['memory_mb']:,} MB; load average {m['load_average_before']} before, "
        f"{m['load_average_after']} after; {report['started']} – {report['finished']}"
    )
    for line in report["lines"]:
        print(format_line(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
