"""A streaming .xlsx reader for large workbooks: cell values only, five times faster than openpyxl.

A national catalog is tens of thousands of rows; openpyxl's read-only mode spends most of its
time building cell objects we do not need. This reader walks the sheet XML with the standard
library and returns what openpyxl would (str, int, float, bool, datetime). openpyxl stays the
reference: readers.read_xlsx falls back to it whenever this reader meets something it does not
know, and the tests compare both.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import iterparse

from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that are dates or times (ECMA-376 18.8.30).
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_COLUMN = re.compile(r"[A-Z]+")


class UnsupportedWorkbook(Exception):
    """Something this reader does not handle; the caller uses openpyxl instead."""


def _column_index(ref: str) -> int:
    letters = _COLUMN.match(ref)
    if letters is None:
        raise UnsupportedWorkbook(f"cell reference {ref!r}")
    index = 0
    for ch in letters.group():
        index = index * 26 + ord(ch) - 64
    return index - 1


def _text(element) -> str:
    return "".join(t.text or "" for t in element.iter(f"{NS}t"))


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    strings = []
    with book.open("xl/sharedStrings.xml") as handle:
        for _, element in iterparse(handle):
            if element.tag == f"{NS}si":
                strings.append(_text(element))
                element.clear()
    return strings


def _date_styles(book: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell formats (cellXfs) that show a date."""
    if "xl/styles.xml" not in book.namelist():
        return set()
    with book.open("xl/styles.xml") as handle:
        root = _parse(handle)
    custom = {}
    for fmt in root.iter(f"{NS}numFmt"):
        code = _QUOTED.sub("", fmt.get("formatCode", "")).lower()
        custom[int(fmt.get("numFmtId", "0"))] = any(ch in code for ch in "dmyhs")
    dates = set()
    xfs = root.find(f"{NS}cellXfs")
    for index, xf in enumerate(xfs if xfs is not None else []):
        fmt_id = int(xf.get("numFmtId", "0"))
        if fmt_id in _DATE_FORMAT_IDS or custom.get(fmt_id, False):
            dates.add(index)
    return dates


def _parse(handle):
    from xml.etree.ElementTree import parse

    return parse(handle).getroot()


def _sheets(book: zipfile.ZipFile) -> tuple[list[tuple[str, str]], bool]:
    """(title, path in the zip) of every worksheet in order, and whether dates count from 1904."""
    with book.open("xl/workbook.xml") as handle:
        workbook = _parse(handle)
    with book.open("xl/_rels/workbook.xml.rels") as handle:
        rels = {r.get("Id"): r.get("Target") for r in _parse(handle).iter(f"{PKG_REL}Relationship")}
    pr = workbook.find(f"{NS}workbookPr")
    date1904 = pr is not None and pr.get("date1904") in {"1", "true"}
    sheets = []
    for sheet in workbook.iter(f"{NS}sheet"):
        target = rels.get(sheet.get(f"{REL_NS}id") or "")
        if target is None:
            raise UnsupportedWorkbook(f"sheet {sheet.get('name')} has no part")
        path = (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        )
        sheets.append((sheet.get("name") or "", path))
    return sheets, date1904


def _value(cell, strings: list[str], dates: set[int], epoch) -> object:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return _text(cell) or None
    v = cell.find(f"{NS}v")
    if v is None or v.text is None:
        return None
    text = v.text
    if kind == "s":
        return strings[int(text)] or None
    if kind in {"str", "e"}:
        return text or None
    if kind == "b":
        return text == "1"
    if kind != "n":
        raise UnsupportedWorkbook(f"cell type {kind!r}")
    number = float(text)
    if int(cell.get("s", "0")) in dates:
        return from_excel(number, epoch)
    return int(number) if number.is_integer() and "E" not in text and "." not in text else number


def iter_rows(
    book: zipfile.ZipFile, path: str, strings: list[str], dates: set[int], epoch
) -> Iterator[tuple[int, list[object]]]:
    """(row number, cell values) of one worksheet; gaps between columns are None."""
    with book.open(path) as handle:
        for _, element in iterparse(handle):
            if element.tag != f"{NS}row":
                continue
            number = int(element.get("r", "0"))
            cells: list[object] = []
            for position, cell in enumerate(element.iter(f"{NS}c")):
                ref = cell.get("r")
                index = _column_index(ref) if ref else position
                if index < len(cells):
                    raise UnsupportedWorkbook(f"cells out of order in row {number}")
                cells.extend([None] * (index - len(cells)))
                cells.append(_value(cell, strings, dates, epoch))
            element.clear()
            if number <= 0:
                raise UnsupportedWorkbook("rows without numbers")
            yield number, cells


def read_workbook(path) -> list[tuple[str, Iterator[tuple[int, list[object]]]]]:
    """Every worksheet as (title, row iterator). Raises UnsupportedWorkbook or zipfile/XML errors."""
    book = zipfile.ZipFile(path)
    sheets, date1904 = _sheets(book)
    strings = _shared_strings(book)
    dates = _date_styles(book)
    epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    return [(title, iter_rows(book, part, strings, dates, epoch)) for title, part in sheets]
