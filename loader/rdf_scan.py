"""A linear pre-scan of an RDF file, run before pyoxigraph sees it: nesting depth and literal size.

pyoxigraph's parsers and term destructors recurse: a Turtle line of fifty thousand nested triple
terms `<<( … )>>` (about 2 MB) kills the loading process with SIGSEGV, and a literal past its
16 MiB token buffer ends in a MemoryError. So every RDF file is first read once, byte by byte in
effect, by a small state machine that knows just enough of the syntax to tell structure from
text: IRIs `<…>`, strings (short and long, with escapes), comments and escaped local-name
characters are skipped; `<<`, `(`, `[`, `{` open a level and `>>`, `)`, `]`, `}` close one.
All of that syntax is ASCII, and UTF-8 never puts an ASCII byte inside a multi-byte letter, so
the scan works on bytes (memory-mapped, never decoded as a whole). Each step jumps with one
`find`/`search` of a single character class, so the scan is linear: no regex here can backtrack.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_TURTLE_SPECIALS = re.compile(rb"[\\#\"'<>()\[\]{}]")  # Turtle, TriG, N-Triples, N-Quads
_JSON_SPECIALS = re.compile(rb"[\\\"\[\]{}]")
_SHORT_END = {ord('"'): re.compile(rb'[\\"\n\r]'), ord("'"): re.compile(rb"[\\'\n\r]")}
_LONG_END = {ord('"'): re.compile(rb'\\|"""'), ord("'"): re.compile(rb"\\|'''")}
_OPEN, _CLOSE = frozenset(b"([{"), frozenset(b")]}")
_LT, _GT, _HASH, _BACKSLASH = ord("<"), ord(">"), ord("#"), ord("\\")
_NEWLINE_CHUNK = 1 << 20


@dataclass(frozen=True)
class ScanProblem:
    """What the scan refused, and where (1-based line and column, in characters)."""

    line: int
    column: int
    expected: str


@contextmanager
def _mapped(path: Path) -> Iterator[bytes | mmap.mmap]:
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            yield b""
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


def place(data: bytes | mmap.mmap, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line = 1 + sum(
        data[start : min(start + _NEWLINE_CHUNK, offset)].count(b"\n")
        for start in range(0, offset, _NEWLINE_CHUNK)
    )
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(bytes(data[line_start:offset]).decode("utf-8", errors="replace")) + 1
    return line, column


def _literal_chars(data: bytes | mmap.mmap, start: int, end: int, limit: int) -> bool:
    """True when the text between start and end holds more than `limit` characters."""
    size = end - start
    if size <= limit:
        return False
    if size > 4 * limit:  # a UTF-8 character takes at most 4 bytes
        return True
    return len(bytes(data[start:end]).decode("utf-8", errors="replace")) > limit


class _Scanner:
    def __init__(self, data: bytes | mmap.mmap, json: bool, max_nesting: int, max_literal: int) -> None:
        self.data = data
        self.json = json
        self.max_nesting = max_nesting
        self.max_literal = max_literal

    def _string_end(self, start: int) -> tuple[int, int, int]:
        """(content start, content end, position after the string) of the string opening at start."""
        data, quote = self.data, self.data[start]
        triple = bytes([quote]) * 3
        long = not self.json and data[start : start + 3] == triple
        pattern = _LONG_END[quote] if long else _SHORT_END[quote]
        content = start + (3 if long else 1)
        pos = content
        while True:
            match = pattern.search(data, pos)
            if match is None:
                return content, len(data), len(data)
            if data[match.start()] == _BACKSLASH:
                pos = match.start() + 2
                continue
            end = match.start()
            if long:  # `"""a""""` closes on its last three quotes: up to two before them are text
                while end - match.start() < 2 and data[end + 3 : end + 4] == triple[:1]:
                    end += 1
                return content, end, end + 3
            return content, end, end + 1

    def scan(self) -> ScanProblem | None:
        data, depth = self.data, 0
        specials = _JSON_SPECIALS if self.json else _TURTLE_SPECIALS
        pos = 0
        while (match := specials.search(data, pos)) is not None:
            i = match.start()
            byte = data[i]
            pos = i + 1
            if byte == _BACKSLASH:  # an escaped character of a local name (Turtle) or stray (JSON)
                pos = i + 2
            elif byte == _HASH:  # a comment, to the end of the line
                newline = data.find(b"\n", i)
                pos = len(data) if newline < 0 else newline + 1
            elif byte in _SHORT_END:
                start, end, pos = self._string_end(i)
                if _literal_chars(data, start, end, self.max_literal):
                    return self._problem(
                        i, f"literals of at most {self.max_literal} characters; this one is longer"
                    )
            elif byte == _LT:
                if data[i + 1 : i + 2] == b"<":  # `<<` or `<<(`: a quoted triple or triple term
                    depth += 1
                    pos = i + (3 if data[i + 2 : i + 3] == b"(" else 2)
                else:  # an IRI: nothing inside it is structure
                    close = data.find(b">", i + 1)
                    pos = len(data) if close < 0 else close + 1
            elif byte == _GT:
                if data[i + 1 : i + 2] == b">":
                    depth = max(0, depth - 1)
                    pos = i + 2
            elif byte in _OPEN:
                depth += 1
            elif byte in _CLOSE:
                depth = max(0, depth - 1)
                if data[i + 1 : i + 3] == b">>":  # `)>>` closes one triple term, not two levels
                    pos = i + 3
            if depth > self.max_nesting:
                what = "JSON objects and arrays" if self.json else "RDF terms"
                kinds = (
                    ""
                    if self.json
                    else " (quoted triples, triple terms, collections, blank-node property lists, "
                    "graph blocks)"
                )
                return self._problem(
                    i,
                    f"{what} nested at most {self.max_nesting} levels deep{kinds}; this opens level {depth}",
                )
        return None

    def _problem(self, offset: int, expected: str) -> ScanProblem:
        line, column = place(self.data, offset)
        return ScanProblem(line, column, expected)


def scan_rdf(path: Path, json: bool, max_nesting: int, max_literal: int) -> ScanProblem | None:
    """The first place where the file nests deeper than `max_nesting` or holds a literal (a JSON
    string, for JSON-LD) longer than `max_literal` characters; None when it keeps within both."""
    with _mapped(path) as data:
        return _Scanner(data, json, max_nesting, max_literal).scan()
