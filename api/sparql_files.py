"""The SPARQL texts of the API, read from api/queries/*.rq (data is data: no SPARQL in Python).

Each file states its parameters in its header comment; parameters are bound as SEP-0007
substitutions by the caller, never spliced into the text.
"""

from __future__ import annotations

from functools import cache

from khadamat.api.app_paths import PACKAGE_DIR

QUERY_DIR = PACKAGE_DIR / "queries"


@cache
def text(name: str) -> str:
    """The text of api/queries/{name}.rq (read once per process)."""
    path = QUERY_DIR / f"{name}.rq"
    if not path.is_file():
        raise FileNotFoundError(f"the API query {name!r} is missing: expected {path}")
    return path.read_text(encoding="utf-8")
