"""Fuzzing the loader with hostile CSV folders and workbooks (hypothesis).

Property: build_submission — the function behind `khadamat load` and `/validate` — either
returns a submission or raises SubmissionError, never any other exception; and a refused
submission leaves the store (every file under its folder) unchanged.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from khadamat.loader.errors import SubmissionError
from khadamat.loader.submission import build_submission

from khadamat.config import Settings
from khadamat.store import open_store
from tests.security.store_support import BASE, fingerprint, write
from tests.security.workbook_builders import inline, row, shared, sheet, workbook

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Persian and Arabic letters, Latin, the three kinds of digits, marks, ZWNJ, and the characters
# that matter to CSV, to XML and to a terminal.
LETTERS = "آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیةىيكإأؤءًٌٍَُِّْ" + "abcXYZ" + "0123456789" + "۰۱۲۳۴۵۶۷۸۹" + "٠١٢٣٤٥٦٧٨٩"
SPECIAL = ',";\n\r\t \u200c\u200f\u202e<>&=+-@_x000D_'
CONTROLS = "".join(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127, 0x85, 0x9F))
cell_text = st.text(alphabet=LETTERS + SPECIAL + CONTROLS, max_size=40)
codes = st.sampled_from(["MIMT", "ISIPO", "A", "B", "C", "NEW-1", "", "کد"]) | cell_text


@pytest.fixture(scope="module")
def store(template: Path):
    """A read-only view of the store holding examples/catalog (conftest.py), and its fingerprint."""
    opened = open_store(Settings(store_dir=template, base=BASE), read_only=True)
    yield opened, template, fingerprint(template)
    opened.close()


def check(store, files: dict[str, bytes], whole_folder: bool) -> None:
    """Write `files` to a scratch folder and build a submission of it (or of its files): it loads
    or is refused with its errors listed, and the store is unchanged."""
    opened, folder, before = store
    with tempfile.TemporaryDirectory() as scratch:
        submission = Path(scratch) / "submission"
        submission.mkdir()
        paths = [write(submission, name, data) for name, data in files.items()]
        try:
            build_submission([submission] if whole_folder else paths, opened)
        except SubmissionError as exc:
            assert exc.errors, "a refusal lists its errors"
            assert all(str(e) for e in exc.errors)
    assert fingerprint(folder) == before


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


agency_rows = st.lists(
    st.tuples(codes, cell_text, codes).map(lambda t: [t[0], t[1] or "نام", t[2]]), min_size=0, max_size=8
)


@st.composite
def csv_folders(draw) -> dict[str, bytes]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1256"]))
    agencies = draw(agency_rows)
    if draw(st.booleans()):  # a cycle in the agency hierarchy
        agencies += [["CYC-A", "الف", "CYC-B"], ["CYC-B", "ب", "CYC-C"], ["CYC-C", "ج", "CYC-A"]]
    services = draw(st.lists(st.lists(cell_text, min_size=0, max_size=6), max_size=10))
    files = {
        "agencies.csv": _csv_bytes([["code", "name", "parent"], *agencies], encoding),
        "services.csv": _csv_bytes(
            [["agency", "title", "service_id", "item_kind", "nature", "channels"], *services], encoding
        ),
    }
    if draw(st.booleans()):  # raw bytes spliced into a file
        name = draw(st.sampled_from(sorted(files)))
        data = files[name]
        at = draw(st.integers(0, len(data)))
        files[name] = data[:at] + draw(st.binary(max_size=20)) + data[at:]
    if draw(st.booleans()):  # a huge sheet, or an empty one
        files["missions.csv"] = draw(
            st.sampled_from([b"", b"code,agency,title,legal_basis\n" + b"M,MIMT,t,csml:38\n" * 3000])
        )
    return files


@FUZZ
@given(files=csv_folders())
def test_hostile_csv_folders_load_or_are_refused(store, files):
    check(store, files, whole_folder=True)


value = st.one_of(
    cell_text,
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["-1", "1e400", "nan", "99999999999", "#REF!", "", " ", "0x10", "１"]),
)
refs = st.one_of(
    st.none(),
    st.sampled_from(["A", "B", "C", "XFD", "XFE", "ZZZZZZ", "a", ""]),
)


@st.composite
def sheets_xml(draw) -> str:
    rows = [row(1, inline("A1", "کد دستگاه"), inline("B1", "عنوان خدمت"))]
    count = draw(st.sampled_from([0, 1, 3, 2000]))  # empty, small, huge
    kinds = st.sampled_from(["inlineStr", "s", "n", "b", "e", "str", "d", "zz"])
    template = []
    for _ in range(min(count, 5)):
        cells = []
        for letter in draw(st.lists(refs, max_size=4)):
            kind, text = draw(kinds), draw(value)
            ref = f' r="{letter}{{n}}"' if letter is not None else ""
            style = draw(st.sampled_from(["", ' s="0"', ' s="1"', ' s="-3"']))
            body = f"<is><t>{_xml(text)}</t></is>" if kind == "inlineStr" else f"<v>{_xml(text)}</v>"
            cells.append(f'<c{ref} t="{kind}"{style}>{body}</c>')
        template.append("".join(cells))
    for n in range(2, count + 2):
        cells = template[n % len(template)] if template else ""
        rows.append(f'<row r="{n}">{cells.replace("{n}", str(n))}</row>')
    return sheet(*rows)


def _xml(text: str) -> str:
    """Text escaped for XML, with the characters XML 1.0 cannot hold written as Excel does."""
    out = []
    for ch in text:
        if ch in '<>&"':
            out.append({"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}[ch])
        elif ord(ch) < 32 and ch not in "\t\n\r":
            out.append(f"_x{ord(ch):04X}_")
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def workbooks(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))  # not a zip at all
    titles = draw(
        st.lists(
            st.sampled_from(["services", "agencies", "شناسنامه خدمات", "Sheet1", "x" * 40]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    strings = draw(st.none() | st.lists(cell_text, max_size=5).map(lambda s: shared(*(_xml(x) for x in s))))
    data = workbook({t: draw(sheets_xml()) for t in titles}, strings, strict=draw(st.booleans()))
    if draw(st.booleans()):  # a flipped byte somewhere in the zip
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data


@FUZZ
@given(data=workbooks())
def test_hostile_workbooks_load_or_are_refused(store, data):
    check(store, {"submission.xlsx": data}, whole_folder=False)
