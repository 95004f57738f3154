"""IRI minting: one function per kind of node, so that every module names a node the same way.

IRIs are built from normalized codes so that `ق-م-خ`, `ق‌م‌خ` and Persian digits all land on
one node; they stay readable (Persian letters are legal in IRIs) and stable across reloads.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

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


# Comparing IRIs ------------------------------------------------------------------------
# RDF compares IRIs as strings, so `…/graph/corpus/`, `HTTPS://W3ID.ORG/…` and `…/graph/%63orpus`
# are other graphs to the store, yet they name the same resource to every reader and HTTP client.
# Whether a submission may write a graph is therefore decided on normalized IRIs.

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _normalize_percent(text: str) -> str:
    """Decode percent-escapes of unreserved characters (ASCII and, per RFC 3987, non-ASCII
    letters encoded as UTF-8); keep every other escape, in upper-case hex (RFC 3986 §6.2.2.1-2)."""

    def fix(match: re.Match[str]) -> str:
        raw = bytes.fromhex(match.group(0).replace("%", ""))
        out: list[str] = []
        for ch in raw.decode("utf-8", errors="surrogateescape"):
            code = ord(ch)
            if (code < 128 and code in _UNRESERVED) or (code > 127 and not 0xDC80 <= code <= 0xDCFF):
                out.append(ch)
            else:  # reserved, control or an invalid UTF-8 byte: stays escaped
                byte = code - 0xDC00 if code >= 0xDC80 else code
                out.append(f"%{byte:02X}")
        return "".join(out)

    return _PERCENT_RUN.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 on a path made of `/`-separated segments."""
    output: list[str] = []
    segments = path.split("/")
    for index, seg in enumerate(segments):
        last = index == len(segments) - 1
        if seg == ".":
            if last:
                output.append("")
        elif seg == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(seg)
    result = "/".join(output)
    return result if not path.startswith("/") or result.startswith("/") else "/" + result


def normalize_iri(iri: str) -> str:
    """The RFC 3986 §6.2.2 / §6.2.3 normal form of an IRI: scheme and host in lower case, the
    default port dropped, percent-escapes normalized (unreserved characters decoded), dot segments
    removed, an empty path written `/`. Two spellings of one resource give the same string."""
    try:
        parts = urlsplit(iri)
    except ValueError:  # e.g. an unbalanced IPv6 bracket: compared as written
        return iri
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if netloc:
        userinfo, at, hostport = netloc.rpartition("@")
        host, colon, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
        if not colon:
            host, port = hostport, ""
        if port == _DEFAULT_PORTS.get(scheme) or (colon and not port):
            colon, port = "", ""
        netloc = userinfo + at + _normalize_percent(host).lower() + colon + port
    path = _remove_dot_segments(_normalize_percent(parts.path))
    if netloc and not path:
        path = "/"
    query = "?" + _normalize_percent(parts.query) if "?" in iri.split("#", 1)[0] else ""
    fragment = "#" + _normalize_percent(parts.fragment) if parts.fragment or "#" in iri else ""
    head = f"{scheme}:" + (f"//{netloc}" if netloc or iri[len(scheme) + 1 :].startswith("//") else "")
    return head + path + query + fragment


def iri_key(iri: str) -> str:
    """What two graph names are compared by: the normal form without trailing slashes, so that
    `…/graph/corpus/` and `…/graph/corpus` are one graph."""
    key = normalize_iri(iri)
    if "?" in key or "#" in key:
        return key
    stripped = key.rstrip("/")
    return stripped if stripped.count("/") >= 3 else key
