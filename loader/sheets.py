"""From raw sheets to parsed rows: header matching, required cells and cell values.

References to other rows (agencies, missions, legal references) are only checked for form
here; resolve.py decides whether they exist, once every sheet of the submission is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from khadamat.loader import cells
from khadamat.loader.columns import Column, SheetSpec, header_index, match_key
from khadamat.loader.errors import InputError, Notice
from khadamat.loader.readers import RawSheet


@dataclass
class Row:
    """One data row: where it came from and its parsed values by column key."""

    file: str
    sheet: str  # the sheet name as written in the file
    number: int
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """`file#sheet!row`, written as kh:sourceRow."""
        return f"{self.file}#{self.sheet}!{self.number}"


@dataclass
class ParsedSheet:
    spec: SheetSpec
    file: str
    name: str
    rows: list[Row] = field(default_factory=list)


class ErrorSink:
    """Collects the errors of a submission, each naming its cell, and the notices of what it skipped."""

    def __init__(self) -> None:
        self.errors: list[InputError] = []
        self.notices: list[Notice] = []

    def cell(self, row: Row, column: Column | None, expected: str, value: object = None) -> None:
        shown = (
            None if value is None else str(cells.cell_text(value) if not isinstance(value, str) else value)
        )
        self.errors.append(
            InputError(
                row.file,
                row.sheet,
                row.number,
                column.key if column else None,
                expected,
                shown,
                column.header if column else None,
            )
        )

    def add(self, error: InputError) -> None:
        self.errors.append(error)


def _parser(column: Column) -> Callable[[object], Any]:
    kind = column.kind
    if kind == "enum":
        enums = cells.enumerations()
        scheme = column.scheme or ""
        return lambda raw: enums.lookup(scheme, raw)
    return {
        "text": lambda raw: cells.cell_text(raw),
        "code": cells.parse_code,
        "agency": cells.parse_code,
        "mission": cells.parse_code,
        "legal": lambda raw: (cells.cell_text(raw) or "").strip(),
        "digits": cells.parse_digits,
        "int": cells.parse_int,
        "decimal": cells.parse_decimal,
        "money": cells.parse_money,
        "bool": cells.parse_bool,
        "date": cells.parse_cell_date,
        "item_kind": cells.parse_item_kind,
        "iri": cells.parse_iri,
    }[kind]


def _map_header(raw: RawSheet, spec: SheetSpec, sink: ErrorSink) -> list[Column | None]:
    index = header_index(spec)
    mapped: list[Column | None] = []
    seen: dict[str, int] = {}
    probe = Row(raw.file, raw.name, 1)
    for position, header in enumerate(raw.header):
        text = cells.cell_text(header)
        if text is None:
            mapped.append(None)
            continue
        column = index.get(match_key(text))
        if column is None:
            accepted = ", ".join(f"{c.key} ({c.header})" for c in spec.columns)
            sink.cell(probe, None, f"a column of sheet {spec.key} ({spec.name}): one of {accepted}", text)
        elif column.key in seen:
            sink.cell(probe, column, f"each column once; already in column {seen[column.key] + 1}", text)
            column = None
        else:
            seen[column.key] = position
        mapped.append(column)
    for column in spec.columns:
        if column.required and column.key not in seen:
            sink.cell(
                probe, column, f"a column {column.key} ({column.header}) in sheet {spec.key}; it is required"
            )
    return mapped


def parse_sheet(
    raw: RawSheet,
    spec: SheetSpec,
    sink: ErrorSink,
    progress: Callable[[str, int, int], None] | None = None,
) -> ParsedSheet:
    """Every row of a sheet with its cells parsed; problems go to the sink, the row still counts."""
    parsed = ParsedSheet(spec, raw.file, raw.name)
    if not raw.header:
        sink.add(InputError(raw.file, raw.name, None, None, "a header row and data rows; the sheet is empty"))
        return parsed
    mapped = _map_header(raw, spec, sink)
    parsers = {c.key: _parser(c) for c in spec.columns}
    required = [c for c in spec.columns if c.required and c in mapped]
    for number, raw_cells in raw.rows:
        row = Row(raw.file, raw.name, number)
        for position, value in enumerate(raw_cells):
            column = mapped[position] if position < len(mapped) else None
            if column is None:
                if position >= len(mapped) and cells.cell_text(value) is not None:
                    sink.cell(row, None, f"no value beyond the last header (column {position + 1})", value)
                continue
            if value is None or (type(value) is str and not (value := value.strip())):
                continue
            _parse_cell(row, column, value, parsers[column.key], sink)
        for column in required:
            if column.key not in row.values:
                sink.cell(row, column, "a value; this cell is required")
        parsed.rows.append(row)
        if progress and len(parsed.rows) % 5000 == 0:
            progress(f"parsing {raw.file}: {spec.key}", len(parsed.rows), len(raw.rows))
    return parsed


def _parse_cell(
    row: Row, column: Column, value: object, parse: Callable[[object], Any], sink: ErrorSink
) -> None:
    if not column.multi:
        try:
            row.values[column.key] = parse(value)
        except cells.CellError as exc:
            sink.cell(row, column, exc.expected, value)
        return
    results = []
    for part in cells.split_multi(cells.cell_text(value) or ""):
        try:
            results.append(parse(part))
        except cells.CellError as exc:
            sink.cell(row, column, exc.expected, part)
    if results:
        row.values[column.key] = results
