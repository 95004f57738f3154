"""`khadamat query FILE.rq|NAME [--param k=v]… [--format table|json|csv]`: run any library query.

A query of queries/ by name (`khadamat queries` lists them), or any `.rq` file by path; parameters
by their grlc names (`--param threshold=0.8 --param agency=agency/MIN`). IRI parameters take an
absolute IRI or a path under the base; dates take Jalali or ISO. Exit 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from khadamat import formatting
from khadamat.namespaces import XSD
from khadamat.output import FORMATS, render
from khadamat.querylib import QueryError, QuerySpec, columns, load_spec, resolve, run_query
from khadamat.store import Term


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "query",
        parents=[parent],
        help="run a query of the library by name, or a .rq file — اجرای پرس‌وجو",
        description=(
            "Run a SPARQL query of the library (see `khadamat queries`) or any .rq file, with grlc "
            "parameters given as --param name=value. اجرای یک پرس‌وجوی کتابخانه با پارامترها."
        ),
    )
    parser.add_argument("query", metavar="FILE.rq|NAME", help="a library query name or a .rq path")
    add_param_option(parser)
    add_format_option(parser)
    parser.set_defaults(run=run)


def add_param_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a query parameter (repeatable)",
    )


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """`name=value` strings as a mapping; a malformed item is a QueryError."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise QueryError(f"--param expects NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def query_spec(argument: str) -> QuerySpec:
    """The query a user means: a file when the argument looks like a path, else a library name.

    `my-own.rq` or `dir/q` is a file the user wrote: when it is missing, say so, rather than
    "no query named" with the library's list, which answers a question the user did not ask."""
    path = Path(argument)
    if argument.endswith(".rq") or path.name != argument:
        if not path.is_file():
            raise QueryError(f"no such file: {argument}")
        try:
            return load_spec(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"cannot read {argument}: expected a UTF-8 SPARQL query file ({exc})") from exc
    return resolve(argument)


def _shown(value: Term, base: str) -> object:
    if isinstance(value, NamedNode) and value.value.startswith(base):
        return value.value[len(base) :]
    if isinstance(value, Literal) and value.datatype is not None and value.datatype.value == XSD + "date":
        return formatting.jalali_date(value.value)
    if isinstance(value, Literal) and value.datatype is not None and value.datatype.value == XSD + "boolean":
        return formatting.yes_no(value.value)
    return value


def for_display(rows: Sequence[Mapping[str, Term]], base: str, fmt: str) -> list[dict[str, object]]:
    """Rows for the terminal table: IRIs under the base as their path (to fit a screen), dates in
    Jalali and yes/no in words as people read them (khadamat.formatting, as the pages do). JSON
    and CSV keep full IRIs and ISO dates for machines."""
    if fmt != "table":
        return [dict(r) for r in rows]
    return [{k: _shown(v, base) for k, v in row.items()} for row in rows]


def print_rows(spec: QuerySpec, rows: Sequence[Mapping[str, Term]], base: str, fmt: str) -> None:
    print(render(for_display(rows, base, fmt), fmt, columns(spec) or None))


def run(args: argparse.Namespace) -> int:
    from khadamat.commands.stats import open_existing_store

    try:
        spec = query_spec(args.query)
        params = parse_params(args.param)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = open_existing_store(args)
    if store is None:
        return 2
    try:
        rows = run_query(store, spec, params)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_rows(spec, rows, store.minter.base, args.format)
    return 0
