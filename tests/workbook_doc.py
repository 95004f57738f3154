"""The column tables of docs/workbook.md, read once for every test that checks against them.

docs/workbook.md is the input format as users read it; tests/test_workbook_doc.py proves it says
what loader/columns.py accepts, and the example, generator and ontology tests check their own files
against it. A sheet's section starts with `## key — Persian name`; its one table lists the
columns as `| key | header | meaning | value | required |`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

WORKBOOK_DOC = Path(__file__).resolve().parents[1] / "docs" / "workbook.md"
_SHEET = re.compile(r"^## (\w+) — (.+)$")


@dataclass(frozen=True)
class DocColumn:
    key: str
    header: str
    meaning: str
    value: str
    required: str


@dataclass(frozen=True)
class DocSheet:
    key: str
    name: str  # the Persian name in the section heading
    columns: tuple[DocColumn, ...]


def doc_sheets(path: Path = WORKBOOK_DOC) -> dict[str, DocSheet]:
    """{sheet key: its section} in the order of the document."""
    sheets: dict[str, DocSheet] = {}
    sheet: tuple[str, str] | None = None
    rows: list[DocColumn] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "## end"]:
        if line.startswith("## "):
            if sheet:
                sheets[sheet[0]] = DocSheet(*sheet, tuple(rows))
            match = _SHEET.match(line)
            sheet, rows = (match.group(1), match.group(2).strip()) if match else None, []
        elif sheet and line.startswith("| ") and not line.startswith("| key |"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append(DocColumn(*cells))
    return sheets


def enumerated_values(meaning: str) -> list[str]:
    """The values a choice column lists after its last ': ' ('… how it starts: a · b · c')."""
    text = meaning.rsplit(": ", 1)[-1]
    return [v.strip() for v in text.split(" · ") if v.strip()]
