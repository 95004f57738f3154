"""Workbooks built in memory for the loader's security tests: any sheet XML, shared strings and
styles in a valid package, Transitional or Strict, and a peak-memory run of `khadamat load`.

Also the fixtures `template`/`store_dir` (a copy of a store holding examples/catalog) and
`refused`, which runs `khadamat load` and checks that it exits 2 and leaves the store unchanged.
Holds no tests itself.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from khadamat.cli import main
from tests.security.rdf_load_support import catalog_template, copy_store, fingerprint

ROOT = Path(__file__).resolve().parents[2]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
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


def row_bomb(rows: int) -> bytes:
    """A workbook whose one sheet holds `rows` rows of one inline string, streamed into the zip
    (the sheet is never whole in memory): ~70 bytes a row decompressed, ~0.1 byte compressed."""
    unit = '<row><c t="inlineStr"><is><t>صدور مجوز</t></is></c></row>'.encode() * 1000
    parts = zipfile.ZipFile(io.BytesIO(workbook({"services": sheet()})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name in parts.namelist():
            if name != "xl/worksheets/sheet1.xml":
                book.writestr(name, parts.read(name))
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            for _ in range(rows // 1000):
                stream.write(unit)
            stream.write(b"</sheetData></worksheet>")
    return out.getvalue()


def to_strict(xlsx: bytes) -> bytes:
    """The same workbook in Strict Open XML."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        return package({name: book.read(name) for name in book.namelist()}, strict=True)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    peak_rss: int  # bytes, the child's own maximum resident set size


TIME = Path("/usr/bin/time")


def khadamat_measured(*args: str, env: dict[str, str] | None = None) -> Run:
    """`khadamat ARGS` in a child process, with its peak resident memory as GNU time reports it.

    Through /usr/bin/time rather than os.wait4 on a direct child: Linux counts in a child's
    ru_maxrss the memory of the process it was forked from (here the test runner) before exec."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "rss"
        done = subprocess.run(
            [str(TIME), "-f", "%M", "-o", str(report), sys.executable, "-m", "khadamat", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
            timeout=300,
        )
        return Run(done.returncode, done.stdout, done.stderr, int(report.read_text().split()[-1]) * 1024)


# -- a store holding examples/catalog, and refused loads against it ------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return catalog_template(tmp_path_factory.mktemp("catalog"))


@pytest.fixture
def store_dir(template, tmp_path) -> Path:
    return copy_store(template, tmp_path / "store")


def refused(store_dir: Path, path: Path, capsys, file: str | None = None) -> list[str]:
    """`khadamat load path` exits 2 and changes no file of the store; its error lines for `file`
    (by default the file loaded)."""
    before = fingerprint(store_dir)
    code = main(["load", str(path), "--store", str(store_dir), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert fingerprint(store_dir) == before
    name = file or path.name
    return [line for line in err.splitlines() if line.startswith((name + ",", name + ":"))]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
