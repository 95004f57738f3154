"""One writer for every command's tabular output: a terminal table, JSON or CSV.

Rows are lists of plain dicts of strings/numbers; RDF terms are turned into their values first
with `plain()`, so that every command prints Persian text and IRIs the same way.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

FORMATS = ("table", "json", "csv")


def plain(value: Any) -> Any:
    """An RDF term as a Python value: IRIs and literals as strings, numbers and booleans typed."""
    if isinstance(value, ox.Literal):
        dtype = value.datatype.value.rsplit("#", 1)[-1] if value.datatype else ""
        if dtype in {"integer", "int", "long", "nonNegativeInteger"}:
            return int(value.value)
        if dtype in {"decimal", "double", "float"}:
            return float(value.value)
        if dtype == "boolean":
            return value.value in {"true", "1"}
        return value.value
    if isinstance(value, ox.NamedNode | ox.BlankNode):
        return value.value if isinstance(value, ox.NamedNode) else f"_:{value.value}"
    return value


# A cell that starts with one of these is read by Excel and LibreOffice as a formula (or as the
# start of one), so a catalog value such as `=HYPERLINK(...)` would run on the auditor's desk.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: the OWASP rule, a `'` before a formula lead.

    Numbers stay numbers (a negative count is not a formula); only text is prefixed.
    """
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    value = spreadsheet_safe(value)
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV with a header, safe to open in a spreadsheet: every CSV output goes through here.

    Keys of a row that are not among `columns` are left out; missing ones are empty cells. A
    carriage return inside a cell becomes a line feed: the writer quotes cells holding its own
    line terminator only, and a bare CR left unquoted would split the row for every reader.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c)) for c in columns})
    return buffer.getvalue()


def _width(text: str) -> int:
    # Combining marks and zero-width joiners take no column.
    return sum(0 if unicodedata.combining(c) or c in "\u200c\u200d\u200e\u200f" else 1 for c in text)


def render(
    rows: Sequence[Mapping[str, Any]], fmt: str = "table", columns: Sequence[str] | None = None
) -> str:
    """Rows as a table, JSON (a list of objects) or CSV, in the given column order."""
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    data = [{c: plain(r.get(c)) for c in cols} for r in rows]
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return csv_text(data, cols)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    cells = [[("" if r[c] is None else str(r[c])) for c in cols] for r in data]
    widths = [max([_width(c)] + [_width(row[i]) for row in cells]) for i, c in enumerate(cols)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(cols), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append(f"({len(cells)} rows)")
    return "\n".join(out)


def output_problem(path: Path) -> str | None:
    """Why `path` cannot be written, in one line, or None. Checked before any work is done.

    A missing folder is refused, not created: like `cp` or `curl -o`, a typo in the folder name
    should not silently make a new tree of folders somewhere."""
    parent = path.parent
    if path.is_dir():
        return f"cannot write {path}: it is a folder; give a file name (e.g. {path / 'export.trig'})"
    if not parent.is_dir():
        return f"cannot write {path}: the folder {parent} does not exist (create it first)"
    return None


def write_output(path: Path, data: bytes) -> str | None:
    """Write `data` to `path`; a one-line reason instead of a traceback when the system refuses."""
    if problem := output_problem(path):
        return problem
    try:
        path.write_bytes(data)
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}"
    return None
