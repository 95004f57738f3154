"""A streaming, bounded .xlsx reader: cell values only, every bound checked while reading.

A workbook is a zip of XML parts, and both layers can be hostile: a 3 MB zip may inflate to
gigabytes, a 3 KB sheet may name column ZZZZZZ, a shared string may be 50 MB long. So nothing
here reads a part whole: each part is decompressed through a counting reader (`_Part`) that
stops at `max_part_bytes` and at `max_unzipped_bytes` for the whole workbook, and its XML is fed
chunk by chunk to expat, whose callbacks check every cell, reference, row and string against
the limits as they arrive. Documents with a DTD are refused (SpreadsheetML never has one, and
entity expansion is the XML bomb).

Both dialects Excel writes are read: Transitional (the default) and Strict Open XML ("Save As
Strict", namespaces `http://purl.oclc.org/ooxml/...`), which differ in namespaces only for the
parts read here. Anything else — a zip that is not a workbook, a workbook with no worksheet —
is refused by name rather than loaded as nothing.

Problems come out as `WorkbookError`: raised when the workbook cannot be read further (a
limit, broken XML or compression), or collected in a list when one cell is wrong (an Excel
error value, a bad shared-string index, a control character) so that all of them are listed.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.parsers import expat

from khadamat.loader.limits import DEFAULT_LIMITS, LoaderLimits
from khadamat.loader.text import control_character
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",  # Transitional
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # Strict
)
REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
# Built-in number formats that are dates or times (ECMA-376 18.8.30).
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_REFERENCE = re.compile(r"([A-Za-z]{1,10})([0-9]{1,9})")
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_INDEX = re.compile(r"\s*[0-9]{1,10}\s*")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # ST_Xstring: Excel writes a CR as _x000D_
_CHUNK = 1 << 16
_MAX_PROBLEMS = 200  # cell problems listed per workbook before reading stops
_LAST_SERIAL = {CALENDAR_WINDOWS_1900: 2958465, CALENDAR_MAC_1904: 2957003}  # 9999-12-31
_SHEET_NAME_CHARS = 31  # Excel's own limit


class WorkbookError(Exception):
    """What was expected, and where: the part of the zip, and the sheet, row and column if known."""

    def __init__(
        self,
        expected: str,
        part: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(expected)
        self.expected, self.part, self.sheet = expected, part, sheet
        self.row, self.column, self.value = row, column, value


def column_letters(index: int) -> str:
    """The spreadsheet name of a 0-based column index (0 → A, 16383 → XFD)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _central_directory(path: Path) -> tuple[int, int] | None:
    """(entries, bytes) of a zip's central directory as its end record declares them.

    zipfile reads the whole directory into objects of ~0.5 KB per entry before we can look at
    it, so a 256 MB file of empty entries would take gigabytes; the end record says how big the
    directory is first. None when there is no end record (zipfile then says it is no zip)."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        tail_size = min(size, 22 + 65535 + 20)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
        if (
            (entries == 0xFFFF or directory == 0xFFFFFFFF)
            and at >= 20
            and tail[at - 20 : at - 16] == b"PK\x06\x07"
        ):
            (offset,) = struct.unpack("<Q", tail[at - 12 : at - 4])
            handle.seek(offset)
            record = handle.read(56)
            if record[:4] == b"PK\x06\x06" and len(record) == 56:
                entries, directory = struct.unpack("<QQ", record[32:48])
        return entries, directory


class _Part:
    """A part being decompressed, counted against the part and workbook limits as it is read."""

    def __init__(self, book: _Book, name: str, handle) -> None:
        self.book, self.name, self.handle, self.count = book, name, handle, 0
        self.run = 0  # bytes since the last '<': a longer run is no SpreadsheetML token

    def read(self, size: int) -> bytes:
        try:
            data = self.handle.read(size)
        except RuntimeError as exc:  # zipfile: "File … is encrypted"
            raise WorkbookError("a workbook without a password", self.name) from exc
        except Exception as exc:  # zlib.error, BadZipFile (CRC), EOFError …: the bytes are damaged
            raise WorkbookError("intact compressed data; the part does not decompress", self.name) from exc
        self.count += len(data)
        self.book.unzipped += len(data)
        limits = self.book.limits
        if self.count > limits.max_part_bytes:
            raise WorkbookError(
                f"a part of at most {limits.max_part_bytes:,} bytes decompressed; it is larger", self.name
            )
        if self.book.unzipped > limits.max_unzipped_bytes:
            raise WorkbookError(
                f"a workbook of at most {limits.max_unzipped_bytes:,} bytes decompressed; it is larger",
                self.name,
            )
        first = data.find(b"<")
        if first < 0:
            self.run += len(data)
            longest = self.run
        else:
            longest, self.run = self.run + first, len(data) - data.rfind(b"<") - 1
        if longest > self.book.token_bytes:
            raise WorkbookError(
                f"XML whose text and tags are at most {self.book.token_bytes:,} bytes long", self.name
            )
        return data


class _Book:
    """An open workbook zip whose size was checked before anything in it was read."""

    def __init__(self, path: Path, limits: LoaderLimits) -> None:
        self.limits, self.unzipped = limits, 0
        # cell text, each character at most 6 bytes escaped (&quot;), with room for its tags
        self.token_bytes = limits.max_cell_chars * 8 + 4096
        directory = _central_directory(path)
        if directory is not None and (
            directory[0] > limits.max_parts or directory[1] > limits.max_parts * 1024
        ):
            raise WorkbookError(f"a workbook of at most {limits.max_parts:,} parts; it has more")
        try:
            self.zip = zipfile.ZipFile(path)
        except Exception as exc:  # BadZipFile, NotImplementedError (zip version), OSError, …
            raise WorkbookError("an .xlsx workbook (a zip package); the file is not one") from exc
        infos = self.zip.infolist()
        declared = 0
        for info in infos:
            if info.file_size > limits.max_part_bytes:
                raise WorkbookError(
                    f"a part of at most {limits.max_part_bytes:,} bytes decompressed; it declares "
                    f"{info.file_size:,}",
                    info.filename,
                )
            declared += info.file_size
        if declared > limits.max_unzipped_bytes:
            raise WorkbookError(
                f"a workbook of at most {limits.max_unzipped_bytes:,} bytes decompressed; its parts "
                f"declare {declared:,}"
            )
        self.names = {info.filename.lower(): info.filename for info in infos}

    def has(self, part: str) -> bool:
        return part.lower() in self.names

    @contextmanager
    def open(self, part: str) -> Iterator[_Part]:
        try:
            handle = self.zip.open(self.names[part.lower()])
        except KeyError as exc:
            raise WorkbookError("a part the workbook's relationships name; it is missing", part) from exc
        except Exception as exc:  # BadZipFile, NotImplementedError (compression), RuntimeError (password)
            raise WorkbookError("a part stored or deflated, without a password", part) from exc
        with handle:
            yield _Part(self, part, handle)

    def close(self) -> None:
        self.zip.close()


def _no_dtd(*_args) -> None:
    raise WorkbookError("XML without a document type declaration (SpreadsheetML has none)")


def _split(name: str) -> tuple[str, str]:
    """expat's 'namespace local' name as (namespace, local)."""
    namespace, _, local = name.rpartition(" ")
    return namespace, local


class _Handler:
    """expat callbacks for one part; `main` holds the local name of a SpreadsheetML element."""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        namespace, local = _split(name)
        if namespace in MAIN:
            self.open(local, attrs)

    def end(self, name: str) -> None:
        namespace, local = _split(name)
        if namespace in MAIN:
            self.close(local)

    def open(self, local: str, attrs: dict[str, str]) -> None: ...

    def close(self, local: str) -> None: ...

    def text(self, data: str) -> None: ...


def _feed(book: _Book, part: str, handler: object) -> Iterator[None]:
    """Parse one part into the handler's callbacks, yielding after each chunk."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = getattr(handler, "end", None)
    parser.CharacterDataHandler = getattr(handler, "text", None)
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    try:
        with book.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
                yield
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise WorkbookError(
            f"well-formed XML ({expat.ErrorString(exc.code)} at line {exc.lineno}, column {exc.offset})", part
        ) from None
    except WorkbookError as exc:
        exc.part = exc.part or part
        raise


def _parse(book: _Book, part: str, handler: object) -> None:
    for _ in _feed(book, part, handler):
        pass


def _cell_string(pieces: list[str]) -> str:
    text = "".join(pieces)
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


class _Relationships:
    """Id → (type, part) of a .rels part; targets resolved against the part they belong to."""

    def __init__(self, base: str) -> None:
        self.base, self.by_id = base, {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == f"{PKG_REL} Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(self.base, target)
            self.by_id[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path))

    def of_type(self, kind: str) -> list[str]:
        return [part for rel_type, part in self.by_id.values() if rel_type.rsplit("/", 1)[-1] == kind]


def _relationships(book: _Book, part: str) -> _Relationships:
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    rels = _Relationships(folder)
    if book.has(rels_part):
        _parse(book, rels_part, rels)
    return rels


class _WorkbookPart(_Handler):
    def __init__(self) -> None:
        self.sheets: list[tuple[str, str]] = []  # (title, relationship id)
        self.date1904 = False
        self.root: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.root is None:
            self.root = name
        super().start(name, attrs)

    def open(self, local: str, attrs: dict[str, str]) -> None:
        if local == "workbookPr":
            self.date1904 = attrs.get("date1904") in {"1", "true"}
        elif local == "sheet":
            rel_id = next((v for k, v in attrs.items() if _split(k) in {(ns, "id") for ns in REL}), "")
            self.sheets.append((attrs.get("name", ""), rel_id))


class _SharedStrings(_Handler):
    def __init__(self, limits: LoaderLimits) -> None:
        self.limits = limits
        self.strings: list[str] = []
        self.controls: dict[int, str] = {}  # index → the control character it holds
        self.pieces: list[str] | None = None
        self.chars = 0
        self.capture = False
        self.phonetic = 0

    def open(self, local: str, attrs: dict[str, str]) -> None:
        if local == "si":
            if len(self.strings) >= self.limits.max_shared_strings:
                raise WorkbookError(
                    f"at most {self.limits.max_shared_strings:,} shared strings; there are more"
                )
            self.pieces, self.chars = [], 0
        elif local == "rPh":
            self.phonetic += 1
        elif local == "t" and self.pieces is not None and not self.phonetic:
            self.capture = True

    def text(self, data: str) -> None:
        if self.capture and self.pieces is not None:
            self.chars += len(data)
            if self.chars > self.limits.max_cell_chars * 2:  # before unescaping _xHHHH_
                self._too_long()
            self.pieces.append(data)

    def close(self, local: str) -> None:
        if local == "t":
            self.capture = False
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "si" and self.pieces is not None:
            text = _cell_string(self.pieces)
            if len(text) > self.limits.max_cell_chars:
                self._too_long()
            if (bad := control_character(text)) is not None:
                self.controls[len(self.strings)] = bad
            self.strings.append(text)
            self.pieces = None

    def _too_long(self) -> None:
        raise WorkbookError(
            f"shared strings of at most {self.limits.max_cell_chars:,} characters; "
            f"string {len(self.strings)} is longer"
        )


class _Styles(_Handler):
    """Indexes of the cell formats (cellXfs) that show a date."""

    def __init__(self) -> None:
        self.custom: dict[int, bool] = {}
        self.formats: list[int] = []
        self.in_xfs = False

    def open(self, local: str, attrs: dict[str, str]) -> None:
        if local == "numFmt":
            code = _QUOTED.sub("", attrs.get("formatCode", "")).lower()
            self.custom[_int(attrs.get("numFmtId"))] = any(ch in code for ch in "dmyhs")
        elif local == "cellXfs":
            self.in_xfs = True
        elif local == "xf" and self.in_xfs:
            self.formats.append(_int(attrs.get("numFmtId")))

    def close(self, local: str) -> None:
        if local == "cellXfs":
            self.in_xfs = False

    def dates(self) -> set[int]:
        return {
            index
            for index, fmt in enumerate(self.formats)
            if fmt in _DATE_FORMAT_IDS or self.custom.get(fmt, False)
        }


def _int(text: str | None) -> int:
    return int(text) if text and _INDEX.fullmatch(text) else 0


class _Context:
    """What every sheet of one workbook shares: limits, strings, date formats, problems, cells used."""

    def __init__(self, book: _Book, strings: _SharedStrings, dates: set[int], epoch, problems: list) -> None:
        self.book, self.limits, self.strings, self.dates = book, book.limits, strings, dates
        self.epoch, self.problems, self.cells = epoch, problems, 0

    def problem(self, error: WorkbookError) -> None:
        self.problems.append(error)
        if len(self.problems) >= _MAX_PROBLEMS:
            raise WorkbookError(
                f"fewer problems: reading stopped after {_MAX_PROBLEMS} (fix these first)",
                error.part,
                error.sheet,
            )


class _Sheet(_Handler):
    """Rows of one worksheet, checked cell by cell; complete rows wait in `done`."""

    def __init__(self, context: _Context, title: str, part: str) -> None:
        self.ctx, self.limits, self.title, self.part = context, context.limits, title, part
        self.done: list[tuple[int, list[object]]] = []
        self.in_data = False
        self.row: list[object] | None = None
        self.number = 0
        self.column = 0  # 0-based index of the current cell
        self.next_column = 0
        self.kind = "n"
        self.style = 0
        self.pieces: list[str] = []
        self.value: str | None = None
        self.chars = 0
        self.capture = False
        self.phonetic = 0

    def fail(self, expected: str, column: int | None = None, value: str | None = None) -> WorkbookError:
        letters = None if column is None else column_letters(column)
        return WorkbookError(expected, self.part, self.title, self.number or None, letters, value)

    def open(self, local: str, attrs: dict[str, str]) -> None:
        if local == "sheetData":
            self.in_data = True
        elif local == "row" and self.in_data:
            self._open_row(attrs.get("r"))
        elif local == "c" and self.row is not None:
            self._open_cell(attrs)
        elif local == "rPh":
            self.phonetic += 1
        elif local in {"v", "t"} and self.row is not None and not self.phonetic:
            self.capture = True

    def _open_row(self, ref: str | None) -> None:
        if ref is None:
            number = self.number + 1
        elif ref.isdigit() and len(ref) <= 8:
            number = int(ref)
        else:
            raise self.fail("a row number", value=ref[:20])
        if number > self.limits.max_rows:
            self.number = number
            raise self.fail(f"at most {self.limits.max_rows:,} rows")
        if number <= self.number:
            raise self.fail(f"rows in order; row {number} comes after row {self.number}")
        self.number, self.row, self.next_column = number, [], 0

    def _open_cell(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        if ref is None:
            index = self.next_column
        else:
            match = _REFERENCE.fullmatch(ref)
            if match is None or int(match.group(2)) != self.number:
                raise self.fail(
                    f"a cell reference in row {self.number} (like A{self.number})", value=ref[:20]
                )
            letters = match.group(1).upper()
            last = column_letters(self.limits.max_columns - 1)
            if len(letters) > len(last) or (index := _letters_index(letters)) >= self.limits.max_columns:
                raise self.fail(
                    f"a column up to {last} ({self.limits.max_columns:,} columns)", value=ref[:20]
                )
            if index < self.next_column:
                raise self.fail("cells in column order", index, ref)
        self.column, self.next_column = index, index + 1
        self.kind, self.style = attrs.get("t", "n"), _int(attrs.get("s"))
        self.pieces, self.value, self.chars = [], None, 0

    def text(self, data: str) -> None:
        if self.capture:
            self.chars += len(data)
            if self.chars <= self.limits.max_cell_chars * 2:  # before unescaping _xHHHH_
                self.pieces.append(data)

    def close(self, local: str) -> None:
        if local in {"v", "t"}:
            self.capture = False
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "c" and self.row is not None:
            self._close_cell()
        elif local == "row" and self.row is not None:
            self._close_row()
        elif local == "sheetData":
            self.in_data = False

    def _close_cell(self) -> None:
        text = _cell_string(self.pieces) if self.pieces else None
        if self.chars > self.limits.max_cell_chars * 2 or (text and len(text) > self.limits.max_cell_chars):
            self.ctx.problem(
                self.fail(f"a cell of at most {self.limits.max_cell_chars:,} characters", self.column)
            )
            return
        try:
            value = self._value(text)
        except WorkbookError as exc:
            self.ctx.problem(exc)
            return
        if value is None:
            return
        row = self.row
        assert row is not None
        row.extend([None] * (self.column - len(row)))
        row.append(value)

    def _close_row(self) -> None:
        row = self.row
        assert row is not None
        self.ctx.cells += len(row)
        if self.ctx.cells > self.limits.max_cells:
            raise self.fail(f"at most {self.limits.max_cells:,} cells in one workbook; it has more")
        self.done.append((self.number, row))
        self.row = None

    def _value(self, text: str | None) -> object:
        kind = self.kind
        if text is None:
            return None
        if kind == "s":
            return self._shared(text)
        if kind in {"inlineStr", "str"}:
            return self._checked(text) or None
        if kind == "e":
            raise self.fail(f"a value; the cell holds the Excel error {text[:20]}", self.column)
        if kind == "b":
            if text.strip() not in {"0", "1"}:
                raise self.fail("a boolean cell of 0 or 1", self.column, text[:20])
            return text.strip() == "1"
        if kind == "d":
            try:
                return dt.datetime.fromisoformat(text.strip())
            except ValueError:
                raise self.fail("a date in ISO 8601 form", self.column, text[:40]) from None
        if kind != "n":
            raise self.fail(
                "a cell type Excel writes (s, str, inlineStr, n, b, d, e)", self.column, kind[:20]
            )
        return self._number(text)

    def _shared(self, text: str) -> str | None:
        strings = self.ctx.strings
        count = len(strings.strings)
        index = int(text) if _INDEX.fullmatch(text) else -1
        if not 0 <= index < count:
            expected = (
                f"a shared-string index from 0 to {count - 1}" if count else "a shared string; there are none"
            )
            raise self.fail(expected, self.column, text[:20])
        if index in strings.controls:
            raise self._control(strings.controls[index])
        return strings.strings[index] or None

    def _checked(self, text: str) -> str:
        if (bad := control_character(text)) is not None:
            raise self._control(bad)
        return text

    def _control(self, char: str) -> WorkbookError:
        return self.fail(f"text without control characters; the cell holds U+{ord(char):04X}", self.column)

    def _number(self, text: str) -> object:
        if not _NUMBER.fullmatch(text):
            raise self.fail("a number", self.column, text[:40])
        number = float(text)
        if not math.isfinite(number):
            raise self.fail("a finite number", self.column, text[:40])
        if self.style in self.ctx.dates:
            epoch = self.ctx.epoch
            if not 0 <= number <= _LAST_SERIAL[epoch]:
                raise self.fail(
                    "a date between 1900 and 9999 (a date serial from 0 to 2958465)", self.column, text[:40]
                )
            return from_excel(number, epoch)
        plain = number.is_integer() and "e" not in text.lower() and "." not in text
        return int(number) if plain else number

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        for _ in _feed(self.ctx.book, self.part, self):
            yield from self.done
            self.done.clear()
        yield from self.done


def _letters_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _checked_title(title: str, part: str) -> str:
    if not title or len(title) > _SHEET_NAME_CHARS or control_character(title) is not None:
        raise WorkbookError(
            f"sheet names of 1 to {_SHEET_NAME_CHARS} characters without control characters",
            part,
            value=title[:40],
        )
    return title


def read_workbook(
    path: Path, problems: list[WorkbookError], limits: LoaderLimits = DEFAULT_LIMITS
) -> Iterator[tuple[str, Iterator[tuple[int, list[object]]]]]:
    """Every worksheet as (title, rows), each row (number, values) with gaps as None.

    A generator: the zip stays open until it is exhausted, so read each sheet's rows before the
    next. Raises WorkbookError when the workbook cannot be read further; appends to `problems`
    each cell that cannot be read (its value then counts as empty)."""
    book = _Book(path, limits)
    try:
        package = _Relationships("")
        if book.has("_rels/.rels"):
            _parse(book, "_rels/.rels", package)
        main = (package.of_type("officeDocument") or ["xl/workbook.xml"])[0]
        workbook = _WorkbookPart()
        _parse(book, main, workbook)
        if workbook.root is None or _split(workbook.root) not in {(ns, "workbook") for ns in MAIN}:
            raise WorkbookError(
                "a SpreadsheetML workbook (Transitional or Strict Open XML); the main part is something else",
                main,
            )
        rels = _relationships(book, main)
        strings = _SharedStrings(limits)
        for part in rels.of_type("sharedStrings")[:1]:
            _parse(book, part, strings)
        styles = _Styles()
        for part in rels.of_type("styles")[:1]:
            _parse(book, part, styles)
        epoch = CALENDAR_MAC_1904 if workbook.date1904 else CALENDAR_WINDOWS_1900
        context = _Context(book, strings, styles.dates(), epoch, problems)
        worksheets = set(rels.of_type("worksheet"))
        sheets = [
            (_checked_title(title, main), rels.by_id[rel_id][1])
            for title, rel_id in workbook.sheets
            if rel_id in rels.by_id and rels.by_id[rel_id][1] in worksheets
        ]
        if not sheets:
            raise WorkbookError("at least one worksheet; the workbook has none that can be read", main)
        for title, part in sheets:
            yield title, _Sheet(context, title, part).rows()
    finally:
        book.close()
