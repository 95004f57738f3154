"""Title tokens for duplicate detection (issue 4 owns the refinement of this module).

The loader stores, for every service title, its normalized tokens (`kh:titleToken`) so that plain
SPARQL can score the overlap of two titles on any engine.
"""

from __future__ import annotations

from khadamat.normalize import normalize_text

_STOPWORDS = frozenset({"و", "در", "به", "از", "با", "برای", "یا", "که", "را", "این", "آن"})


def title_tokens(title: str) -> list[str]:
    """Distinct normalized content words of a title, in order of appearance."""
    seen: dict[str, None] = {}
    for word in normalize_text(title).split(" "):
        if word and word not in _STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)
