"""`khadamat history`: every version of the store — who (token name, role, agency), when, what
files, which graphs, how many triples and findings — oldest first, for one agency with --agency.

The table is for people: Jalali dates in Tehran time. JSON carries ISO 8601 UTC times (and the
Jalali date beside them); CSV the same columns as the table, spreadsheet-safe.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

from khadamat import history
from khadamat.commands.stats import open_existing_store
from khadamat.jalali import to_jalali
from khadamat.output import FORMATS, csv_text, render

COLUMNS = (
    "id",
    "when",
    "who",
    "role",
    "agency",
    "action",
    "graphs",
    "triples",
    "violations",
    "warnings",
    "files",
)
CSV_COLUMNS = ("id", "at", "at_jalali", *COLUMNS[2:], "token_id", "detail")
IRAN = ZoneInfo("Asia/Tehran")


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "history",
        parents=[parent],
        help="list the versions of the store: who changed what, when — تاریخچه تغییرات",
        description=(
            "List every accepted change (submission, withdrawal, rollback) as a version: id, time, "
            "who (token name, role, agency), files, graphs replaced, triples, findings. "
            "فهرست نسخه‌ها: چه کسی، چه زمانی، چه چیزی را تغییر داد."
        ),
    )
    parser.add_argument("--agency", metavar="CODE", help="only the versions that changed this agency's data")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.set_defaults(run=run)


def jalali_time(moment: dt.datetime) -> str:
    """A UTC time as a person in Iran reads it: Jalali date and Tehran clock time."""
    local = moment.astimezone(IRAN)
    return f"{to_jalali(local.date())} {local:%H:%M}"


def _graph_codes(graphs: list[str]) -> str:
    """Graph IRIs as short names (`agency/ISIPO`, `law/x`) for a table cell."""
    return " ".join(g.split("/graph/", 1)[-1] for g in graphs)


def rows(versions: list[history.VersionInfo]) -> list[dict[str, object]]:
    out = []
    for info in versions:
        item = history.version_dict(info)
        who = item["who"]
        out.append(
            {
                "id": info.id,
                "when": jalali_time(info.at),
                "at": item["at"],
                "at_jalali": item["at_jalali"],
                "who": who["name"],
                "role": who["role"],
                "agency": who["agency"] or "",
                "token_id": who["token_id"] or "",
                "action": info.action + (f" {info.detail}" if info.detail else ""),
                "detail": info.detail,
                "graphs": _graph_codes(item["graphs"]),
                "triples": info.triples,
                "violations": info.findings.get("Violation", 0),
                "warnings": info.findings.get("Warning", 0),
                "files": " ".join(f"{f['name']}:{f['sha256'][:12]}" for f in item["files"]),
            }
        )
    return out


def run(args: argparse.Namespace) -> int:
    store = open_existing_store(args)
    if store is None:
        return 2
    try:
        found = history.versions(store.path, args.agency, store=store)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps([history.version_dict(v) for v in found], ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(csv_text(rows(found), CSV_COLUMNS))
    else:
        print(render(rows(found), "table", COLUMNS))
    return 0
