"""`khadamat stats`: how many agencies, services, tasks, laws… the store holds.

The first thing an architect checks after a load. The counting is one SPARQL query
(queries/_stats.rq, data not code), so the same figures come from any store behind the interface.
"""

from __future__ import annotations

import argparse
import sys

from khadamat.output import plain, render
from khadamat.resources import data_path
from khadamat.store import OxigraphStore, Store, StoreError, open_store

QUERY_FILE = "_stats.rq"

# figure (a variable of _stats.rq) -> (Persian label, English label), in display order.
FIGURES: dict[str, tuple[str, str]] = {
    "agencies": ("دستگاه‌های اجرایی (با واحدها)", "executive agencies (units included)"),
    "units": ("واحدهای استانی و شهرستانی", "provincial and county units"),
    "services": ("خدمات", "services"),
    "tasks": ("وظایف", "tasks"),
    "missions": ("مأموریت‌ها", "missions"),
    "instruments": ("قوانین و مقررات", "legal instruments"),
    "articles": ("مواد", "articles"),
    "parts": ("تبصره‌ها و بندها", "notes and clauses"),
    "inquiries": ("استعلام‌ها", "inquiries"),
    "licenses": ("مجوزها", "licenses"),
    "delegations": ("واگذاری‌ها به دفاتر پیشخوان", "counter delegations"),
    "counterOffices": ("دفاتر پیشخوان", "counter offices"),
    "triples": ("سه‌تایی‌ها (در همه گراف‌ها)", "triples (in all named graphs)"),
    "graphs": ("گراف‌های نام‌دار", "named graphs"),
}
COLUMNS = ("figure", "label_fa", "label_en", "count")


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "stats",
        parents=[parent],
        help="count agencies, services, laws… in the store — آمار گراف خدمات",
        description=(
            "Count the nodes of each kind in the store: agencies (and units), services, tasks, missions, "
            "legal instruments, articles, notes and clauses, inquiries, licenses, counter delegations, "
            "counter offices, triples and named graphs. "
            "شمار دستگاه‌ها، خدمات، وظایف، مأموریت‌ها، قوانین و… در انباره."
        ),
    )
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format (default: table)"
    )
    parser.set_defaults(run=run)


def open_existing_store(args: argparse.Namespace) -> Store | None:
    """Open the store read-only, or explain on stderr why not (None): reading never creates a store.

    Read-only, so that it also works while `khadamat serve` holds the store open. With an
    endpoint (--endpoint, KHADAMAT_ENDPOINT) the store is that SPARQL server's.
    """
    from khadamat.cli import settings_from

    settings = settings_from(args)
    if settings.endpoint is None and not settings.store_dir.is_dir():
        print(
            f"error: no store at {settings.store_dir} — run `khadamat load` first "
            f"(انباره‌ای در {settings.store_dir} نیست؛ نخست `khadamat load` را اجرا کنید)",
            file=sys.stderr,
        )
        return None
    try:
        return open_store(settings, read_only=True)
    except (StoreError, OSError) as exc:
        where = settings.endpoint.query if settings.endpoint else settings.store_dir
        print(f"error: cannot open the store at {where}: {exc}", file=sys.stderr)
        return None


def count(store: OxigraphStore) -> dict[str, int]:
    """Every figure of FIGURES, from queries/_stats.rq."""
    query = (data_path("queries") / QUERY_FILE).read_text(encoding="utf-8")
    rows = store.select(query)
    row = rows[0] if rows else {}
    return {name: int(plain(row[name])) if name in row else 0 for name in FIGURES}


def run(args: argparse.Namespace) -> int:
    store = open_existing_store(args)
    if store is None:
        return 2
    try:
        figures = count(store)
    finally:
        store.close()
    rows = [
        {"figure": name, "label_fa": fa, "label_en": en, "count": figures[name]}
        for name, (fa, en) in FIGURES.items()
    ]
    print(render(rows, args.format, COLUMNS))
    return 0
