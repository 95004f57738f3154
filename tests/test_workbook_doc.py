"""docs/workbook.md says exactly what the loader accepts, so the user's documentation cannot drift.

Each sheet section of the document is compared with loader/columns.py: the same sheets with the
same Persian names, the same columns in the same order with the same headers, the same required
flags, value kinds and multi-value columns; every value a choice column lists is accepted by the
loader and together they name every concept of the column's scheme.
"""

from __future__ import annotations

import pytest
from khadamat.loader import columns as cols
from khadamat.loader.cells import CellError, enumerations, parse_item_kind
from workbook_doc import WORKBOOK_DOC, doc_sheets, enumerated_values

# How the document names each kind of cell of loader/columns.py (its "value" column).
VALUE_OF_KIND = {
    "text": "text",
    "code": "code",
    "agency": "agency code",
    "mission": "mission code",
    "digits": "service ID",
    "int": "whole number",
    "decimal": "number",
    "money": "rials",
    "bool": "yes/no",
    "date": "date",
    "enum": "choice",
    "item_kind": "choice",
    "legal": "legal reference",
    "iri": "web address",
}
SHEETS = {spec.key: spec for spec in cols.SHEETS}


def _value(column: cols.Column) -> str:
    return VALUE_OF_KIND[column.kind] + (", several" if column.multi else "")


def test_the_document_has_every_sheet_of_the_loader_with_its_persian_name() -> None:
    assert WORKBOOK_DOC.is_file()
    assert [(s.key, s.name) for s in doc_sheets().values()] == [(s.key, s.name) for s in cols.SHEETS]


@pytest.mark.parametrize("sheet", list(SHEETS))
def test_every_column_is_documented_as_the_loader_reads_it(sheet: str) -> None:
    documented = [(c.key, c.header, c.value, c.required) for c in doc_sheets()[sheet].columns]
    loader = [(c.key, c.header, _value(c), "yes" if c.required else "") for c in SHEETS[sheet].columns]
    assert documented == loader


def test_every_column_says_what_it_means() -> None:
    assert [(s, c.key) for s, d in doc_sheets().items() for c in d.columns if not c.meaning] == []


def _choice_columns() -> list[tuple[str, str]]:
    return [(s.key, c.key) for s in cols.SHEETS for c in s.columns if c.kind in ("enum", "item_kind")]


@pytest.mark.parametrize(("sheet", "key"), _choice_columns(), ids=lambda v: v)
def test_the_listed_choices_are_exactly_the_accepted_ones(sheet: str, key: str) -> None:
    column = SHEETS[sheet].column(key)
    meaning = next(c.meaning for c in doc_sheets()[sheet].columns if c.key == key)
    listed = enumerated_values(meaning)
    assert len(listed) >= 2, meaning
    if column.kind == "item_kind":
        assert sorted(parse_item_kind(v) for v in listed) == ["Service", "Task"]
        return
    enums = enumerations()
    concepts = []
    for value in listed:
        try:
            concepts.append(enums.lookup(column.scheme or "", value))
        except CellError:
            pytest.fail(f"{sheet}.{key}: the loader refuses the documented value {value!r}")
    assert len(set(concepts)) == len(listed), f"{sheet}.{key}: two listed values are one concept"
    assert set(concepts) == set(enums.by_scheme[column.scheme or ""].values()), f"{sheet}.{key}"
