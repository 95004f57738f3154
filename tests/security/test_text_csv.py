"""CSV text given to `khadamat load`: decoded strictly, every cell checked, quoting errors named.

Each refused file exits 2 with a message naming the file, row and column (and the byte offset
for an encoding error), and leaves the store unchanged to the byte.
"""

from __future__ import annotations

import codecs
import csv
import shutil
from pathlib import Path

import pytest
from khadamat.loader.limits import LoaderLimits
from khadamat.loader.readers import read_csv_file
from khadamat.loader.text import TextError, sniff_encoding

from tests.security.store_support import BASIC, refused_lines, write


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "submission"
    shutil.copytree(BASIC, target)
    return target


def services_with(folder: Path, old: str, new: bytes) -> bytes:
    """services.csv with the first `old` (UTF-8) replaced by the raw bytes `new`."""
    path = folder / "services.csv"
    data = path.read_bytes()
    assert old.encode() in data
    data = data.replace(old.encode(), new, 1)
    path.write_bytes(data)
    return data


# -- encodings --------------------------------------------------------------------------------------


def test_utf8_file_with_one_stray_byte_names_offset_row_and_column(folder, store_dir, capsys):
    # row 3 of the sheet (line 4 of the file: row 2 holds a cell of two lines), column 2 (title)
    data = services_with(folder, "نقل و انتقال", "نقل و".encode() + b"\xe9" + "انتقال".encode())
    offset = data.index(b"\xe9")
    assert refused_lines(store_dir, folder, capsys, "services.csv") == [
        f"services.csv, sheet services, row 3, column 2: expected UTF-8 text; byte {offset} is not UTF-8 "
        "(1 such byte in the file)"
    ]


def _russian(folder: Path, codec: str, text: str) -> Path:
    path = folder / "services.csv"
    head = "agency,title\n"
    path.write_bytes(head.encode() + "".join(f"ISIPO,{text} {n}\n" for n in range(5)).encode(codec))
    return path


@pytest.mark.parametrize(
    ("codec", "text", "why"),
    [
        # KOI8-R reads as Arabic letters in Windows-1256: "и" becomes ة inside words
        ("koi8-r", "выдача лицензии на землю", "ة or ى inside a word ('ة"),
        ("koi8-r", "данные о земле", "letter frequencies of another language"),  # а е д → ء إ ؤ
        ("shift_jis", "土地使用許可の発行", "a character Persian text does not use"),
        ("latin-1", "délivrance du permis", "a character Persian text does not use ('é' at byte"),
    ],
)
def test_other_encodings_are_refused_not_read_as_windows_1256(folder, store_dir, capsys, codec, text, why):
    path = _russian(folder, codec, text)
    first_bad = next(i for i in range(len(path.read_bytes())) if _bad_utf8_at(path.read_bytes(), i))
    [line] = refused_lines(store_dir, folder, capsys, "services.csv")
    assert line.startswith(
        "services.csv, sheet services, row 2, column 2: expected a text file in UTF-8 (with or without BOM), "
        "UTF-16 with a BOM, or Windows-1256 (Arabic); the file is not UTF-8 "
        f"(byte {first_bad} is the first that is not) and, read as Windows-1256, it is not Persian or "
        "Arabic text: "
    ), line
    assert why in line


def _bad_utf8_at(data: bytes, index: int) -> bool:
    try:
        data[:index].decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        data[: index + 4].decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        return exc.start == index


def test_koi8r_lower_case_without_tell_tale_letters_is_refused_by_frequency(tmp_path):
    # а е д → ء إ ؤ: a fifth of the letters are what Persian and Arabic rarely write
    path = write(
        tmp_path, "x.csv", ("agency,title\n" + "ISIPO,дела дела дела дела дела\n" * 3).encode("koi8-r")
    )
    with pytest.raises(TextError) as info:
        sniff_encoding(path)
    assert "letter frequencies of another language" in info.value.expected


def test_utf16_without_bom_is_refused(folder, store_dir, capsys):
    text = (folder / "agencies.csv").read_text(encoding="utf-8")
    (folder / "agencies.csv").write_bytes(text.encode("utf-16-le"))
    assert refused_lines(store_dir, folder, capsys, "agencies.csv") == [
        "agencies.csv, sheet agencies: expected UTF-16 with a byte-order mark (BOM); this looks like UTF-16 "
        "without one (save it from Excel as “CSV UTF-8” instead)"
    ]


def test_windows_1256_export_of_persian_and_arabic_is_read(tmp_path):
    """What Excel's "CSV (Windows Arabic)" writes: Arabic yeh, Latin digits, « », ZWNJ, harakat."""
    text = "کد,عنوان\nISIPO,«صدور مجوز» حق بهره‌برداري از زمين\nARB,إصدار رخصة البناء للمؤسسة العامّة\n"
    path = write(tmp_path, "x.csv", text.encode("cp1256"))
    assert sniff_encoding(path) == "cp1256"
    sheet = read_csv_file(path, [])
    assert sheet is not None and sheet.rows[1][1][1] == "إصدار رخصة البناء للمؤسسة العامّة"


def test_bom_decides_and_the_whole_file_must_follow_it(tmp_path):
    assert sniff_encoding(write(tmp_path, "a.csv", codecs.BOM_UTF8 + "کد\n".encode())) == "utf-8-sig"
    assert sniff_encoding(write(tmp_path, "b.csv", "کد\n".encode("utf-16"))) == "utf-16"
    with pytest.raises(TextError) as info:
        sniff_encoding(write(tmp_path, "c.csv", codecs.BOM_UTF8 + b"ab\n\xff"))
    assert (info.value.offset, info.value.expected) == (
        6,
        "UTF-8 text (the file starts with a UTF-8 BOM); byte 6 is not UTF-8",
    )


# -- control characters, everywhere ---------------------------------------------------------------


def test_control_character_far_past_the_first_64k_is_refused(folder, store_dir, capsys):
    path = folder / "services.csv"
    records = len(list(csv.reader(path.open(encoding="utf-8", newline=""))))
    lines = path.read_bytes().rstrip(b"\n").split(b"\n")
    last = lines[-1]
    assert last.startswith(b"MCHT,")
    filler = [last.replace(b"MCHT", b"MIMT", 1)] * 2000  # ~200 KB of rows
    path.write_bytes(b"\n".join([*lines, *filler, last.replace(b"MCHT", b"MC\x1bHT", 1)]) + b"\n")
    assert path.stat().st_size > 3 * 65536
    assert (
        f"services.csv, sheet services, row {records + 2001}, column 1: expected text without control "
        "characters; the cell holds U+001B"
    ) in refused_lines(store_dir, folder, capsys, "services.csv")


# -- quoting --------------------------------------------------------------------------------------


def test_unbalanced_quote_is_refused_naming_the_row_where_it_opened(folder, store_dir, capsys):
    path = folder / "services.csv"
    records = len(list(csv.reader(path.open(encoding="utf-8", newline=""))))
    lines = path.read_bytes().count(b"\n")
    with path.open("a", encoding="utf-8") as handle:  # the old reader loaded the rows up to here, then exit 0
        handle.write('MCHT,"خدمت تازه,,,\nMCHT,خدمت بعدی\n')
    assert refused_lines(store_dir, folder, capsys, "services.csv") == [
        f"services.csv, sheet services, row {records + 1}, column 2: expected a closing quote for the quote "
        f"opened in this row (line {lines + 1}); without it the rest of the file would be read as one cell"
    ]


def test_text_after_a_closing_quote_is_refused(folder, store_dir, capsys):
    services_with(folder, ",صدور مجوز حق بهره‌برداری از زمین,", ',"صدور" مجوز,'.encode())
    assert refused_lines(store_dir, folder, capsys, "services.csv") == [
        "services.csv, sheet services, row 2, column 2: expected a comma or the end of the line after "
        "a closing "
        'quote (row starting on line 2; a quote inside a quoted cell is written twice: "")'
    ]


# -- limits, with the attack itself ---------------------------------------------------------------


def test_long_rows_and_cells_are_refused_while_reading(tmp_path, monkeypatch, folder, store_dir, capsys):
    path = write(tmp_path, "long.csv", b"agency,title\nISIPO," + b"x" * 5000 + b"\n")
    errors: list = []
    assert read_csv_file(path, errors, LoaderLimits(max_row_chars=1000)) is None
    assert [str(e) for e in errors] == [
        "long.csv, sheet long, row 2: expected rows of at most 1,000 characters (this one starts on line 2)"
    ]
    errors.clear()
    read_csv_file(path, errors, LoaderLimits(max_cell_chars=100))
    assert [str(e) for e in errors] == [
        "long.csv, sheet long, row 2, column 2: expected a cell of at most 100 characters; it has 5,000"
    ]
    # an unclosed quote in a large file stops at the row bound, not at the end of memory
    (folder / "services.csv").write_bytes(b'agency,title\nISIPO,"' + b"x, y\n" * 300_000)
    monkeypatch.setenv("KHADAMAT_LIMIT_MAX_ROW_CHARS", "100000")
    assert refused_lines(store_dir, folder, capsys, "services.csv") == [
        "services.csv, sheet services, row 2: expected rows of at most 100,000 characters (this one "
        "starts on line 2)"
    ]


# -- IRI cells ------------------------------------------------------------------------------------


@pytest.mark.parametrize("iri", ["javascript:alert(1)", "JavaScript://%0Aalert(1)", "vbscript:msgbox(1)"])
def test_iri_cells_accept_only_http_and_https(folder, store_dir, capsys, iri):
    path = folder / "agencies.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("isipo.ir", iri), encoding="utf-8")
    assert refused_lines(store_dir, folder, capsys, "agencies.csv") == [
        "agencies.csv, sheet agencies, row 3, column website (پایگاه اینترنتی): expected a web address "
        "starting "
        f"with http:// or https:// (e.g. https://www.example.ir), got '{iri}'"
    ]
