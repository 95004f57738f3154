"""What the loader reports when a submission cannot load.

A service architect fixes a workbook in one pass only if every problem is listed at once and
each names the exact cell: file, sheet, row as the spreadsheet shows it, column (key and Persian
header), what was expected and what was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InputError:
    """One problem in one cell (or one file, when row and column are None)."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    expected: str
    value: str | None = None
    header: str | None = None  # the Persian header of the column, shown next to its key
    part: str | None = None  # the part of a workbook's zip (xl/sharedStrings.xml …) when it matters

    def __str__(self) -> str:
        where = [self.file]
        if self.part:
            where.append(f"part {self.part}")
        if self.sheet:
            where.append(f"sheet {self.sheet}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}" + (f" ({self.header})" if self.header else ""))
        found = "" if self.value is None else f", got '{self.value}'"
        return f"{', '.join(where)}: expected {self.expected}{found}"

    @classmethod
    def of_file(cls, file: str, expected: str) -> InputError:
        """A problem with a whole file (or folder, or graph), not with one of its cells."""
        return cls(file, None, None, None, expected)


@dataclass(frozen=True)
class Notice:
    """Something of a submission the loader left out on purpose (a sheet not in the format).

    Said, not refused: agencies' templates carry instruction and lookup sheets, and a data officer
    should see what was not read rather than wonder where it went."""

    file: str
    sheet: str | None
    what: str

    def __str__(self) -> str:
        return ", ".join([self.file, *([f"sheet {self.sheet}"] if self.sheet else [])]) + f": {self.what}"


@dataclass
class SubmissionError(Exception):
    """A submission that cannot load, with all of its errors (not only the first one)."""

    errors: list[InputError] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # what was skipped, shown with the errors

    def __str__(self) -> str:
        count = len(self.errors)
        plural = "s" if count != 1 else ""
        head = f"the submission has {count} error{plural} (خطا در {count} مورد); nothing was loaded"
        return "\n".join([head, *(str(e) for e in self.errors)])

    def by_file(self) -> dict[str, list[InputError]]:
        """The errors grouped by file (files by name), each file's errors by sheet and row."""
        groups: dict[str, list[InputError]] = {}
        for error in self.errors:
            groups.setdefault(error.file, []).append(error)
        return {
            file: sorted(groups[file], key=lambda e: (e.sheet or "", e.row or 0)) for file in sorted(groups)
        }
