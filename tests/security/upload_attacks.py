"""Hostile uploads built in memory by the tests (nothing large is committed), and a server watcher.

Builders return the bytes of an upload; `ServerWatch` samples, while an attack runs, the peak
resident memory of the server's whole process tree (children included) and the latency of
`/health` and an ordinary browse route, which the tests then compare with their budgets.
"""

from __future__ import annotations

import io
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "api" / "catalog.trig"
BASIC = Path(__file__).resolve().parents[1] / "fixtures" / "loader" / "basic"

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def _package_parts(main_ns: str = _MAIN, with_strings: bool = False) -> dict[str, bytes]:
    """Every part of a one-sheet workbook except the sheet itself."""
    overrides = (
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument'
        '.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/>'
    )
    if with_strings:
        overrides += (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    strings_rel = (
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        if with_strings
        else ""
    )
    return {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>' + overrides + "</Types>"
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main_ns}" xmlns:r="{_REL}">'
            '<sheets><sheet name="services" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            + strings_rel
            + "</Relationships>"
        ).encode(),
    }


def sheet_xml(rows: str, main_ns: str = _MAIN) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main_ns}"><sheetData>{rows}'
        "</sheetData></worksheet>"
    ).encode()


def workbook(sheet: bytes, strings: bytes | None = None, main_ns: str = _MAIN) -> bytes:
    """A small, well-formed .xlsx around the given sheet (and shared strings) XML."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in _package_parts(main_ns, strings is not None).items():
            book.writestr(name, data)
        book.writestr("xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            book.writestr("xl/sharedStrings.xml", strings)
    return out.getvalue()


def column_reference_bomb() -> bytes:
    """A ~1 KB workbook whose one cell sits in column ZZZZZZ (index 321 million)."""
    return workbook(
        sheet_xml(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
            '<row r="2"><c r="ZZZZZZ2"><v>1</v></c></row>'
        )
    )


def giant_cell(megabytes: int = 50) -> bytes:
    """A ~100 KB workbook with one shared string of `megabytes` MB."""
    text = b"A" * (megabytes * 2**20)
    strings = (
        (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" count="1" uniqueCount="1"><si><t>'
        ).encode()
        + text
        + b"</t></si></sst>"
    )
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    return workbook(sheet_xml(rows), strings)


def no_readable_sheet() -> bytes:
    """A Strict Open XML workbook (Excel's "Save As Strict"): a valid package no reader here knows."""
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>کد دستگاه</t></is></c></row>'
    return workbook(sheet_xml(rows, _STRICT), main_ns=_STRICT)


def broken_workbook() -> bytes:
    """A zip that claims to be a workbook but whose sheet's deflate stream is garbage."""
    good = workbook(sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>' * 50))
    data = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as book:
        info = book.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 2, start + info.compress_size - 2):
        data[i] ^= 0x5A
    return bytes(data)


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


def zip_bomb(gigabytes: float = 3.0) -> bytes:
    """A ~3 MB .xlsx whose sheet inflates to `gigabytes` GB of rows (valid zip, valid CRC)."""
    parts = _package_parts()
    row = ('<row><c t="inlineStr"><is><t>' + "A" * 30_000 + "</t></is></c></row>").encode()
    unit = row * (2**20 // len(row))
    head = sheet_xml("").split(b"</sheetData>")[0]
    count = int(gigabytes * 2**30 / len(unit))
    sheet, crc, size = _repeated_deflate(head, unit, count, b"</sheetData></worksheet>")
    body, directory = b"", b""
    for name, data in parts.items():
        local, central = _zip_entry(name, zlib.compress(data)[2:-4], zlib.crc32(data), len(data), len(body))
        body, directory = body + local, directory + central
    local, central = _zip_entry("xl/worksheets/sheet1.xml", sheet, crc, size, len(body))
    body, directory = body + local, directory + central
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(parts) + 1, len(parts) + 1, len(directory), len(body), 0
    )
    return body + directory + end


def nested_quoted_triples(depth: int = 100_000) -> bytes:
    """Turtle about one agency whose object is a triple term nested `depth` levels deep (`<<( … )>>`).

    pyoxigraph's Turtle parser recurses once per level: 100,000 levels overflow the stack (SIGSEGV).
    """
    agency = (
        "<http://e/a> a <https://w3id.org/khadamat/ontology#ExecutiveAgency> ;\n"
        '    <https://w3id.org/khadamat/ontology#agencyCode> "NESTED" .\n'
    )
    nested = "<<( <http://e/a> <http://e/p> " * depth + "<http://e/o>" + " )>>" * depth
    return (agency + "<http://e/a> <http://e/p> " + nested + " .\n").encode()


def services_csv(count: int) -> bytes:
    """A services sheet of `count` services of the basic fixture's agencies (a large, valid upload)."""
    header = (BASIC / "services.csv").read_text(encoding="utf-8").splitlines()[0]
    width = header.count(",")
    lines = [header]
    for n in range(count):
        cells = ["ISIPO", f"خدمت آزمایشی شمارهٔ {n}", str(13091800000 + n), "", "خدمت"] + [""] * (width - 4)
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def basic_files(*names: str, **replace: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The basic fixture's sheets (all, or those `names`) as multipart `files`, some replaced by name."""
    out = []
    for path in sorted(BASIC.glob("*.csv")):
        if names and path.stem not in names:
            continue
        out.append(("files", (path.name, replace.get(path.stem, path.read_bytes()), "text/csv")))
    return out


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


@dataclass
class Watch:
    """What the watcher saw: peak tree memory, and every probe's latency (None = failed)."""

    first_rss: int = 0
    peak_rss: int = 0
    latencies: list[float | None] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max((x if x is not None else float("inf")) for x in self.latencies) if self.latencies else 0.0


@contextmanager
def watch_server(url: str, pid: int, probe_every: float = 0.2) -> Iterator[Watch]:
    """Sample the server tree's memory and probe `/health` and `/services` until the block ends."""
    seen = Watch()
    stop = threading.Event()

    def sample() -> None:
        seen.first_rss = tree_rss(pid)
        while not stop.is_set():
            seen.peak_rss = max(seen.peak_rss, tree_rss(pid))
            stop.wait(0.05)

    def probe() -> None:
        with httpx.Client(timeout=5.0) as client:
            while not stop.is_set():
                for path in ("/health", "/services?size=1"):
                    started = time.monotonic()
                    try:
                        ok = client.get(url + path).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    seen.latencies.append(time.monotonic() - started if ok else None)
                stop.wait(probe_every)

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=probe, daemon=True)]
    for t in threads:
        t.start()
    try:
        yield seen
    finally:
        stop.set()
        for t in threads:
            t.join()


def server_pid(url: str) -> int:
    """The process listening on the server's port (the uvicorn process `live_server` started)."""
    port = int(url.rsplit(":", 1)[1])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return conn.pid
    raise LookupError(f"no process listens on port {port}")
