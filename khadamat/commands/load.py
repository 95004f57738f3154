"""`khadamat load PATH...`: load submission workbooks, CSV folders or RDF files into the store.

Exit 0 when the submission loaded, 2 with every error printed (grouped by file) when it did not;
a failed load writes nothing. Loads of one store run one at a time (a lock file in the store
folder): a load that cannot get the lock within `--wait` seconds writes nothing, says so in one
line and exits 75 (EX_TEMPFAIL: try again later). Progress goes to stderr, the one-line summary
to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from khadamat.config import Settings
from khadamat.loader.errors import SubmissionError
from khadamat.loader.submission import build_submission, write_submission
from khadamat.querylib import PROFILES
from khadamat.store import StoreBusy, StoreError, load_wait, open_store, write_lock

EXIT_BUSY = 75  # sysexits EX_TEMPFAIL: another load holds the store; nothing was written


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
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        help="the RDF files are in a standard's terms: cpsv-ap = CPSV-AP 3.2 (public services, "
        "organisations, evidence), mapped into the agencies' graphs by queries/profiles/",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long to wait for another load of the same store to finish before giving up "
        "with exit code 75 (default: KHADAMAT_LOAD_WAIT, else 30)",
    )
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

    settings = settings_from(args)
    wait = load_wait() if args.wait is None else args.wait
    try:
        with write_lock(settings.store_dir, wait):
            return _load(args, settings)
    except StoreBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY


def _load(args: argparse.Namespace, settings: Settings) -> int:
    """The load itself, run while this process holds the store's write lock.

    The submission is built on a read-only view of the store, so that a refused one leaves every
    file of the store as it was (a read-write open of RocksDB rewrites its bookkeeping files);
    only a good submission opens the store for writing. It is built again on the writable store
    only when opening it replaced the ontology or the corpus, which the checks read."""
    t0 = time.monotonic()
    progress = None if args.quiet else _Progress()
    submission = None
    try:
        try:
            reader = open_store(settings, read_only=True)
        except StoreError:
            reader = None  # no store yet: the writable open below creates it
        if reader is not None:
            try:
                submission = build_submission(args.paths, reader, progress, args.profile)
            finally:
                reader.close()
        store = open_store(settings)
    except SubmissionError as exc:
        return _refused(exc)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if submission is None or store.reference_graphs_changed:
            submission = build_submission(args.paths, store, progress, args.profile)
        write_submission(submission, store, progress)
    except SubmissionError as exc:
        return _refused(exc)
    finally:
        store.close()
    print(
        f"loaded: {len(submission.graphs)} graphs replaced ({len(submission.agencies)} agencies, "
        f"{len(submission.laws)} laws), {submission.triple_count} triples, {time.monotonic() - t0:.1f} s"
    )
    return 0


def _refused(exc: SubmissionError) -> int:
    """Every error of a refused submission, grouped by file, on stderr; exit code 2."""
    print(
        f"{len(exc.errors)} error(s), nothing loaded — {len(exc.errors)} خطا، هیچ چیز بارگذاری نشد",
        file=sys.stderr,
    )
    for file, errors in exc.by_file().items():
        print(f"== {file}", file=sys.stderr)
        for error in errors:
            print(str(error), file=sys.stderr)
    return 2
