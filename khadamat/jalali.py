"""Dates as agencies write them (Jalali) and as the graph stores them (xsd:date, Gregorian).

People read Jalali dates, standards read Gregorian ones: the graph keeps xsd:date so that any
SPARQL engine can compare dates, and every page or message shows them back in Jalali.
"""

from __future__ import annotations

import datetime as dt
import re

import jdatetime

from khadamat.normalize import latin_digits

_JALALI = re.compile(r"^(1[2-4]\d\d)\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class DateFormatError(ValueError):
    """A cell that is neither a valid Jalali nor a valid ISO date."""


def parse_date(text: str) -> dt.date:
    """Parse `۱۴۰۳/۰۴/۰۲`, `1403/4/2` (Jalali) or `2024-06-22` (ISO Gregorian).

    Years 1200–1499 are read as Jalali, four-digit years with dashes as ISO; anything else, or a
    day that does not exist in its calendar (1403/13/40, 2024-02-30), raises DateFormatError.
    """
    value = latin_digits(str(text)).strip()
    if match := _ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
        if year >= 1500:
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise DateFormatError(f"'{text}' is not a valid Gregorian date: {exc}") from exc
    if match := _JALALI.match(value):
        year, month, day = (int(g) for g in match.groups())
        try:
            return jdatetime.date(year, month, day).togregorian()
        except ValueError as exc:
            raise DateFormatError(f"'{text}' is not a valid Jalali date: {exc}") from exc
    raise DateFormatError(
        f"'{text}' is not a date: expected Jalali YYYY/MM/DD (e.g. 1403/04/02) or ISO YYYY-MM-DD"
    )


_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def to_jalali(date: dt.date, persian_digits: bool = True) -> str:
    """Show a Gregorian date as a Jalali YYYY/MM/DD string (Persian digits by default)."""
    text = jdatetime.date.fromgregorian(date=date).strftime("%Y/%m/%d")
    return text.translate(_FA_DIGITS) if persian_digits else text
