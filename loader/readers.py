"""Reading submission files into raw sheets: .xlsx workbooks and folders of .csv files.

Agencies export from Excel on Windows, so a CSV may come as UTF-8 (with or without BOM),
UTF-16 or Windows-1256; text.py decides which, strictly, and a file it cannot read is refused
rather than loaded as mojibake. Every file is hostile until bounded: the limits of limits.py are
checked while reading, and every cell of every format is checked for length and control
characters here. Nothing here interprets cells: that is columns.py and cells.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from khadamat.loader import xlsx
from khadamat.loader.errors import InputError
from khadamat.loader.limits import DEFAULT_LIMITS, LoaderLimits
from khadamat.loader.text import TextError, control_character, sniff_encoding, undecodable_byte

Cell = str | int | float | bool | object | None
Progress = Callable[[str, int, int], None]
# skip(file, sheet): whether to leave a sheet (or CSV file of a folder) unread. The caller decides
# which names belong to the format, and records a notice for each sheet it skips.
SkipSheet = Callable[[str, str], bool]


def _read_all(_file: str, _sheet: str) -> bool:
    return False


_MAX_PROBLEMS = 200  # cell problems listed per file before reading stops


@dataclass
class RawSheet:
    """One sheet (or CSV file) as read: its header row and its data rows with their row numbers."""

    file: str
    name: str
    header: list[Cell]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)


@dataclass
class Source:
    """A file the submission was read from, for provenance."""

    path: Path
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _clean_header(header: list[Cell]) -> list[Cell]:
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header.pop()
    return header


def _is_blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


class _Refused(Exception):
    """A file that cannot be read further, with where (row, column) and what was expected."""

    def __init__(self, expected: str, row: int | None = None, column: str | None = None) -> None:
        super().__init__(expected)
        self.expected, self.row, self.column = expected, row, column


class _Lines:
    """The physical lines of a text file for csv.reader, each record bounded in characters.

    csv.reader holds a whole record before it returns it, and a file whose quote never closes is
    one record; so the characters of a record are counted as its lines are handed over, and the
    first line of each record is kept to say where a quote opened."""

    def __init__(self, handle: io.TextIOBase, limits: LoaderLimits) -> None:
        self.handle, self.limit = handle, limits.max_row_chars
        self.line = 0  # lines handed over so far
        self.record_line = 1  # the line the current record starts on
        self.record_chars = 0
        self.first = ""  # the first line of the current record
        self.row = 0  # the record being read (1-based, as the spreadsheet shows it)

    def next_record(self) -> None:
        self.row += 1
        self.record_line, self.record_chars, self.first = self.line + 1, 0, ""

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(self.limit - self.record_chars + 1)
        if not line:
            raise StopIteration
        self.line += 1
        self.record_chars += len(line)
        if self.record_chars > self.limit:
            raise _Refused(
                f"rows of at most {self.limit:,} characters (this one starts on line {self.record_line})",
                self.row,
            )
        if not self.first:
            self.first = line
        return line


def _quote_column(line: str) -> int | None:
    """The 1-based field of a CSV line where a quote is left open or is followed by text."""
    field_number, quoted, at_start, closed = 1, False, True, False
    opened = None
    position = 0
    while position < len(line):
        ch = line[position]
        if quoted:
            if ch == '"' and line[position + 1 : position + 2] == '"':
                position += 1
            elif ch == '"':
                quoted, closed = False, True
        elif ch == ",":
            field_number, at_start, closed = field_number + 1, True, False
            position += 1
            continue
        elif ch in "\r\n":
            break
        elif closed:
            return field_number
        elif ch == '"' and at_start:
            quoted, opened = True, field_number
        at_start = False
        position += 1
    return opened if quoted else None


def _csv_error(exc: csv.Error, lines: _Lines, limits: LoaderLimits) -> _Refused:
    message = str(exc)
    column = _quote_column(lines.first)
    where = str(column) if column is not None else None
    if message.startswith("field larger than field limit"):
        return _Refused(f"cells of at most {limits.max_cell_chars:,} characters", lines.row)
    if "expected after" in message:
        return _Refused(
            "a comma or the end of the line after a closing quote (row starting on line "
            f"{lines.record_line}; "
            'a quote inside a quoted cell is written twice: "")',
            lines.row,
            where,
        )
    return _Refused(
        f"a closing quote for the quote opened in this row (line {lines.record_line}); without it the rest "
        "of the file would be read as one cell",
        lines.row,
        where,
    )


def _csv_records(
    path: Path, encoding: str, errors: str, limits: LoaderLimits
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every record of a CSV file, each checked against the limits."""
    with path.open("r", encoding=encoding, errors=errors, newline="") as handle:
        lines = _Lines(handle, limits)
        reader = csv.reader(lines, strict=True)
        cells_read = 0
        while True:
            lines.next_record()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _csv_error(exc, lines, limits) from None
            if lines.row > limits.max_rows:
                raise _Refused(f"at most {limits.max_rows:,} rows", lines.row)
            if len(cells) > limits.max_columns:
                raise _Refused(f"at most {limits.max_columns:,} columns", lines.row)
            cells_read += len(cells)
            if cells_read > limits.max_cells:
                raise _Refused(f"at most {limits.max_cells:,} cells in one file", lines.row)
            yield lines.row, cells


def _cell_problem(text: str, limits: LoaderLimits) -> str | None:
    """What is wrong with the text of one cell of any format, or None."""
    if len(text) > limits.max_cell_chars:
        return f"a cell of at most {limits.max_cell_chars:,} characters; it has {len(text):,}"
    if (bad := control_character(text)) is not None:
        return f"text without control characters; the cell holds U+{ord(bad):04X}"
    return None


def _locate_bad_byte(path: Path, refusal: TextError, limits: LoaderLimits) -> tuple[int | None, str | None]:
    """The row and column of the cell holding the first byte the encoding refused."""
    if refusal.locate_with is None:
        return None, None
    try:
        for number, cells in _csv_records(path, refusal.locate_with, "surrogateescape", limits):
            for position, text in enumerate(cells, start=1):
                if undecodable_byte(text) is not None:
                    return number, str(position)
    except _Refused:
        pass
    return None, None


def _too_big(path: Path, limits: LoaderLimits) -> InputError | None:
    size = path.stat().st_size
    if size <= limits.max_file_bytes:
        return None
    return InputError.of_file(
        path.name, f"a file of at most {limits.max_file_bytes:,} bytes; it has {size:,}"
    )


def read_csv_file(
    path: Path, errors: list[InputError], limits: LoaderLimits = DEFAULT_LIMITS
) -> RawSheet | None:
    """One CSV file as a sheet named after its file stem; None (and an error) if unreadable.

    Every cell is checked (length, control characters); a file that cannot be read further (its
    encoding, a quote left open, a limit) gives one error naming the row where it happened."""
    file, name = path.name, path.stem
    if (error := _too_big(path, limits)) is not None:
        errors.append(error)
        return None
    try:
        encoding = sniff_encoding(path)
    except TextError as exc:
        row, column = _locate_bad_byte(path, exc, limits)
        errors.append(InputError(file, name, row, column, exc.expected))
        return None
    sheet: RawSheet | None = None
    problems: list[InputError] = []
    try:
        for number, cells in _csv_records(path, encoding, "strict", limits):
            for position, text in enumerate(cells, start=1):
                if text and (problem := _cell_problem(text, limits)) is not None:
                    problems.append(InputError(file, name, number, str(position), problem))
                    if len(problems) >= _MAX_PROBLEMS:
                        raise _Refused(
                            f"fewer problems: reading stopped after {_MAX_PROBLEMS} (fix these first)"
                        )
            if sheet is None:
                sheet = RawSheet(file, name, _clean_header(list(cells)))
            elif not _is_blank(cells):
                sheet.rows.append((number, list(cells)))
    except _Refused as exc:
        errors.extend(problems)
        errors.append(InputError(file, name, exc.row, exc.column, exc.expected))
        return None
    errors.extend(problems)
    if sheet is None or (not sheet.header and not sheet.rows):
        errors.append(InputError(file, name, None, None, "a header row and data rows; the file is empty"))
        return None
    return sheet


def read_csv_folder(
    folder: Path,
    errors: list[InputError],
    limits: LoaderLimits = DEFAULT_LIMITS,
    skip: SkipSheet = _read_all,
) -> tuple[list[RawSheet], list[Source]]:
    """The .csv files of a folder as sheets, each named by its file stem; `skip`ped ones unread."""
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if not found:
        errors.append(InputError.of_file(folder.name, "a folder of .csv files (services.csv, …); found none"))
    files = [p for p in found if not skip(p.name, p.stem)]
    sheets = [s for p in files if (s := read_csv_file(p, errors, limits)) is not None]
    return sheets, [Source(p, sha256_of(p)) for p in files]


def _sheet_from_rows(file: str, title: str, rows, progress: Progress | None) -> RawSheet:
    """A raw sheet from (row number, cells) pairs; row 1 is the header (an empty one if missing)."""
    sheet: RawSheet | None = None
    for number, cells in rows:
        if sheet is None:
            sheet = RawSheet(file, title, _clean_header(list(cells)) if number == 1 else [])
            if number == 1:
                continue
        if not _is_blank(cells):
            sheet.rows.append((number, cells))
        if progress and number % 5000 == 0:
            progress(f"reading {file}: {title}", number, 0)
    return sheet or RawSheet(file, title, [])


def _workbook_error(file: str, error: xlsx.WorkbookError) -> InputError:
    part = error.part if error.sheet is None else None  # a cell is found by its sheet, not its part
    return InputError(file, error.sheet, error.row, error.column, error.expected, error.value, part=part)


def read_xlsx(
    path: Path,
    errors: list[InputError],
    progress: Progress | None = None,
    limits: LoaderLimits = DEFAULT_LIMITS,
    skip: SkipSheet = _read_all,
) -> list[RawSheet]:
    """Every sheet of a workbook, read by the bounded streaming reader (xlsx.py).

    A workbook that cannot be read further gives its error and no sheets; cells that cannot be
    read give one error each, and the sheets are returned so that their other errors show too.
    A `skip`ped sheet is not parsed at all, so that what an instructions or lookup sheet holds
    (formulas, error cells, a long text) cannot refuse the workbook."""
    if (error := _too_big(path, limits)) is not None:
        errors.append(error)
        return []
    problems: list[xlsx.WorkbookError] = []
    sheets: list[RawSheet] = []
    try:
        for title, rows in xlsx.read_workbook(path, problems, limits):
            if skip(path.name, title):
                continue
            sheets.append(_sheet_from_rows(path.name, title, rows, progress))
    except xlsx.WorkbookError as exc:
        problems.append(exc)
        sheets = []
    errors.extend(_workbook_error(path.name, p) for p in problems)
    return sheets


def read_xlsx_openpyxl(
    path: Path, errors: list[InputError], progress: Progress | None = None
) -> list[RawSheet]:
    """Every sheet of a workbook, read in openpyxl's read-only mode (streams large files)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        errors.append(InputError.of_file(path.name, f"an .xlsx workbook ({exc})"))
        return []
    sheets: list[RawSheet] = []
    try:
        for worksheet in book.worksheets:
            sheet: RawSheet | None = None
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                cells = list(values)
                if sheet is None:
                    sheet = RawSheet(path.name, worksheet.title, _clean_header(cells))
                elif not _is_blank(cells):
                    sheet.rows.append((number, cells))
                if progress and number % 5000 == 0:
                    progress(f"reading {path.name}: {worksheet.title}", number, worksheet.max_row or 0)
            sheets.append(sheet or RawSheet(path.name, worksheet.title, []))
    finally:
        book.close()
    return sheets
