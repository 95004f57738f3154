"""`khadamat diff A B`: what changed between two versions (`v000012`), two store folders or two
exports (TriG / N-Quads): services added, removed, retitled, moved between agencies, service-ID
changes, card fields changed, findings fixed and new — per agency (khadamat.diff); as a table,
JSON, CSV, an XLSX workbook or a standalone HTML page (khadamat.report.diff_output)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from khadamat.diff import COLUMNS, TABLE_COLUMNS, CatalogDiff, SideError, diff_sides
from khadamat.jalali import DateFormatError, parse_date
from khadamat.output import FORMATS, csv_text, output_problem, render, write_output

DIFF_FORMATS = (*FORMATS, "xlsx", "html")


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "diff",
        parents=[parent],
        help="compare two versions, stores or exports — مقایسه دو نسخه",
        description=(
            "Compare A with B, each a version of the store (v000012), a store folder or an export file "
            "(.trig, .nq): services added, removed, retitled, moved between agencies, service-ID changes, "
            "card fields changed and findings fixed and new, per agency. مقایسه دو نسخه از فهرست خدمات."
        ),
    )
    parser.add_argument("a", metavar="A", help="the older side: v000012, a store folder or an export file")
    parser.add_argument("b", metavar="B", help="the newer side, likewise")
    parser.add_argument("--agency", metavar="CODE", help="only this agency's changes")
    parser.add_argument(
        "--format", choices=DIFF_FORMATS, default="table", help="output format (default: table)"
    )
    parser.add_argument(
        "--lang", choices=("fa", "en"), default="fa", help="headers of xlsx and html (default fa)"
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--no-findings", action="store_true", help="skip validating both sides (faster)")
    parser.add_argument("--date", metavar="DATE", help="validation date, Jalali or ISO (default: today)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

    if args.output is not None and (problem := output_problem(args.output)):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        day = parse_date(args.date) if args.date else None
    except DateFormatError as exc:
        print(f"error: --date: {exc}", file=sys.stderr)
        return 2
    try:
        result = diff_sides(
            args.a,
            args.b,
            settings_from(args),
            findings=not args.no_findings,
            on_date=day,
            agency=args.agency,
        )
    except SideError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    body = formatted(result, args.format, args.lang)
    if args.output is not None:
        if problem := write_output(args.output, body):
            print(f"error: {problem}", file=sys.stderr)
            return 2
        return 0
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return 0


def formatted(result: CatalogDiff, fmt: str, lang: str = "fa") -> bytes:
    """The diff in one of DIFF_FORMATS, as the bytes of a file (the CLI and /reports/diff)."""
    if fmt == "json":
        return (json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "csv":
        return csv_text(result.changes, COLUMNS).encode("utf-8")
    if fmt == "xlsx":
        from khadamat.report.diff_output import to_xlsx

        return to_xlsx(result, lang)
    if fmt == "html":
        from khadamat.report.diff_output import to_html

        return to_html(result, lang).encode("utf-8")
    lines = [
        f"== {agency or '(no agency)'}: " + ", ".join(f"{k} {n}" for k, n in counts.items())
        for agency, counts in result.summary().items()
    ]
    return "\n".join([*lines, render(result.changes, "table", TABLE_COLUMNS), ""]).encode("utf-8")
