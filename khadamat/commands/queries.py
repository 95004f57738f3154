"""`khadamat queries`: the query library with titles and parameters (what `khadamat query` runs)."""

from __future__ import annotations

import argparse

from khadamat.output import FORMATS, render
from khadamat.querylib import QuerySpec, library


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "queries",
        parents=[parent],
        help="list the library's queries with their titles — فهرست پرس‌وجوها",
        description="List the queries of queries/ with their titles, tags and parameters.",
    )
    parser.add_argument("--tag", help="only the queries with this tag (gaps, duplicates)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.set_defaults(run=run)


def describe(spec: QuerySpec) -> dict[str, str]:
    """One line of the listing: name, title, tags, parameters (`name*` = required, `=default`)."""
    params = [
        p.name + ("*" if p.required else "") + (f"={p.default}" if p.default is not None else "")
        for p in spec.params
    ]
    return {
        "name": spec.name,
        "title": spec.summary,
        "tags": ",".join(spec.tags),
        "parameters": " ".join(params),
    }


def run(args: argparse.Namespace) -> int:
    specs = [s for s in library().values() if not args.tag or args.tag in s.tags]
    rows = [describe(s) for s in sorted(specs, key=lambda s: s.name)]
    print(render(rows, args.format, ["name", "title", "tags", "parameters"]))
    return 0
