"""`khadamat diff A B`: what changed between two versions (`v000012`), two store folders or two
exports (TriG / N-Quads): services added, removed, retitled, moved between agencies, service-ID
changes, card fields changed, findings fixed and new — per agency (khadamat.diff)."""

from __future__ import annotations

import argparse
import json
import sys

from khadamat.diff import COLUMNS, TABLE_COLUMNS, SideError, diff_sides
from khadamat.jalali import DateFormatError, parse_date
from khadamat.output import FORMATS, csv_text, render


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
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--no-findings", action="store_true", help="skip validating both sides (faster)")
    parser.add_argument("--date", metavar="DATE", help="validation date, Jalali or ISO (default: today)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

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
    if args.format == "json":
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(csv_text(result.changes, COLUMNS))
    else:
        for agency, counts in result.summary().items():
            print(f"== {agency or '(no agency)'}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        print(render(result.changes, "table", TABLE_COLUMNS))
    return 0
