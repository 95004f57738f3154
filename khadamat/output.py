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
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow({c: "" if v is None else v for c, v in row.items()})
        return buffer.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    cells = [[("" if r[c] is None else str(r[c])) for c in cols] for r in data]
    widths = [max([_width(c)] + [_width(row[i]) for row in cells]) for i, c in enumerate(cols)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(cols), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append(f"({len(cells)} rows)")
    return "\n".join(out)
