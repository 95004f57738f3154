"""Each class of bad input gets an error naming file, sheet, row, column and what was expected;
all errors of a submission come at once, and a submission with errors loads nothing."""

from __future__ import annotations

import pytest
from khadamat.loader.errors import InputError, SubmissionError
from khadamat.loader.submission import build_submission
from test_loader_helpers import append_rows, copy_basic, disk_store, dump_lines, read_csv, write_csv

from khadamat.cli import main


@pytest.fixture
def store(tmp_path):
    opened = disk_store(tmp_path / "store")
    yield opened
    opened.close()


def errors_of(paths, store) -> list[InputError]:
    with pytest.raises(SubmissionError) as info:
        build_submission(paths, store)
    return info.value.errors


def set_cell(path, row_number: int, column: str, value: str) -> None:
    """Set one cell of a fixture CSV; row_number as the spreadsheet shows it (header = 1)."""
    header, rows = read_csv(path)
    rows[row_number - 2][header.index(column)] = value
    write_csv(path, header, rows)


def test_bad_date_message_names_the_cell(tmp_path, store):
    folder = copy_basic(tmp_path)
    set_cell(folder / "services.csv", 3, "تاریخ تایید شناسنامه", "1403/13/40")
    [error] = errors_of([folder], store)
    assert str(error) == (
        "services.csv, sheet services, row 3, column verified_on (تاریخ تایید شناسنامه): "
        "expected a Jalali or ISO date (۱۴۰۳/۰۴/۰۲, 1403/4/2 or 2024-06-22), got '1403/13/40'"
    )


def test_unknown_header(tmp_path, store):
    folder = copy_basic(tmp_path)
    header, rows = read_csv(folder / "services.csv")
    header[header.index("ماهیت")] = "ماهیت خدمتی"
    write_csv(folder / "services.csv", header, rows)
    [error] = errors_of([folder], store)
    assert (error.file, error.sheet, error.row, error.value) == ("services.csv", "services", 1, "ماهیت خدمتی")
    assert error.expected.startswith("a column of sheet services (شناسنامه خدمات): one of agency (کد دستگاه)")


def test_missing_required_cell_and_column(tmp_path, store):
    folder = copy_basic(tmp_path)
    set_cell(folder / "services.csv", 4, "title", "")
    header, rows = read_csv(folder / "missions.csv")
    write_csv(folder / "missions.csv", header[:3], [r[:3] for r in rows])  # no legal_basis column
    errors = errors_of([folder], store)
    assert [(e.file, e.row, e.column, e.header) for e in errors] == [
        ("missions.csv", 1, "legal_basis", "مبنای قانونی"),
        ("services.csv", 4, "title", "عنوان خدمت"),
    ]
    assert errors[1].expected == "a value; this cell is required"


def test_unknown_agency_mission_and_legal_reference(tmp_path, store):
    folder = copy_basic(tmp_path)
    append_rows(
        folder / "services.csv",
        [
            [
                "NOPE",
                "خدمت دستگاه ناشناخته",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ],
            [
                "ISIPO",
                "خدمت با ماموریت ناشناخته",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "M-X؛M-ISIPO-1",
                "csml:999؛ csml:38؛ :",
                "",
                "",
                "",
                "",
                "",
            ],
        ],
    )
    errors = errors_of([folder], store)
    found = [(e.row, e.column, e.value) for e in errors]
    assert found == [
        (8, "agency", "NOPE"),
        (9, "missions", "M-X"),
        (9, "legal_basis", "csml:999"),
        (9, "legal_basis", ":"),
    ]
    assert "legal reference" in errors[2].expected


def test_duplicate_codes(tmp_path, store):
    folder = copy_basic(tmp_path)
    append_rows(folder / "agencies.csv", [["isipo", "تکراری", "", "سازمان", "", "", ""]])
    append_rows(folder / "missions.csv", [["M-ISIPO-1", "ISIPO", "تکراری", "csml"]])
    append_rows(folder / "licenses.csv", [["LIC-1", "تکراری", "ISIPO", ""]])
    append_rows(
        folder / "counters.csv", [["13091726000", "P-1001", "نام دیگر", "کرمان", "کرمان", "نشانی دیگر"]]
    )
    errors = errors_of([folder], store)
    assert sorted((e.file, e.row, e.column) for e in errors) == [
        ("agencies.csv", 7, "code"),
        ("counters.csv", 3, "office_code"),
        ("licenses.csv", 4, "code"),
        ("missions.csv", 4, "code"),
    ]
    assert all("unique" in e.expected or "one name" in e.expected for e in errors)


def test_unknown_enumeration_value(tmp_path, store):
    folder = copy_basic(tmp_path)
    set_cell(folder / "services.csv", 2, "کانال‌های ارائه", "حضوری؛ کبوتر نامه‌بر")
    [error] = errors_of([folder], store)
    assert (error.row, error.column, error.value) == (2, "channels", "کبوتر نامه‌بر")
    assert "درگاه اینترنتی" in error.expected


def test_wrong_encoding_and_empty_file(tmp_path, store):
    folder = copy_basic(tmp_path)
    (folder / "inquiries.csv").write_bytes(bytes(range(256)) * 4)
    (folder / "counters.csv").write_bytes(b"")
    errors = errors_of([folder], store)
    by_file = {e.file: e for e in errors}
    assert set(by_file) == {"inquiries.csv", "counters.csv"}
    assert (
        "UTF-8" in by_file["inquiries.csv"].expected and "Windows-1256" in by_file["inquiries.csv"].expected
    )
    assert "empty" in by_file["counters.csv"].expected


def test_missing_services_sheet(tmp_path, store):
    folder = copy_basic(tmp_path)
    for name in ("services", "inquiries", "counters", "licenses"):
        (folder / f"{name}.csv").unlink()
    [error] = errors_of([folder], store)
    assert "a services sheet" in error.expected


def test_unknown_sheet_is_skipped_with_a_notice_and_bad_values_are_errors(tmp_path, store):
    folder = copy_basic(tmp_path)
    write_csv(folder / "notes.csv", ["x"], [["y"]])
    set_cell(folder / "services.csv", 2, "هزینه مستقیم (ریال)", "دوازده")
    set_cell(folder / "services.csv", 2, "همکاری بین‌دستگاهی", "شاید")
    set_cell(folder / "services.csv", 4, "شناسه خدمت", "1309-ABC")
    with pytest.raises(SubmissionError) as info:
        build_submission([folder], store)
    assert [(n.file, n.sheet) for n in info.value.notices] == [("notes.csv", "notes")]
    assert [(e.file, e.row, e.column) for e in info.value.errors] == [
        ("services.csv", 2, "direct_cost"),
        ("services.csv", 2, "inter_agency"),
        ("services.csv", 4, "service_id"),
    ]


def test_all_errors_at_once_and_nothing_loaded(tmp_path, capsys):
    store = disk_store(tmp_path / "store")
    folder = copy_basic(tmp_path)
    set_cell(folder / "services.csv", 3, "تاریخ تایید شناسنامه", "1403/13/40")
    set_cell(folder / "agencies.csv", 3, "کد دستگاه مادر", "UNKNOWN")
    set_cell(folder / "missions.csv", 2, "مبنای قانونی", "csml:1000")
    before = dump_lines(store)
    store.close()
    code = main(["load", str(folder), "--store", str(tmp_path / "store"), "-q"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "3 error(s), nothing loaded" in err
    assert err.index("== agencies.csv") < err.index("== missions.csv") < err.index("== services.csv")
    assert "row 3, column parent (کد دستگاه مادر)" in err
    reopened = disk_store(tmp_path / "store")
    assert dump_lines(reopened) == before
    reopened.close()


def test_broken_workbook_and_unknown_file_type(tmp_path, store):
    broken = tmp_path / "catalog.xlsx"
    broken.write_bytes(b"this is not a zip archive")
    other = tmp_path / "catalog.docx"
    other.write_bytes(b"")
    errors = errors_of([broken, other], store)
    assert [e.file for e in errors] == ["catalog.xlsx", "catalog.docx"]
    assert errors[0].expected.startswith("an .xlsx workbook")
    assert "RDF file" in errors[1].expected


def test_laws_sheet_rules(tmp_path, store):
    folder = copy_basic(tmp_path)
    append_rows(
        folder / "laws.csv",
        [
            ["csml", "", "", "", "", "", "38", "", "restating a built-in article is accepted"],
            ["csml", "", "", "", "", "", "999", "", "a new article of a built-in instrument is not"],
            ["new-law", "", "", "", "", "", "1", "", "no title on the first row"],
            ["isipo-act", "", "", "", "", "", "", "تبصره ۲", "a part without its article"],
            ["isipo-act", "", "", "", "", "", "۲", "", "the same article twice"],
        ],
    )
    errors = errors_of([folder], store)
    assert [(e.row, e.column) for e in errors] == [
        (6, "article"),
        (7, "title"),
        (8, "article"),
        (9, "article"),
    ]
    assert "built-in" in errors[0].expected and errors[0].value == "999"


def test_repeated_agency_and_mission_codes_name_the_first_row(tmp_path, store):
    """A code given twice (here once in lower case) is reported on the repeat, pointing at row 1."""
    folder = copy_basic(tmp_path)
    append_rows(folder / "agencies.csv", [["mimt", "وزارت دیگر", "", "وزارتخانه", "", "", ""]])
    append_rows(folder / "missions.csv", [["M-MCHT-1", "MCHT", "ماموریت دیگر", "circ-29168"]])
    errors = errors_of([folder], store)
    assert [(e.file, e.sheet, e.row, e.column, e.value, e.expected) for e in errors] == [
        (
            "agencies.csv",
            "agencies",
            7,
            "code",
            "mimt",
            "a unique agency code; already on row 2 of agencies.csv",
        ),
        (
            "missions.csv",
            "missions",
            4,
            "code",
            "M-MCHT-1",
            "a unique mission code; already on row 3 of missions.csv",
        ),
    ]
