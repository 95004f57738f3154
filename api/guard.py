"""A lexical guard against federated queries (SERVICE) on the public endpoint.

pyoxigraph evaluates a SERVICE clause itself, by HTTP, from the server: any client could make
the server call any address. The endpoint therefore refuses queries that use the SERVICE
keyword. Strings, IRIs and comments are blanked out first, so `?service`, `kh:service`,
`"SERVICE"` or `<http://x/SERVICE>` do not count; only the keyword does.
"""

from __future__ import annotations

import re

_NOISE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'  # short strings
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"  # IRIs
    r"|#[^\n]*",  # comments
)
_SERVICE = re.compile(r"(?<![\w:?$.-])SERVICE(?![\w:.-])", re.IGNORECASE)


def uses_service(query: str) -> bool:
    """True when the query holds the SERVICE keyword (a federated query)."""
    return bool(_SERVICE.search(_NOISE.sub(" ", query)))
