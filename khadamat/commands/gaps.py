"""`khadamat gaps`: every gap query of the library (tag `gaps`), one section per query.

What circular 29168 asks reviewers to find: missions and articles no service reaches, services
with no legal basis or no ID, unit services without ID (art. 9), cards out of date, electronic
claims the stages do not support, smart-service candidates, priorities for going electronic,
affiliates with no service and tasks with recipients. The queries are data (queries/gap-*.rq).
"""

from __future__ import annotations

import argparse
import json
import sys

from khadamat.commands.query import add_format_option, for_display
from khadamat.output import csv_text, plain, render
from khadamat.querylib import QueryError, QuerySpec, columns, library, run_query
from khadamat.store import OxigraphStore

TAG = "gaps"


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "gaps",
        parents=[parent],
        help="report service gaps (every gap query) — خلأهای خدمات",
        description=(
            "Run every gap query of the library (`khadamat queries --tag gaps`) and print one section "
            "per query. گزارش خلأهای خدمات بر پایه بخشنامه ۲۹۱۶۸."
        ),
    )
    parser.add_argument("--agency", metavar="CODE", help="only this agency and its affiliates and units")
    parser.add_argument(
        "--date", metavar="DATE", help="the date cards are checked on (Jalali or ISO; default today)"
    )
    parser.add_argument("--only", metavar="NAME", action="append", help="only this gap query (repeatable)")
    parser.add_argument(
        "--limit", metavar="N", help="rows a page of a paginated query (the priorities ranking: default 100)"
    )
    parser.add_argument("--offset", metavar="N", help="rows of a paginated query to skip (default 0)")
    add_format_option(parser)
    parser.set_defaults(run=run)


def gap_specs(only: list[str] | None = None) -> list[QuerySpec]:
    """The gap queries, in name order; `only` picks some by name (an unknown name is an error)."""
    specs = {n: s for n, s in library().items() if TAG in s.tags}
    unknown = sorted(set(only or []) - set(specs))
    if unknown:
        raise QueryError(f"no gap query named {', '.join(unknown)}; gap queries: {', '.join(sorted(specs))}")
    return [specs[n] for n in sorted(specs) if not only or n in only]


def params_for(
    spec: QuerySpec,
    store: OxigraphStore,
    agency: str | None,
    on_date: str | None,
    page: dict[str, str | None] | None = None,
) -> dict[str, str]:
    """The command's options, given only to the queries that take them (`page`: limit, offset)."""
    names = {p.name for p in spec.params}
    params: dict[str, str] = {k: v for k, v in (page or {}).items() if v is not None and k in names}
    if agency and "agency" in names:
        params["agency"] = store.minter.agency(agency).value
    if on_date and "onDate" in names:
        params["onDate"] = on_date
    return params


def run(args: argparse.Namespace) -> int:
    from khadamat.commands.stats import open_existing_store

    try:
        specs = gap_specs(args.only)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = open_existing_store(args)
    if store is None:
        return 2
    results = []
    try:
        for spec in specs:
            page = {"limit": args.limit, "offset": args.offset}
            results.append(
                (spec, run_query(store, spec, params_for(spec, store, args.agency, args.date, page)))
            )
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_sections(results, store.minter.base, args.format))
    return 0


def format_sections(results: list[tuple[QuerySpec, list]], base: str, fmt: str) -> str:
    """Table: a titled section per query; JSON: {name: {summary, rows}}; CSV: one table, `query` first."""
    if fmt == "json":
        return json.dumps(
            {
                s.name: {
                    "summary": s.summary,
                    "count": len(rows),
                    "rows": [{k: plain(v) for k, v in r.items()} for r in rows],
                }
                for s, rows in results
            },
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "csv":
        cols = ["query", *dict.fromkeys(c for s, _ in results for c in columns(s))]
        flat = [
            {"query": spec.name, **{k: plain(v) for k, v in row.items()}}
            for spec, rows in results
            for row in rows
        ]
        return csv_text(flat, cols).rstrip("\n")
    parts = []
    for spec, rows in results:
        paged = " rows of one page: --limit, --offset" if any(p.paging for p in spec.params) else ""
        parts.append(f"== {spec.name}: {spec.summary} ({len(rows)}{paged})")
        if rows:
            parts.append(render(for_display(rows, base, fmt), fmt, columns(spec) or None))
    return "\n\n".join(parts)
