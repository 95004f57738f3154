"""`khadamat dump FILE`: the whole store — every named graph, provenance and history — as one
file that `khadamat restore` reads back into an empty store (khadamat.backup)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from khadamat.backup import dump_bytes
from khadamat.commands.stats import open_existing_store
from khadamat.history import write_atomic
from khadamat.output import output_problem


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "dump",
        parents=[parent],
        help="back up the whole store with its history to one file — پشتیبان‌گیری کامل",
        description=(
            "Write every named graph, the provenance graph and the history of the store to FILE "
            "(a .tar.gz whose bytes depend on the content only). Tokens are not included. "
            "پشتیبان کامل انباره و تاریخچه آن در یک فایل."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the dump to write (e.g. backup.tar.gz)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if problem := output_problem(args.file):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    store = open_existing_store(args)
    if store is None:
        return 2
    try:
        data = dump_bytes(store, store.path)
    finally:
        store.close()
    try:
        write_atomic(args.file, data)
    except OSError as exc:
        print(f"error: cannot write {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(data)} bytes to {args.file}", file=sys.stderr)
    return 0
