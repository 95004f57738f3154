"""IRI minting: one function per kind of node, so that every module names a node the same way.

IRIs are built from normalized codes so that `ق-م-خ`, `ق‌م‌خ` and Persian digits all land on
one node; they stay readable (Persian letters are legal in IRIs) and stable across reloads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from pyoxigraph import NamedNode

from khadamat.normalize import normalize_text

# Characters an IRI path segment may not hold as they are (RFC 3987 iunreserved is kept).
_SAFE = "-._~!$&'()*+,;=:@"


@lru_cache(maxsize=1 << 16)  # pure; the same codes are minted for every row
def segment(value: str) -> str:
    """A normalized code as one IRI path segment: spaces become '-', reserved characters are escaped."""
    text = normalize_text(value).replace(" ", "-")
    # quote() would escape non-ASCII letters too; IRIs allow them, so escape only ASCII specials.
    return "".join(ch if ord(ch) > 127 else quote(ch, safe=_SAFE) for ch in text)


@dataclass(frozen=True)
class Minter:
    """Mints every data IRI under one base (see docs/architecture.md, 'Data IRIs')."""

    base: str

    def _iri(self, *parts: str) -> NamedNode:
        return NamedNode(self.base + "/".join(parts))

    def agency(self, code: str) -> NamedNode:
        return self._iri("agency", segment(code))

    def mission(self, code: str) -> NamedNode:
        return self._iri("mission", segment(code))

    def service(self, owner_code: str, service_id: str) -> NamedNode:
        return self._iri("agency", segment(owner_code), "service", segment(service_id))

    def unidentified_item(self, agency_code: str, normalized_title: str, ordinal: int = 1) -> NamedNode:
        digest = hashlib.sha1(normalized_title.encode("utf-8")).hexdigest()[:12]
        suffix = "" if ordinal == 1 else f"-{ordinal}"
        return self._iri("agency", segment(agency_code), "item", digest + suffix)

    def inquiry(self, service: NamedNode, ordinal: int) -> NamedNode:
        return NamedNode(f"{service.value}/inquiry/{ordinal}")

    def evidence(self, item: NamedNode, ordinal: int) -> NamedNode:
        return NamedNode(f"{item.value}/evidence/{ordinal}")

    def license(self, code: str) -> NamedNode:
        return self._iri("license", segment(code))

    def counter_office(self, office_code: str) -> NamedNode:
        return self._iri("counter-office", segment(office_code))

    def delegation(self, service: NamedNode, office_code: str) -> NamedNode:
        return NamedNode(f"{service.value}/delegation/{segment(office_code)}")

    def law(self, code: str) -> NamedNode:
        return self._iri("law", segment(code))

    def article(self, code: str, article: str) -> NamedNode:
        return self._iri("law", segment(code), "article", segment(article))

    def article_part(self, code: str, article: str, part: str) -> NamedNode:
        return self._iri("law", segment(code), "article", segment(article), "part", segment(part))

    def legal_ref(self, reference: str) -> NamedNode:
        """`CODE`, `CODE:ARTICLE` or `CODE:ARTICLE:PART` as written in a cell → its node."""
        pieces = [p.strip() for p in normalize_text(reference).split(":")]
        if not pieces[0] or len(pieces) > 3 or any(not p for p in pieces):
            raise ValueError(
                f"'{reference}' is not a legal reference: expected CODE, CODE:ARTICLE or CODE:ARTICLE:PART"
            )
        if len(pieces) == 1:
            return self.law(pieces[0])
        if len(pieces) == 2:
            return self.article(pieces[0], pieces[1])
        return self.article_part(*pieces)

    def load_activity(self, load_id: str) -> NamedNode:
        return self._iri("load", load_id)

    # Named graphs
    def graph(self, *parts: str) -> NamedNode:
        return self._iri("graph", *(segment(p) for p in parts))

    @property
    def ontology_graph(self) -> NamedNode:
        return self.graph("ontology")

    @property
    def corpus_graph(self) -> NamedNode:
        return self.graph("corpus")

    @property
    def provenance_graph(self) -> NamedNode:
        return self.graph("provenance")

    def agency_graph(self, code: str) -> NamedNode:
        return self.graph("agency", code)

    def law_graph(self, code: str) -> NamedNode:
        return self.graph("law", code)
