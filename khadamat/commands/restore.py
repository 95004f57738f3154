"""`khadamat restore FILE`: a dump (`khadamat dump`) or a TriG / N-Quads export into an empty store.

Exit 0 restored, 2 when the file is not a dump or export (or is damaged, or of another base IRI)
or the store is not empty, 75 when another write holds the store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from khadamat.backup import RestoreError, restore
from khadamat.store import StoreBusy, StoreError

EXIT_BUSY = 75


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "restore",
        parents=[parent],
        help="restore a dump (or an export) into an empty store — بازگردانی پشتیبان",
        description=(
            "Restore FILE, a dump written by `khadamat dump` (every graph, provenance and history) or a "
            "TriG/N-Quads file written by `khadamat export` (graphs only), into an empty store. "
            "بازگردانی پشتیبان در یک انباره خالی."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="a dump (.tar.gz) or an export (.trig, .nq)")
    parser.add_argument("--wait", type=float, default=None, metavar="SECONDS", help="wait for another write")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

    try:
        result = restore(settings_from(args), args.file, args.wait)
    except StoreBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (RestoreError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"restored {result.kind}: {result.graphs} graphs, {result.quads} quads, {result.versions} versions",
        file=sys.stderr,
    )
    return 0
