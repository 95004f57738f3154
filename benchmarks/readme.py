"""Write the README's "Measured" section from a run of benchmarks/run_all.py, so figures cannot drift.

    python -m benchmarks.readme --json OUT [--readme README.md] [--print]

Everything between `<!-- measured:begin -->` and `<!-- measured:end -->` in the README is replaced
by: the machine and how busy it was, and one table row per target line of the run (value, load
average, target, met or missed), per catalog size. The text around the markers is left as it is.
`--print` writes the section to stdout and leaves the README alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.bench_validate import profile_table
from benchmarks.run_all import check, load_targets, number, verdict, with_unit

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- measured:begin -->", "<!-- measured:end -->"
COMMANDS = {
    "load": "`python -m benchmarks.bench_load`",
    "validate": "`python -m benchmarks.bench_validate`",
    "queries": "`python -m benchmarks.bench_queries`",
    "api": "`python -m benchmarks.bench_api` (wrk, loopback)",
    "accuracy": "`python -m benchmarks.duplicate_accuracy`",
    "engines": "`python -m benchmarks.bench_engines` (Oxigraph server and Virtuoso on loopback)",
    "report": "`python -m benchmarks.bench_report`",
}
TITLES = {
    "load": "Loading",
    "validate": "Validation",
    "queries": "Gap and duplicate queries",
    "api": "Server under load (50 connections)",
    "accuracy": "Duplicate detection",
    "engines": "The same catalog on three engines (issue 10)",
    "report": "The annual evaluation report (issue 12)",
}


def _load(value: object) -> str:
    if not isinstance(value, list) or not value:
        return ""
    low, high = min(value), max(value)
    return f"{low:.1f}" if low == high else f"{low:.1f}–{high:.1f}"


def _row(line: dict[str, Any]) -> str:
    size = f"{int(line['size']):,}" if line["size"] else "—"
    bound = with_unit(str(line["bound"]), line["unit"]) if line["bound"] else "—"
    shown = with_unit(number(line["value"]), line["unit"]) if line["value"] is not None else "—"
    judged = verdict(line)
    if line["met"] is False:
        judged = f"**{judged}**"
    return f"| {line['what']} | {size} | {shown} | {_load(line['load_average'])} | {bound} | {judged} |"


def section(report: dict[str, Any]) -> str:
    """The generated Markdown between the markers."""
    m = report["machine"]
    sizes = ", ".join(f"{int(s):,}" for s in report["sizes"])
    out = [
        "<!-- Written by `python -m benchmarks.readme --json OUT` from a run of "
        "`python -m benchmarks.run_all`: change benchmarks/, not this text. -->",
        "",
        f"Measured {report['started']} – {report['finished']} by `python -m benchmarks.run_all --sizes "
        f"{' '.join(report['sizes'])}` on synthetic national catalogs of {sizes} services written by the "
        "deterministic generator (`python -m benchmarks.generate --services N --seed 1`), on "
        f"{m['cpus']} cores and {m['memory_mb']:,} MB of memory ({m['platform']}; Python {m['python']}, "
        f"pyoxigraph {m['pyoxigraph']}). The machine was shared with other work: its load average "
        f"(1, 5, 15 minutes) was {m['load_average_before']} before the run and {m['load_average_after']} "
        f"after, and each row shows the 1-minute load average seen while it was measured. Query and "
        f"validation times are the median of {report['repeat']} runs; a load is one run in a fresh "
        "process. Targets are those of `benchmarks/targets.json` (issue 13).",
    ]
    for again in report.get("remeasured", []):
        out[-1] += (
            f" Measured again later with `--into`: {', '.join(again['parts'])} at "
            f"{', '.join(f'{int(s):,}' for s in again['sizes'])} services, {again['started']} – "
            f"{again.get('finished', '?')} (load average {again['load_average_before']} before)."
        )
    lines = check(report, load_targets())  # today's targets file, applied to the run's figures
    for part in ("load", "validate", "queries", "report", "api", "engines", "accuracy"):
        rows = [line for line in lines if line["part"] == part]
        if not rows:
            continue
        out += [
            "",
            f"**{TITLES[part]}** — {COMMANDS[part]}",
            "",
            "| what | services | measured | load average | target | |",
            "|---|---|---|---|---|---|",
            *(_row(line) for line in rows),
        ]
        out += _why(part, report, rows)
    missed = [line for line in lines if line["met"] is False]
    absent = sorted({line["part"] for line in lines if line["value"] is None})
    out += [
        "",
        f"Targets missed in this run: {len(missed)} of {sum(1 for x in lines if x['met'] is not None)}.",
    ]
    if absent:
        out.append(f"Not measured in this run: {', '.join(absent)} (see each row).")
    return "\n".join(out)


def _why(part: str, report: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """For a part that missed a target, where its time went at the largest size that missed:
    the validation's shape-by-shape profile, the load's phases. Other parts say it in their rows
    (the browse mix is also measured with its cache off)."""
    if part == "engines":
        return _engines_not_measured(report)
    missed = [int(line["size"]) for line in rows if line["met"] is False and line["size"]]
    if not missed:
        return []
    size = max(missed)
    result = report["sizes"].get(str(size), {}).get(part, {})
    if part == "validate" and isinstance(result.get("profile"), dict):
        return [
            "",
            f"Where the full validation's time goes at {size:,} services, each compiled query run "
            "alone, one after the other (the run itself spreads them over the cores):",
            "",
            profile_table(result["profile"], top=10),
        ]
    if part == "report" and isinstance(result.get("steps"), dict):
        shown = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["steps"].items())
        lines = ["", f"Where the report's time goes at {size:,} services, each step alone: {shown}."]
        spent, cores = result.get("report_cpu"), result.get("cores")
        if isinstance(spent, int | float) and cores:
            lines[-1] += (
                f" The steps of the report use {spent:.1f} s of CPU in all: on {cores} cores, where"
                f" the report runs them side by side, it cannot take less than"
                f" {spent / cores:.1f} s, however they are spread."
            )
        return lines
    phases = (result.get("load") or {}).get("phases") if part == "load" else None
    if isinstance(phases, dict):
        spent: dict[str, float] = {}
        for name, seconds in phases.items():
            kind = name.split(" ", 1)[0]
            if kind in {"reading", "parsing", "mapping", "writing"}:
                spent[kind] = spent.get(kind, 0.0) + float(seconds)
        shown = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in spent.items())
        return [
            "",
            f"Where the load's time goes at {size:,} services: {shown}. Writing includes compacting"
            " the new store once (`Store.optimize`, which makes every later query 15–35% faster);"
            " the bulk_load baselines leave their store as the bulk loader wrote it.",
        ]
    return []


def _engines_not_measured(report: dict[str, Any]) -> list[str]:
    """The engines that gave no figure, or no browse figure, in the run: named with the reason."""
    notes = []
    for size, parts in report["sizes"].items():
        for row in (parts.get("engines") or {}).get("results", []):
            reason = row.get("skipped") or row.get("browse_error")
            if reason:
                what = "was not measured" if row.get("skipped") else "has no browse figure"
                notes.append(f"{row['engine']} at {int(size):,} services {what}: `{reason}`")
    return ["", "In this run " + "; ".join(notes) + "."] if notes else []


def replace_section(text: str, body: str) -> str:
    """The README text with the part between the markers replaced by `body`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} … {END} markers")
    return text[: start + len(BEGIN)] + "\n" + body + "\n" + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="the results of benchmarks.run_all")
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--print", action="store_true", help="print the section, leave the README alone")
    args = parser.parse_args(argv)
    body = section(json.loads(args.json.read_text(encoding="utf-8")))
    if args.print:
        print(body)
        return 0
    try:
        text = replace_section(args.readme.read_text(encoding="utf-8"), body)
    except ValueError as exc:
        print(f"error: {args.readme}: {exc}", file=sys.stderr)
        return 2
    args.readme.write_text(text, encoding="utf-8")
    print(f"wrote the measured section of {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
