"""A linear-time SPARQL 1.1 tokenizer that measures a query before any engine sees it.

Why: the guard that decides whether a client's query may run (api/guard.py) must read the query
as the parser will — a `#` inside the escaped local name `ex:a\\#` is no comment, a `SERVICE`
inside a string is no keyword — and must never take more than linear time on hostile text (the
regexes it replaces backtracked: 80 KB of `'\\` pairs froze the event loop for 23 s).

How: one master pattern of the grammar's terminals (SPARQL 1.1 §19.8: IRIREF, PNAME_NS/PNAME_LN
with PLX escapes, BLANK_NODE_LABEL, VAR1/VAR2, LANGTAG, numbers, the four STRING_LITERAL forms
with ECHAR, comments, punctuation) is matched at the current position only. Every repetition is
possessive (`*+`), so a match never backtracks, and a string that does not close is a lexical
error that ends the scan (it is no valid SPARQL either), so no text is scanned more than twice.

Where the tokenizer and pyoxigraph's parser could disagree, it errs on the side of seeing a
keyword: every name token (a bare word or the prefix of a prefixed name) that *contains*
"service" in any letter case counts as the SERVICE keyword, because the parser matches keywords
without a word boundary (`SERVICEex:x` and `SERVICESILENT<…>` both call out). This is the clean
refusal; the hard guarantee is that query workers cannot open sockets (khadamat/sandbox.py).

The SPARQL text may also use `\\uXXXX` / `\\UXXXXXXXX` escapes anywhere (§19.2, processed before
parsing). pyoxigraph 0.5 does not process them outside strings and IRIs, but a query is measured
both as written and with the escapes replaced, and SERVICE found in either counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_NAME_CHARS = r"\w\-\u00B7\u0300-\u036F\u203F\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]++)"
    r"|(?P<comment>\#[^\r\n]*+)"
    rf"|(?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>)"
    r'|(?P<long>"""(?:[^"\\]|\\.|"(?!""))*+"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*+''')"
    r"|(?P<unclosed_long>\"\"\"|''')"
    r'|(?P<short>"(?:[^"\\\r\n]|\\.)*+"'
    r"|'(?:[^'\\\r\n]|\\.)*+')"
    r"|(?P<unclosed>\"|')"
    rf"|(?P<var>[?$][{_NAME_CHARS}]++)"
    r"|(?P<number>[0-9]++(?:\.[0-9]*+)?+(?:[eE][+-]?+[0-9]++)?+|\.[0-9]++(?:[eE][+-]?+[0-9]++)?+)"
    rf"|(?P<bnode>_:\w[{_NAME_CHARS}.]*+)"
    rf"|(?P<pname>(?:[^\W\d][{_NAME_CHARS}]*+)?+:(?:(?:[\w:]|{_PLX})(?:[{_NAME_CHARS}.:]|{_PLX})*+)?+)"
    rf"|(?P<word>[^\W\d][{_NAME_CHARS}]*+)"
    r"|(?P<lang>@[A-Za-z]++(?:-[A-Za-z0-9]++)*+)"
    r"|(?P<open>[({\[]|<<\(?+)"
    r"|(?P<close>[)}\]]|\)?+>>)"
    r"|(?P<sep>[.;,])"
    r"|(?P<other>.)",
    re.DOTALL,
)
_ESCAPE = re.compile(_UCHAR)
_SERVICE = re.compile("service", re.IGNORECASE)
# After a lexical error in the escaped reading, any later word "service" counts (conservative).
_SERVICE_WORD = re.compile(r"(?<![\w:])service", re.IGNORECASE)


class LexicalError(ValueError):
    """The query text cannot be split into SPARQL tokens (a string or IRI that does not close)."""


@dataclass(frozen=True)
class QueryShape:
    """What the guard needs to know about a query, measured in one linear pass."""

    size_bytes: int  # UTF-8 length of the text
    tokens: int  # tokens other than white space and comments
    max_depth: int  # deepest nesting of ( { [ and << >>
    separators: int  # triple-pattern separators: . ; ,
    uses_service: bool  # a SERVICE keyword, read as the parser would (see the module doc)
    complete: bool  # False when the scan stopped at the token budget (the counts are lower bounds)


@dataclass
class _Scan:
    tokens: int = 0
    depth: int = 0
    max_depth: int = 0
    separators: int = 0
    service: bool = False
    error: str | None = None
    complete: bool = True


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _strip_dots(text: str, start: int, end: int) -> int:
    """A prefixed name or blank node label cannot end with '.' (unless escaped): give dots back."""
    while end > start + 1 and text[end - 1] == "." and text[end - 2] != "\\":
        end -= 1
    return end


def _scan(text: str, token_budget: int | None) -> _Scan:
    scan = _Scan()
    pos, length = 0, len(text)
    match = _TOKEN.match
    budget = length if token_budget is None else token_budget
    while pos < length and scan.tokens <= budget:
        found = match(text, pos)
        assert found is not None  # `other` matches any character
        kind, end = found.lastgroup, found.end()
        if kind == "ws" or kind == "comment":
            pos = end
            continue
        if kind == "unclosed" or kind == "unclosed_long":
            scan.error = f"a string opened at {_position(text, pos)} is not closed"
            return scan
        if kind == "pname" or kind == "bnode":
            end = _strip_dots(text, pos, end)
        if kind == "word" or kind == "pname":
            name = text[pos:end]
            if _SERVICE.search(name.partition(":")[0]):
                scan.service = True
        elif kind == "open":
            scan.depth += 1
            scan.max_depth = max(scan.max_depth, scan.depth)
        elif kind == "close":
            scan.depth = max(0, scan.depth - 1)
        elif kind == "sep":
            scan.separators += 1
        scan.tokens += 1
        pos = end
    scan.complete = pos >= length
    return scan


def tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """The tokens of `text` other than white space and comments, as (kind, start, end), in order.

    `kind` is a group name of the master pattern ("var", "word", "iri", "open", …). A remote store
    uses it to bind parameters (khadamat/remote_store.py). Raises LexicalError on a string that
    does not close."""
    pos, length = 0, len(text)
    match = _TOKEN.match
    while pos < length:
        found = match(text, pos)
        assert found is not None  # `other` matches any character
        kind, end = found.lastgroup or "other", found.end()
        if kind == "unclosed" or kind == "unclosed_long":
            raise LexicalError(f"a string opened at {_position(text, pos)} is not closed")
        if kind == "pname" or kind == "bnode":
            end = _strip_dots(text, pos, end)
        if kind != "ws" and kind != "comment":
            yield kind, pos, end
        pos = end


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _codepoint(m.group(0)), text)


def _codepoint(escape: str) -> str:
    value = int(escape[2:], 16)
    return chr(value) if value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else "\ufffd"


def measure(text: str, token_budget: int | None = None) -> QueryShape:
    """Measure a query in time linear in its length; raise LexicalError if it does not tokenize.

    With `token_budget`, the scan stops after `token_budget + 1` tokens (the query is over budget
    and will be refused whatever follows), which bounds the time of the check by the budget.
    """
    scan = _scan(text, token_budget)
    if scan.error:
        raise LexicalError(scan.error)
    service = scan.service
    if not service and ("\\u" in text or "\\U" in text):
        escaped_text = _unescape(text)
        escaped = _scan(escaped_text, token_budget)
        service = escaped.service
        if escaped.error and not service:
            service = _SERVICE_WORD.search(escaped_text) is not None
    return QueryShape(
        size_bytes=len(text.encode("utf-8")),
        tokens=scan.tokens,
        max_depth=scan.max_depth,
        separators=scan.separators,
        uses_service=service,
        complete=scan.complete,
    )
