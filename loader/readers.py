"""Reading submission files into raw sheets: .xlsx workbooks and folders of .csv files.

Agencies export from Excel on Windows, so a CSV may come as UTF-8 (with or without BOM),
UTF-16 or Windows-1256; the reader finds out which, and refuses a file it cannot read rather
than loading mojibake. Nothing here interprets cells: that is columns.py and cells.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from khadamat.loader import xlsx
from khadamat.loader.errors import InputError

Cell = str | int | float | bool | object | None
Progress = Callable[[str, int, int], None]

ENCODINGS_EXPECTED = "a text file in UTF-8 (with or without BOM), UTF-16 or Windows-1256"
# C0 control characters other than tab, LF and CR never occur in a real CSV: their presence
# means the bytes were decoded with the wrong encoding (or are not text at all).
_CONTROLS = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r")


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


def decode_text(data: bytes) -> str:
    """The text of a CSV file in whichever of the accepted encodings it is written.

    Raises UnicodeError when no accepted encoding gives clean text.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        # UTF-16 without a BOM: ASCII characters leave a zero byte on one side.
        even_zeros = data[0:4096:2].count(0)
        odd_zeros = data[1:4096:2].count(0)
        text = data.decode("utf-16-be" if even_zeros > odd_zeros else "utf-16-le")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1256")
    if any(ch in _CONTROLS for ch in text[:65536]):
        raise UnicodeError("the bytes decode to control characters")
    return text


def _clean_header(header: list[Cell]) -> list[Cell]:
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header.pop()
    return header


def _is_blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_csv_file(path: Path, errors: list[InputError]) -> RawSheet | None:
    """One CSV file as a sheet named after its file stem; None (and an error) if unreadable."""
    data = path.read_bytes()
    if not data.strip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n"):
        errors.append(
            InputError(path.name, path.stem, None, None, "a header row and data rows; the file is empty")
        )
        return None
    try:
        text = decode_text(data)
    except UnicodeError as exc:
        errors.append(InputError.of_file(path.name, f"{ENCODINGS_EXPECTED} ({exc})"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    sheet: RawSheet | None = None
    try:
        for number, cells in enumerate(reader, start=1):
            if sheet is None:
                sheet = RawSheet(path.name, path.stem, _clean_header(list(cells)))
            elif not _is_blank(cells):
                sheet.rows.append((number, list(cells)))
    except csv.Error as exc:
        errors.append(InputError(path.name, path.stem, None, None, f"well-formed CSV ({exc})"))
        return None
    return sheet


def read_csv_folder(folder: Path, errors: list[InputError]) -> tuple[list[RawSheet], list[Source]]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if not files:
        errors.append(InputError.of_file(folder.name, "a folder of .csv files (services.csv, …); found none"))
    sheets = [s for p in files if (s := read_csv_file(p, errors)) is not None]
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


def read_xlsx(path: Path, errors: list[InputError], progress: Progress | None = None) -> list[RawSheet]:
    """Every sheet of a workbook: with the fast streaming reader, or openpyxl when it declines."""
    try:
        return [
            _sheet_from_rows(path.name, title, rows, progress) for title, rows in xlsx.read_workbook(path)
        ]
    except (xlsx.UnsupportedWorkbook, ParseError, KeyError, ValueError, IndexError, zipfile.BadZipFile):
        return read_xlsx_openpyxl(path, errors, progress)


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
