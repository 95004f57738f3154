"""The loader's input limits: every submission is hostile until bounded.

A submission comes from an agency's desk or from the public `/validate` upload; either may be
a zip bomb, a workbook with a column reference far past Excel's last column, a CSV with a 50 MB
cell or a Turtle file nested ten thousand levels deep. Each bound below is checked *while*
streaming, before the data it guards is held in memory, so that no input takes more than the
stated memory budget. The defaults fit the largest real catalog with room to spare; an operator
changes one with the environment variable named beside it (`KHADAMAT_LIMIT_<NAME>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from khadamat.limits import EnvLimits


@dataclass(frozen=True)
class LoaderLimits(EnvLimits):
    """Bounds on one submission. Sizes are bytes, counts are items.

    `LoaderLimits.from_env()`: the defaults, each overridden by `KHADAMAT_LIMIT_<FIELD IN CAPITALS>`
    (khadamat/limits.py, the rule the server's limits follow too).
    """

    ENV_PREFIX: ClassVar[str] = "KHADAMAT_LIMIT_"

    # Workbooks (.xlsx) and CSV sheets — owned by the readers (loader/xlsx.py, loader/readers.py).
    max_file_bytes: int = 256 * 2**20  # one file as stored on disk (compressed, for a workbook)
    # The 50k-service benchmark catalog is ~2.8M cells and ~120 MB of XML (its largest part ~100 MB);
    # the bounds leave it 2-4x room, and keep the reader's worst case (rows of distinct strings up to
    # every bound) under ~0.7 GB: measured 0.36-0.54 GB peak for a million rows of one inline string.
    max_part_bytes: int = 256 * 2**20  # one decompressed part of a workbook (a sheet, shared strings)
    max_unzipped_bytes: int = 512 * 2**20  # all decompressed parts of one workbook together
    max_cells: int = 8_000_000  # cells of one workbook or CSV file, empty ones before the last of a row too
    max_cell_chars: int = 32_767  # Excel's own limit on the text of one cell
    max_shared_strings: int = 5_000_000  # entries of a workbook's shared-strings table
    max_columns: int = 16_384  # Excel's last column, XFD
    max_rows: int = 1_048_576  # Excel's last row
    max_parts: int = 1_000  # entries of a workbook's zip (Excel writes a few dozen)
    max_row_chars: int = 4 * 2**20  # one row of a CSV file: its cells, quotes and separators

    # RDF files — owned by loader/rdf_files.py.
    max_rdf_nesting: int = 64  # depth of nested quoted triples, lists, blank-node lists, JSON objects
    max_literal_chars: int = 1_000_000  # the text of one RDF literal


DEFAULT_LIMITS = LoaderLimits()
