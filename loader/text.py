"""Which text encoding a CSV file is in, decided strictly, and which characters no cell may hold.

Agencies export CSV from Excel on Windows: "CSV UTF-8" (UTF-8 with a BOM), "Unicode Text"
(UTF-16 with a BOM), or "CSV" in the Arabic code page, Windows-1256, which has no BOM and no
bytes it leaves undefined — so *any* file decodes as Windows-1256, and a UTF-8 file with one
stray byte, a KOI8-R or a Shift-JIS file would load as garbage. The rule here:

1. A BOM decides: UTF-8 or UTF-16, and the whole file must then decode in it.
2. Without a BOM, a file that decodes as UTF-8 is UTF-8. UTF-16 without a BOM is refused.
3. A file that does not decode as UTF-8 is Windows-1256 only if it reads like what Excel writes
   in that code page for a Persian or Arabic catalog: its non-ASCII bytes must mostly be *not*
   UTF-8 sequences (in a UTF-8 file with a stray byte they nearly all are), and its text, read
   as Windows-1256, holds only ASCII, Arabic-script letters and marks, and the punctuation
   Persian text uses (« » ، ؛ ؟ – — … quotes, ZWNJ, NBSP, ×, ÷, °); an Arabic vowel mark
   follows a letter; ة and ى end a word; and ء ة إ ؤ — rare in Persian and Arabic, but what
   KOI8-R makes of the commonest Russian letters а и е д — are at most a fifth of the letters.
   Latin-1 letters, currency signs and the like (what Shift-JIS and Latin-1 files turn into)
   refuse the file.
4. Anything else is refused, naming the byte offset of the first byte that is not UTF-8.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

ENCODINGS_EXPECTED = "a text file in UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1256 (Arabic)"
# C0 controls other than tab, LF and CR, DEL and the C1 controls: never in a real cell; they mean
# binary data or bytes decoded with the wrong encoding.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BLOCK = 1 << 20

_LETTER = "\u0621-\u063a\u0641-\u064a\u066e-\u06d3\u06d5\u06fa-\u06fc"  # incl. پ چ ژ گ ک
_MARK = "\u064b-\u065f\u0670"
_PUNCTUATION = (
    "\u00a0\u00ab\u00bb\u00b0\u00d7\u00f7\u060c\u061b\u061f\u0640\u200c-\u200f"
    "\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026"
)
_FOREIGN = re.compile(f"[^\x00-\x7f{_LETTER}{_MARK}{_PUNCTUATION}]")
_STRAY_MARK = re.compile(f"(?<![{_LETTER}{_MARK}])[{_MARK}]")
_NOT_FINAL = re.compile(f"[\u0629\u0649][{_LETTER}]")
_LETTERS = re.compile(f"[{_LETTER}]")
_RARE = re.compile("[\u0621\u0629\u0625\u0624]")
_INVALID = re.compile("[\udc80-\udcff]")
_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")


class TextError(Exception):
    """A file refused for its encoding; `offset` is the first bad byte, `locate_with` the codec
    (with errors="surrogateescape") under which that byte shows as a surrogate in its cell."""

    def __init__(self, expected: str, offset: int | None = None, locate_with: str | None = None) -> None:
        super().__init__(expected)
        self.expected, self.offset, self.locate_with = expected, offset, locate_with


def control_character(text: str) -> str | None:
    """The first control character of the text that no cell may hold (tab, LF, CR may), or None."""
    found = _CONTROL.search(text)
    return found.group() if found else None


def undecodable_byte(text: str) -> int | None:
    """The byte a surrogateescape decoding left in the text as a lone surrogate, or None."""
    found = _INVALID.search(text)
    return None if found is None else ord(found.group()) - 0xDC00


def _blocks(path: Path, skip: int = 0):
    with path.open("rb") as handle:
        handle.seek(skip)
        while block := handle.read(_BLOCK):
            yield block


def _first_error(path: Path, codec: str, skip: int = 0) -> int | None:
    """The offset of the first byte that does not decode, or None when the whole file does."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    fed = skip  # bytes given to the decoder before the current block
    for block in _blocks(path, skip):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:  # exc.object: the bytes held back, then this block
            return fed - (len(exc.object) - len(block)) + exc.start
        fed += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return fed - len(exc.object) + exc.start
    return None


def _utf8_census(path: Path) -> tuple[int, int]:
    """(non-ASCII characters that decode as UTF-8, bytes that do not) over the whole file."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    valid = invalid = 0
    for block in _blocks(path):
        text = decoder.decode(block)
        invalid += _INVALID.subn("", text)[1]
        valid += _MULTIBYTE.subn("", text)[1]
    return valid, invalid


def _implausible_arabic(path: Path) -> str | None:
    """Why the file, read as Windows-1256, is not Persian/Arabic text; None when it may be."""
    carry, letters, rare, offset = "", 0, 0, 0
    for block in _blocks(path):
        text = block.decode("cp1256")
        window = carry + text
        for pattern, why in (
            (_FOREIGN, "a character Persian text does not use"),
            (_STRAY_MARK, "an Arabic vowel mark after no letter"),
            (_NOT_FINAL, "ة or ى inside a word"),
        ):
            if found := pattern.search(window):
                where = offset - len(carry) + found.start()
                return f"{why} ({found.group()!r} at byte {where})"
        letters += len(_LETTERS.findall(text))
        rare += len(_RARE.findall(text))
        carry, offset = text[-1:], offset + len(block)
    if letters >= 20 and rare * 5 > letters:
        return "letter frequencies of another language (ء ة إ ؤ are a fifth of its letters)"
    return None


def _looks_utf16(head: bytes) -> bool:
    """Whether every other byte is the high byte of ASCII, Arabic or punctuation in UTF-16."""
    for parity in (0, 1):
        highs = head[parity::2]
        if (
            len(highs) >= 8
            and sum(highs.count(b) for b in (0x00, 0x06, 0x20, 0xFB, 0xFE)) * 10 >= len(highs) * 9
        ):
            return True
    return False


def sniff_encoding(path: Path) -> str:
    """The codec to read the file with ("utf-8-sig", "utf-16", "utf-8" or "cp1256").

    Raises TextError when the file is in none of the accepted encodings."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        bad = _first_error(path, "utf-8", skip=3)
        if bad is not None:
            raise TextError(
                f"UTF-8 text (the file starts with a UTF-8 BOM); byte {bad} is not UTF-8", bad, "utf-8-sig"
            )
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        bad = _first_error(path, "utf-16")
        if bad is not None:
            raise TextError(f"UTF-16 text (the file starts with a UTF-16 BOM); byte {bad} is not UTF-16", bad)
        return "utf-16"
    if _looks_utf16(head):
        raise TextError(
            "UTF-16 with a byte-order mark (BOM); this looks like UTF-16 without one "
            "(save it from Excel as “CSV UTF-8” instead)"
        )
    bad = _first_error(path, "utf-8")
    if bad is None:
        return "utf-8"
    valid, invalid = _utf8_census(path)
    if valid >= invalid:
        raise TextError(
            f"UTF-8 text; byte {bad} is not UTF-8 ({invalid} such byte{'s' if invalid != 1 else ''} in "
            "the file)",
            bad,
            "utf-8",
        )
    why = _implausible_arabic(path)
    if why is not None:
        raise TextError(
            f"{ENCODINGS_EXPECTED}; the file is not UTF-8 (byte {bad} is the first that is not) and, read as "
            f"Windows-1256, it is not Persian or Arabic text: {why}",
            bad,
            "utf-8",
        )
    return "cp1256"
