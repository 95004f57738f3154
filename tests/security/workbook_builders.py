"""Workbooks built in memory by the security tests (nothing large is committed): any sheet XML,
shared strings and styles in a valid package, Transitional or Strict, and the bombs.

The bombs are small files that ask for much: a zip whose sheet inflates to gigabytes, a million
rows, a column reference far past Excel's last column, a 50 MB cell, a deflate stream that does
not decompress. Holds no tests itself.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET1 = "xl/worksheets/sheet1.xml"
# styles: format 0 is General, format 1 shows a date (built-in number format 14)
DATE_STYLES = (
    f'<styleSheet xmlns="{MAIN}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    "</styleSheet>"
)


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def sheet(*rows: str) -> str:
    return f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'


def shared(*strings: str) -> str:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'


def workbook(
    sheets: dict[str, str], strings: str | None = None, styles: str | None = None, strict: bool = False
) -> bytes:
    """The bytes of an .xlsx holding the given sheets (title → sheet XML) and optional parts."""
    rels = [(f"rId{n}", "worksheet", f"worksheets/sheet{n}.xml") for n in range(1, len(sheets) + 1)]
    if strings is not None:
        rels.append(("rIdS", "sharedStrings", "sharedStrings.xml"))
    if styles is not None:
        rels.append(("rIdT", "styles", "styles.xml"))
    entries = "".join(
        f'<sheet name="{escape(title)}" sheetId="{n}" r:id="rId{n}"/>' for n, title in enumerate(sheets, 1)
    )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG_REL}">'
        + "".join(f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{target}"/>' for i, t, target in rels)
        + "</Relationships>",
    }
    for n, xml in enumerate(sheets.values(), 1):
        parts[f"xl/worksheets/sheet{n}.xml"] = xml
    if strings is not None:
        parts["xl/sharedStrings.xml"] = strings
    if styles is not None:
        parts["xl/styles.xml"] = styles
    return package(parts, strict)


def package(parts: dict[str, str | bytes], strict: bool = False) -> bytes:
    """A zip of the parts; `strict` rewrites the namespaces as Excel's "Save As Strict" does."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            if isinstance(data, str):
                data = data.encode("utf-8")
            if strict and name.endswith((".xml", ".rels")):
                data = data.replace(MAIN.encode(), STRICT_MAIN.encode()).replace(
                    REL.encode(), STRICT_REL.encode()
                )
            book.writestr(name, data)
    return out.getvalue()


def to_strict(xlsx: bytes) -> bytes:
    """The same workbook in Strict Open XML."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        return package({name: book.read(name) for name in book.namelist()}, strict=True)


# -- bombs ------------------------------------------------------------------------------------------


def column_reference_bomb() -> bytes:
    """A ~1 KB workbook whose one cell sits in column ZZZZZZ (index 321 million)."""
    return workbook({"services": sheet(row(1, inline("A1", "x")), row(2, '<c r="ZZZZZZ2"><v>1</v></c>'))})


def giant_cell(megabytes: int = 50) -> bytes:
    """A ~50 KB workbook with one shared string of `megabytes` MiB."""
    return workbook(
        {"services": sheet(row(1, '<c r="A1" t="s"><v>0</v></c>'))}, shared("A" * megabytes * 2**20)
    )


def broken_workbook() -> bytes:
    """A zip that claims to be a workbook but whose sheet's deflate stream is garbage."""
    good = workbook({"services": sheet(row(1, inline("A1", "x")) * 50)})
    data = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as book:
        info = book.getinfo(SHEET1)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 2, start + info.compress_size - 2):
        data[i] ^= 0x5A
    return bytes(data)


def zip_bomb(gigabytes: float = 3.0) -> bytes:
    """A few-MB .xlsx whose sheet inflates to `gigabytes` GiB of rows of 30,000-letter cells."""
    row_xml = ('<row><c t="inlineStr"><is><t>' + "A" * 30_000 + "</t></is></c></row>").encode()
    unit = row_xml * (2**20 // len(row_xml))
    return repeated_sheet(unit, int(gigabytes * 2**30 / len(unit)))


def row_bomb(rows: int) -> bytes:
    """A workbook whose one sheet holds `rows` rows of one inline string (~70 bytes a row
    decompressed, ~0.1 byte compressed)."""
    unit = '<row><c t="inlineStr"><is><t>صدور مجوز</t></is></c></row>'.encode() * 1000
    return repeated_sheet(unit, rows // 1000)


def repeated_sheet(unit: bytes, count: int) -> bytes:
    """A one-sheet workbook ("services") whose sheet is `unit` repeated `count` times between the
    sheet's opening and closing tags: a valid zip with a true CRC and size, built without ever
    holding or compressing the whole sheet."""
    head, tail = sheet().encode().split(b"</sheetData>")
    data, crc, size = _repeated_deflate(head, unit, count, b"</sheetData>" + tail)
    with zipfile.ZipFile(io.BytesIO(workbook({"services": sheet()}))) as book:
        parts = [(name, book.read(name)) for name in book.namelist() if name != SHEET1]
    body, directory = b"", b""
    for name, part in parts:
        local, central = _zip_entry(name, zlib.compress(part)[2:-4], zlib.crc32(part), len(part), len(body))
        body, directory = body + local, directory + central
    local, central = _zip_entry(SHEET1, data, crc, size, len(body))
    body, directory = body + local, directory + central
    entries = len(parts) + 1
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(directory), len(body), 0)
    return body + directory + end


def _zip_entry(name: str, compressed: bytes, crc: int, size: int, offset: int) -> tuple[bytes, bytes]:
    """(local header + data, central directory record) of one deflated entry."""
    encoded = name.encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(compressed), size, len(encoded), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(compressed), size, len(encoded), 0, 0, 0, 0, 0, offset,
    )  # fmt: skip
    return local + encoded + compressed, central + encoded


def _repeated_deflate(head: bytes, unit: bytes, count: int, tail: bytes) -> tuple[bytes, int, int]:
    """Deflate head + unit*count + tail without compressing it all: one independent block, repeated.

    A full flush resets the compressor's dictionary, so the compressed block of `unit` is the same
    every time and can be repeated as bytes. Returns (raw deflate, crc32, uncompressed size).
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(unit) + comp.flush(zlib.Z_FULL_FLUSH)
    last = comp.compress(tail) + comp.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    return first + block * count + last, crc, len(head) + len(unit) * count + len(tail)
