"""Uploads for `POST /validate` built in memory by the tests, other than workbooks (those are in
workbook_builders.py): the basic fixture's sheets as multipart files, a large valid services
sheet, and Turtle nested deep enough to overflow a parser's stack. Holds no tests itself.
"""

from __future__ import annotations

from tests.security.store_support import BASIC


def nested_quoted_triples(depth: int = 100_000) -> bytes:
    """Turtle about one agency whose object is a triple term nested `depth` levels deep (`<<( … )>>`).

    pyoxigraph's Turtle parser recurses once per level: 100,000 levels overflow the stack (SIGSEGV).
    """
    agency = (
        "<http://e/a> a <https://w3id.org/khadamat/ontology#ExecutiveAgency> ;\n"
        '    <https://w3id.org/khadamat/ontology#agencyCode> "NESTED" .\n'
    )
    nested = "<<( <http://e/a> <http://e/p> " * depth + "<http://e/o>" + " )>>" * depth
    return (agency + "<http://e/a> <http://e/p> " + nested + " .\n").encode()


def services_csv(count: int) -> bytes:
    """A services sheet of `count` services of the basic fixture's agencies (a large, valid upload)."""
    header = (BASIC / "services.csv").read_text(encoding="utf-8").splitlines()[0]
    width = header.count(",")
    lines = [header]
    for n in range(count):
        cells = ["ISIPO", f"خدمت آزمایشی شمارهٔ {n}", str(13091800000 + n), "", "خدمت"] + [""] * (width - 4)
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def basic_files(*names: str, **replace: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The basic fixture's sheets (all, or those `names`) as multipart `files`, some replaced by name."""
    out = []
    for path in sorted(BASIC.glob("*.csv")):
        if names and path.stem not in names:
            continue
        out.append(("files", (path.name, replace.get(path.stem, path.read_bytes()), "text/csv")))
    return out
