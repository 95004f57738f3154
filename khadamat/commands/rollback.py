"""`khadamat rollback --agency CODE --to VERSION`: a new version whose content is the agency's
graphs (with its provincial and county units') as they were at VERSION. Nothing is erased: the
versions after VERSION stay in the history, and the rollback is one more.

Exit 0 written, 2 for an unknown version or agency, 75 when another write holds the store."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys

from pyoxigraph import NamedNode, Triple

from khadamat import history, submissions
from khadamat.accounts import Principal, local_operator
from khadamat.config import Settings
from khadamat.store import StoreBusy, StoreError, load_wait, open_store, write_lock

EXIT_BUSY = 75


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "rollback",
        parents=[parent],
        help="restore an agency's data as it was at a version — بازگشت به نسخه پیشین",
        description=(
            "Write a new version whose content is the data of the agency (and its provincial and county "
            "units) as it was at VERSION (see `khadamat history`). بازگرداندن داده یک دستگاه به یک نسخه."
        ),
    )
    parser.add_argument("--agency", required=True, metavar="CODE", help="the agency whose data goes back")
    parser.add_argument("--to", required=True, metavar="VERSION", help="the version to go back to (v000012)")
    parser.add_argument("--wait", type=float, default=None, metavar="SECONDS", help="wait for another write")
    parser.set_defaults(run=run)


def write_rollback(
    settings: Settings, graphs: dict[NamedNode, list[Triple]], principal: Principal, detail: str, wait: float
) -> str:
    """Write `graphs` as one version through the one write path (khadamat.submissions: the
    history record just before the new generation becomes visible). Returns the version id."""
    started = dt.datetime.now(dt.UTC)
    with write_lock(settings.store_dir, wait):
        store = open_store(settings)
        try:
            info = submissions.new_version(store, settings.store_dir, principal, "rollback", graphs, started)
            info = dataclasses.replace(info, detail=detail)
            submissions.write_graphs(store, settings.store_dir, graphs, info)
        finally:
            store.close()
    return info.id


def run(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

    settings = settings_from(args)
    wait = load_wait() if args.wait is None else args.wait
    try:
        reader = open_store(settings, read_only=True)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        graphs = history.rollback_content(reader, settings.store_dir, args.agency, args.to)
    except history.HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        reader.close()
    try:
        version_id = write_rollback(settings, graphs, local_operator(), f"to {args.to}", wait)
    except StoreBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    triples = sum(len(t) for t in graphs.values())
    print(
        f"rolled back {args.agency} to {args.to}: version {version_id}, "
        f"{len(graphs)} graphs, {triples} triples"
    )
    return 0
