"""`khadamat load PATH...`: load submission workbooks, CSV folders or RDF files into the store.

Exit 0 when the submission loaded, 2 with every error printed (grouped by file) when it did not;
a failed load writes nothing. Progress goes to stderr, the one-line summary to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from khadamat.loader.errors import SubmissionError
from khadamat.loader.submission import load_submission
from khadamat.store import StoreError, open_store


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "load",
        parents=[parent],
        help="load submissions (.xlsx, folder of .csv, RDF) — بارگذاری شناسنامه خدمات",
        description=(
            "Load one submission: .xlsx workbooks, folders of .csv files and RDF files (Turtle, N-Triples, "
            "N-Quads, TriG, JSON-LD), all together. Each agency's data replaces that agency's named graph; "
            "a submission with any error loads nothing and the errors are listed. "
            "بارگذاری یک ارسال: در صورت هر خطا هیچ چیز بارگذاری نمی‌شود."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help=".xlsx workbook, folder of .csv files (or one .csv), or RDF file",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(run=run)


class _Progress:
    """Progress lines on stderr, at most one per second per stage."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done and done != total and now - self.last.get(stage, 0.0) < 1.0:
            return
        self.last[stage] = now
        count = f" {done}/{total}" if total else ""
        print(f"[{now - self.t0:6.1f}s] {stage}{count}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

    t0 = time.monotonic()
    progress = None if args.quiet else _Progress()
    try:
        store = open_store(settings_from(args))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        submission = load_submission(args.paths, store, progress)
    except SubmissionError as exc:
        groups = exc.by_file()
        print(
            f"{len(exc.errors)} error(s), nothing loaded — {len(exc.errors)} خطا، هیچ چیز بارگذاری نشد",
            file=sys.stderr,
        )
        for file, errors in groups.items():
            print(f"== {file}", file=sys.stderr)
            for error in errors:
                print(str(error), file=sys.stderr)
        return 2
    finally:
        store.close()
    print(
        f"loaded: {len(submission.graphs)} graphs replaced ({len(submission.agencies)} agencies, "
        f"{len(submission.laws)} laws), {submission.triple_count} triples, {time.monotonic() - t0:.1f} s"
    )
    return 0
