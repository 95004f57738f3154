"""`khadamat load PATH...`: load submission workbooks, CSV folders or RDF files into the store.

Exit 0 when the submission loaded, 2 with every error printed (grouped by file) when it did not;
a failed load writes nothing. Loads of one store run one at a time (a lock file in the store
folder): a load that cannot get the lock within `--wait` seconds writes nothing, says so in one
line and exits 75 (EX_TEMPFAIL: try again later). Progress goes to stderr, the one-line summary
to stdout; so do notices of what was skipped (a sheet whose name is not of the format), with or
without --quiet.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from khadamat.loader.errors import Notice, SubmissionError
from khadamat.querylib import PROFILES
from khadamat.store import StoreBusy, StoreError

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
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="skip validating the submission before writing it (a whole national catalog: saves a "
        "full validation's time; `khadamat validate` reports later)",
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
    """The load, through the one write path (khadamat.submissions.submit) as the local operator:
    a new store generation, a version in the history, visible at once to a running server."""
    from khadamat.accounts import local_operator
    from khadamat.cli import settings_from
    from khadamat.submissions import submit

    settings = settings_from(args)
    t0 = time.monotonic()
    try:
        outcome = submit(
            settings,
            list(args.paths),
            local_operator(),
            wait=args.wait,
            action="load",
            validate=not args.no_validate,
            profile=args.profile,
            progress=None if args.quiet else _Progress(),
        )
    except StoreBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not outcome.accepted:
        if outcome.refusal is not None and outcome.refusal.errors:
            return _refused(outcome.refusal)
        for error in outcome.errors:
            print(f"error: {error}", file=sys.stderr)
        return 2
    for notice in outcome.notices:
        print(f"notice: {notice}", file=sys.stderr)
    findings = ", ".join(f"{n} {severity}" for severity, n in sorted(outcome.findings.items()))
    print(
        f"loaded: {len(outcome.graphs)} graphs replaced ({len(outcome.agencies)} agencies, "
        f"{len(outcome.laws)} laws), {outcome.triples} triples, {time.monotonic() - t0:.1f} s; "
        f"version {outcome.id}" + (f"; findings: {findings}" if findings else "")
    )
    return 0


def print_notices(notices: list[Notice]) -> None:
    """One stderr line per sheet the loader skipped, so that nobody wonders where it went."""
    for notice in notices:
        print(f"notice: {notice}", file=sys.stderr)


def _refused(exc: SubmissionError) -> int:
    """Every error of a refused submission, grouped by file, on stderr (after the notices); exit 2."""
    print_notices(exc.notices)
    print(
        f"{len(exc.errors)} error(s), nothing loaded — {len(exc.errors)} خطا، هیچ چیز بارگذاری نشد",
        file=sys.stderr,
    )
    for file, errors in exc.by_file().items():
        print(f"== {file}", file=sys.stderr)
        for error in errors:
            print(str(error), file=sys.stderr)
    return 2
