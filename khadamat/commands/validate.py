"""`khadamat validate`: check the catalog, one agency or an unloaded submission against the shapes.

Exit 0 when nothing at or above `--fail-on` was found, 1 when something was, 2 on a usage or input
error (bad date, unknown agency, a submission that does not read). A submission is validated
together with what the store holds and nothing is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import defaultdict
from pathlib import Path

from khadamat.jalali import DateFormatError, parse_date, to_jalali
from khadamat.output import output_problem, render, write_output
from khadamat.store import Store, StoreError, open_store
from khadamat.validation.report import SEVERITY_ORDER, Report, message, rule_name, severity_name

FORMATS = ("table", "json", "csv", "turtle", "html")
_LABELS = {
    "fa": {
        "agency": "دستگاه",
        "findings": "یافته",
        "none": "(بدون دستگاه)",
        "ok": "هیچ یافته‌ای نیست؛ داده با شکل‌ها سازگار است.",
        "date": "تاریخ اعتبارسنجی",
        "law": "مبنا",
        "scope": "دامنه",
    },
    "en": {
        "agency": "agency",
        "findings": "findings",
        "none": "(no agency)",
        "ok": "No findings: the data conforms to the shapes.",
        "date": "validation date",
        "law": "enforces",
        "scope": "scope",
    },
}


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "validate",
        parents=[parent],
        help="check service cards against the SHACL shapes — اعتبارسنجی شناسنامه خدمات",
        description=(
            "Validate the whole store, one agency (--agency, with --with-affiliates) or a submission "
            "(PATH…, not loaded: validated with the store as context). Exit 0: conforms; 1: findings at "
            "or above --fail-on; 2: usage or input error. اعتبارسنجی کل فهرست، یک دستگاه یا یک ارسال."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="a submission to validate before loading (.xlsx, folder of .csv, RDF)",
    )
    parser.add_argument("--agency", metavar="CODE", help="only the findings on this agency's data")
    parser.add_argument(
        "--with-affiliates",
        action="store_true",
        help="with --agency: include its affiliated agencies and units",
    )
    parser.add_argument(
        "--date",
        metavar="YYYY-MM-DD|YYYY/MM/DD",
        help="validation date, ISO or Jalali (default: today); cards older than a year fail",
    )
    parser.add_argument(
        "--lang", choices=("fa", "en"), default="fa", help="language of messages (default fa)"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    parser.add_argument(
        "--fail-on",
        choices=("violation", "warning", "info"),
        default="violation",
        help="lowest severity that makes the exit code 1 (default violation)",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE")
    parser.set_defaults(run=run)


def _error(text: str) -> int:
    print(f"khadamat validate: {text}", file=sys.stderr)
    return 2


def _open(args: argparse.Namespace) -> Store:
    from khadamat.cli import settings_from

    settings = settings_from(args)
    if settings.endpoint is not None or settings.store_dir.exists():
        return open_store(settings, read_only=True)
    return open_store(settings, in_memory=True)  # no store yet: validate against the reference graphs


def run(args: argparse.Namespace) -> int:
    from khadamat.validation import UnknownAgency, validate

    if args.with_affiliates and not args.agency:
        return _error("--with-affiliates needs --agency")
    if args.output is not None and (problem := output_problem(args.output)):
        return _error(problem)  # before the work, not after minutes of validation
    try:
        on_date = parse_date(args.date) if args.date else dt.date.today()
    except DateFormatError as exc:
        return _error(str(exc))
    try:
        store = _open(args)
    except StoreError as exc:
        return _error(str(exc))
    try:
        submission = _submission(args.paths, store) if args.paths else None
        report = validate(
            store,
            agency=args.agency,
            with_affiliates=args.with_affiliates,
            submission=submission,
            on_date=on_date,
        )
    except UnknownAgency as exc:
        return _error(str(exc))
    except _InputProblem as exc:
        return _error(str(exc))
    if problem := _write(args, _formatted(report, args.format, args.lang)):
        return _error(problem)
    return 1 if report.at_least(args.fail_on) else 0


class _InputProblem(Exception):
    """The submission could not be read; the message lists every error."""


def _submission(paths: list[Path], store: Store):  # -> Submission
    from khadamat.commands.load import print_notices
    from khadamat.loader.errors import SubmissionError
    from khadamat.loader.submission import build_submission

    try:
        submission = build_submission(paths, store)
    except SubmissionError as exc:
        print_notices(exc.notices)
        lines = "\n".join(f"  {e}" for e in exc.errors)
        raise _InputProblem(f"the submission has {len(exc.errors)} input error(s):\n{lines}") from exc
    print_notices(submission.notices)
    return submission


def _formatted(report: Report, fmt: str, lang: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(lang), ensure_ascii=False, indent=2)
    if fmt == "csv":
        return report.to_csv()
    if fmt == "turtle":
        return report.to_turtle()
    if fmt == "html":
        return report.to_html(lang)
    return table(report, lang)


def _write(args: argparse.Namespace, text: str) -> str | None:
    """Print or write the report; a one-line reason when the output file cannot be written."""
    text = text if text.endswith("\n") else text + "\n"
    if args.output:
        return write_output(args.output, text.encode("utf-8"))
    sys.stdout.write(text)
    return None


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def table(report: Report, lang: str = "fa") -> str:
    """Findings grouped by agency, then by rule: the rule's message and legal source once, then rows."""
    words = _LABELS[lang]
    date_text = (
        to_jalali(report.on_date)
        if lang == "fa"
        else f"{report.on_date.isoformat()} ({to_jalali(report.on_date, False)})"
    )
    lines = [f"{words['date']}: {date_text}   {words['scope']}: {report.scope}"]
    if not report.findings:
        return "\n".join([*lines, words["ok"]])
    grouped: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for finding in report.sorted():
        grouped[finding.agency or ""][rule_name(finding.shape)].append(finding)
    for agency, rules in grouped.items():
        count = sum(len(v) for v in rules.values())
        name = next((f.agency_name for fs in rules.values() for f in fs if f.agency_name), None)
        named = f"{agency} ({name})" if agency and name else agency or words["none"]
        lines += ["", f"══ {words['agency']} {named} — {count} {words['findings']}"]
        for rule, findings in sorted(
            rules.items(), key=lambda kv: (-SEVERITY_ORDER[severity_name(kv[1][0].severity)], kv[0])
        ):
            first = findings[0]
            legal = first.legal
            source = (
                f"{legal.instrument}:{legal.article}" + (f":{legal.part}" if legal.part else "")
                if legal
                else "—"
            )
            lines += [
                "",
                f"[{severity_name(first.severity)}] {rule} ({words['law']} {source})",
                f"  {message(first, lang)}",
            ]
            rows = [
                {
                    "service_id": f.service_id or "",
                    "title": f.title or "",
                    "source": f.source or "",
                    "focus": f.focus.value if hasattr(f.focus, "value") else str(f.focus),
                    "path": f.path.text() if f.path else "",
                    "value": None if f.value == f.focus else f.value,  # a node shape's value is its focus
                }
                for f in findings
            ]
            lines.append("  " + render(rows, "table").replace("\n", "\n  "))
    summary = report.summary()
    lines += [
        "",
        "Σ "
        + "; ".join(
            f"{a or words['none']}: {s['total']} ({_counts(s['bySeverity'])})" for a, s in summary.items()
        ),
    ]
    return "\n".join(lines)
