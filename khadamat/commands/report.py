"""`khadamat report`: the annual evaluation of executive agencies (circular 29168 art. 12;
regulation on developing the electronic services of executive agencies, art. 18–19) — figures
per agency, per family and national, rankings with their formula, charts — as HTML, JSON, CSV or
XLSX (khadamat.report; docs/report.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from khadamat.jalali import DateFormatError, parse_date
from khadamat.output import output_problem, write_output

FORMATS = ("html", "json", "csv", "xlsx")


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "report",
        parents=[parent],
        help="the annual evaluation: scorecards, rankings, charts — ارزیابی سالانه دستگاه‌ها",
        description=(
            "Per agency, per family and national: services and tasks, service IDs, legal bases, valid "
            "cards, electronic services, smart services, delegation to counter offices, findings, "
            "duplicates and gaps; rankings with their formula (weights in khadamat/report/weights.toml). "
            "ارزیابی سالانه دستگاه‌های اجرایی (بخشنامه ۲۹۱۶۸ ماده ۱۲)."
        ),
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--agency", metavar="CODE", help="this agency and every agency below it")
    scope.add_argument("--family", metavar="CODE", help="one family: a top agency and every agency below it")
    parser.add_argument("--date", metavar="DATE", help="evaluation date, Jalali or ISO (default: today)")
    parser.add_argument(
        "--lang", choices=("fa", "en"), default="fa", help="language of the page (default fa)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="output format (default: from the -o file's suffix, else json)"
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE")
    parser.add_argument(
        "--since",
        metavar="B",
        help="each figure's change since B: a version (v000012), a store folder or an export (.trig, .nq)",
    )
    parser.add_argument("--since-date", metavar="DATE", help="evaluation date of B (default: --date)")
    parser.set_defaults(run=run)


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    suffix = args.output.suffix.lower().lstrip(".") if args.output else ""
    return suffix if suffix in FORMATS else "json"


def run(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from
    from khadamat.commands.stats import open_existing_store
    from khadamat.diff import SideError, open_side
    from khadamat.report import ScopeError
    from khadamat.report.compare import evaluate_since
    from khadamat.report.writers import render, write

    fmt = _format(args)
    if args.output is not None and (problem := output_problem(args.output)):
        return _error(problem)
    if fmt == "xlsx" and args.output is None and sys.stdout.isatty():
        return _error("an XLSX workbook is not for a terminal: give -o FILE.xlsx")
    try:
        on_date = parse_date(args.date) if args.date else dt.date.today()
        since_date = parse_date(args.since_date) if args.since_date else None
    except DateFormatError as exc:
        return _error(str(exc))
    store = open_existing_store(args)
    if store is None:
        return 2
    try:
        if args.since:
            older = open_side(args.since, settings_from(args), current=store)
            try:
                data = evaluate_since(
                    store,
                    older,
                    args.since,
                    on_date,
                    since_date=since_date,
                    agency=args.agency,
                    family=args.family,
                )
            finally:
                older.close()
            body = write(data, fmt, args.lang)
        else:
            body = render(store, on_date, fmt, args.lang, agency=args.agency, family=args.family)
    except (ScopeError, SideError) as exc:
        return _error(str(exc))
    finally:
        store.close()
    if args.output is not None:
        if problem := write_output(args.output, body):
            return _error(problem)
        return 0
    sys.stdout.buffer.write(body if body.endswith(b"\n") or fmt == "xlsx" else body + b"\n")
    return 0
