"""Cell rules of the workbook spec: multi-value cells, yes/no, numbers and money in any digits,
Jalali and ISO dates, enumerations by any accepted spelling, headers in Persian or English."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from khadamat.loader import cells
from khadamat.loader.columns import SERVICES, header_index, match_key, sheet_spec
from pyoxigraph import NamedNode

from khadamat.namespaces import KHC


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("G2C؛G2B", ["G2C", "G2B"]),
        ("حضوری; پیشخوان", ["حضوری", "پیشخوان"]),
        ("کارت ملی\nشناسنامه\r\n", ["کارت ملی", "شناسنامه"]),
        ("؛ تنها ؛", ["تنها"]),
    ],
)
def test_multi_value_separators(text, values):
    assert cells.split_multi(text) == values


@pytest.mark.parametrize("raw", ["بله", "yes", "YES", "1", "✓", True, 1.0])
def test_yes(raw):
    assert cells.parse_bool(raw) is True


@pytest.mark.parametrize("raw", ["خیر", "no", "0", False])
def test_no(raw):
    assert cells.parse_bool(raw) is False


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("۱٬۲۰۰٬۰۰۰", 1200000),
        ("١٢٠٠", 1200),
        ("1,200,000", 1200000),
        ("۱،۲۰۰", 1200),
        ("1_200", 1200),
        ("12 000", 12000),
        (1200, 1200),
        (1200.0, 1200),
    ],
)
def test_money_in_any_digits_and_separators(raw, value):
    assert cells.parse_money(raw) == value


@pytest.mark.parametrize("raw", ["دوازده", "-5", "1.5"])
def test_bad_money(raw):
    with pytest.raises(cells.CellError):
        cells.parse_money(raw)


def test_decimals():
    assert cells.parse_decimal("۰٫۵") == Decimal("0.5")
    assert cells.parse_decimal("2.25") == Decimal("2.25")
    with pytest.raises(cells.CellError):
        cells.parse_decimal("nan")


@pytest.mark.parametrize(
    "raw", ["۱۴۰۳/۰۴/۰۲", "1403/4/2", "2024-06-22", dt.datetime(2024, 6, 22, 0, 0), "١٤٠٣/٠٤/٠٢"]
)
def test_dates_jalali_and_iso(raw):
    assert cells.parse_cell_date(raw) == dt.date(2024, 6, 22)


@pytest.mark.parametrize("raw", ["1403/13/40", "2024-02-30", "فردا"])
def test_bad_dates(raw):
    with pytest.raises(cells.CellError) as info:
        cells.parse_cell_date(raw)
    assert info.value.expected.startswith("a Jalali or ISO date")


def test_service_ids_keep_digits():
    assert cells.parse_digits("۱۳۰۹۱۷۲۶۰۰۰") == "13091726000"
    assert cells.parse_digits(13091726000.0) == "13091726000"
    with pytest.raises(cells.CellError):
        cells.parse_digits("1309-17")


@pytest.mark.parametrize(
    ("scheme", "raw", "concept"),
    [
        ("nature", "تصدی‌گری", "nature-proprietary"),
        ("nature", "تصدي گري", "nature-proprietary"),
        ("nature", "تصدیگری", "nature-proprietary"),
        ("channel", "ICT روستایی", "channel-rural-ict"),
        ("audience", "g2c", "audience-G2C"),
        ("maturity", "۲", "maturity-2"),
        ("agency-kind", "واحد استانی", "agency-kind-provincial-unit"),
        ("inquiry", "فرآیندی", "inquiry-process"),
    ],
)
def test_enumerations_by_label(scheme, raw, concept):
    assert cells.enumerations().lookup(scheme, raw) == NamedNode(KHC + concept)


def test_unknown_enumeration_lists_the_accepted_values():
    with pytest.raises(cells.CellError) as info:
        cells.enumerations().lookup("scope", "جهانی")
    assert "ملی" in info.value.expected and "استانی" in info.value.expected


def test_headers_and_sheet_names_in_persian_or_english():
    index = header_index(SERVICES)
    assert index[match_key("شناسه‌خدمت")].key == "service_id"
    assert index[match_key("شناسه خدمت")].key == "service_id"
    assert index[match_key("Service_ID")].key == "service_id"
    assert index[match_key("بهای تمام شده (ریال)")].key == "full_cost"
    assert sheet_spec("شناسنامه خدمات") is SERVICES
    assert sheet_spec("Services") is SERVICES
    assert sheet_spec("ماموریت‌ها").key == "missions" and sheet_spec("مأموریتها").key == "missions"
