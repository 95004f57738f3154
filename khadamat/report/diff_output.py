"""`khadamat diff` as XLSX and as a standalone HTML page (JSON and CSV are the command's own).

Why here: the diff is the year-on-year half of the evaluation, and its readers are the same
auditors; the page and workbook share the report's labels (labels.toml) and conventions (right to
left, Persian headers, Jalali dates, nothing fetched from outside).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from khadamat.diff import COLUMNS, KINDS, CatalogDiff
from khadamat.formatting import number
from khadamat.report.figures import labels

TEMPLATES = Path(__file__).resolve().parent / "templates"
# khadamat.diff.COLUMNS → the key of its header in labels.toml [diff]
_HEADER_KEYS = {"title": "title_column", "old": "old_value", "new": "new_value"}


def diff_words(lang: str) -> dict[str, str]:
    words = dict(labels()["diff"]["en" if lang == "en" else "fa"])
    words |= {k: v for k, v in labels()["page"]["en" if lang == "en" else "fa"].items() if k in KINDS}
    return words


def headers(lang: str) -> list[str]:
    words = diff_words(lang)
    return [words[_HEADER_KEYS.get(c, c)] for c in COLUMNS]


def _summary_rows(diff: CatalogDiff) -> list[list[Any]]:
    return [[agency, *[counts.get(k, 0) for k in KINDS]] for agency, counts in diff.summary().items()]


def to_xlsx(diff: CatalogDiff, lang: str = "fa") -> bytes:
    """Two sheets, summary per agency and every change, right to left in Persian."""
    import xlsxwriter

    words = diff_words(lang)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    book.set_properties({"title": f"{words['title']}: {diff.old} → {diff.new}"})
    bold = book.add_format({"bold": True})
    sheets = (
        (words["summary"], [words["agency"], *[words[k] for k in KINDS]], _summary_rows(diff)),
        (words["changes"], headers(lang), [[r.get(c) for c in COLUMNS] for r in diff.changes]),
    )
    for name, head, rows in sheets:
        sheet = book.add_worksheet(name[:31])
        if lang == "fa":
            sheet.right_to_left()
        for col, text in enumerate(head):
            sheet.write_string(0, col, text, bold)
            sheet.set_column(col, col, 16)
        for r, row in enumerate(rows, 1):
            for col, value in enumerate(row):
                if isinstance(value, int) and not isinstance(value, bool):
                    sheet.write_number(r, col, value)
                elif value is not None:
                    sheet.write_string(r, col, str(value))
        sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def to_html(diff: CatalogDiff, lang: str = "fa") -> str:
    """The diff as one right-to-left page: the summary per agency, then every change."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["j2"]))
    env.filters["num"] = lambda v: number(v, lang)
    return env.get_template("diff.html.j2").render(
        diff=diff,
        lang=lang,
        words=diff_words(lang),
        kinds=KINDS,
        summary=_summary_rows(diff),
        headers=headers(lang),
        columns=COLUMNS,
    )
