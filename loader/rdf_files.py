"""RDF files as submissions: Turtle, N-Triples, N-Quads, TriG and JSON-LD.

A quad keeps its graph. A triple has none, so a triple file goes to the graph of the single
agency it describes; a file that describes no agency or several cannot be placed and is refused
(write it as N-Quads or TriG to say where each triple goes).

Every file is hostile until bounded: it is pre-scanned for nesting depth and literal size before
pyoxigraph parses it (loader/rdf_scan.py), any parser failure is an input error naming the file,
line and column, and each graph it names must be one the file may write, about nodes its owner
may describe (resolve.Ownership: the same rule as for workbooks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from khadamat.loader import vocab as V
from khadamat.loader.errors import InputError
from khadamat.loader.limits import LoaderLimits
from khadamat.loader.rdf_scan import scan_rdf
from khadamat.loader.resolve import Owner, Ownership
from khadamat.loader.sheets import ErrorSink
from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, Triple

FORMATS: dict[str, RdfFormat] = {
    ".ttl": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".trig": RdfFormat.TRIG,
    ".jsonld": RdfFormat.JSON_LD,
}
SUFFIXES = tuple(FORMATS)
AGENCY_CLASSES = frozenset(
    V.K.__getattr__(n).value for n in ("ExecutiveAgency", "AgencyUnit", "ProvincialUnit", "CountyUnit")
)


LAW_CLASS = V.K.LegalInstrument.value
# pyoxigraph puts the place in front of its message; the InputError names it in its own words.
_PARSER_PLACE = re.compile(r"^Parser error at line \d+ (?:between columns \d+ and \d+|column \d+): ")


def rdf_format(path: Path) -> RdfFormat | None:
    return FORMATS.get(path.suffix.lower())


@dataclass
class Declared:
    """The agencies and laws some triples declare: nodes typed as such, with their code, under
    the IRI the Minter mints from that code (anything else declares nothing)."""

    agencies: list[str] = field(default_factory=list)
    laws: list[str] = field(default_factory=list)


def declared(triples: list[Triple], ownership: Ownership) -> Declared:
    minter = ownership.minter
    types: dict[object, set[str]] = {}
    for t in triples:
        if t.predicate == V.TYPE:
            types.setdefault(t.subject, set()).add(t.object.value)
    found = Declared()
    for t in triples:
        kinds = types.get(t.subject, set())
        code = t.object.value
        if t.predicate == V.K.agencyCode and kinds & AGENCY_CLASSES and t.subject == minter.agency(code):
            found.agencies += [] if code in found.agencies else [code]
        elif t.predicate == V.K.legalCode and LAW_CLASS in kinds and t.subject == minter.law(code):
            found.laws += [] if code in found.laws else [code]
    return found


def _loose_graph(path: Path, found: Declared, ownership: Ownership, sink: ErrorSink) -> NamedNode | None:
    """The graph of the one agency a triple file describes."""
    if len(found.agencies) != 1:
        names = ", ".join(ownership.minter.agency(code).value for code in found.agencies) or "none"
        sink.add(
            InputError.of_file(
                path.name,
                "triples about exactly one agency (a kh:ExecutiveAgency with its kh:agencyCode), so "
                f"that they go to its graph; found {len(found.agencies)} ({names}). Use N-Quads or "
                "TriG to name the graph of each triple",
            )
        )
        return None
    return ownership.minter.agency_graph(found.agencies[0])


def _parse_error(path: Path, fmt: RdfFormat, exc: Exception) -> InputError:
    """A parser failure in the loader's words: the file, the line and column when known."""
    what = f"a valid {fmt.name.replace('_', '-')} file"
    if isinstance(exc, SyntaxError) and exc.lineno:
        message = _PARSER_PLACE.sub("", exc.msg or "")
        return InputError.of_file(path.name, f"{what}; line {exc.lineno}, column {exc.offset}: {message}")
    if isinstance(exc, OSError):
        return InputError.of_file(path.name, "a readable file; it could not be read")
    if isinstance(exc, MemoryError):
        return InputError.of_file(path.name, f"{what}; a token is larger than the parser's buffer")
    return InputError.of_file(path.name, f"{what} ({type(exc).__name__}: {exc})")


def parse_bounded(
    path: Path, fmt: RdfFormat, base: str, limits: LoaderLimits, sink: ErrorSink
) -> list[ox.Quad] | None:
    """The quads of the file, or None (reported) when it is out of bounds or does not parse."""
    try:
        problem = scan_rdf(path, fmt == RdfFormat.JSON_LD, limits.max_rdf_nesting, limits.max_literal_chars)
        if problem is not None:
            sink.add(
                InputError.of_file(
                    path.name, f"{problem.expected} (line {problem.line}, column {problem.column})"
                )
            )
            return None
        return list(ox.parse(path=str(path), format=fmt, base_iri=base))
    except Exception as exc:  # anything the parser raises is a fault of the file, never a crash
        sink.add(_parse_error(path, fmt, exc))
        return None


def check_graph(
    path: Path, graph: NamedNode, triples: list[Triple], ownership: Ownership, sink: ErrorSink
) -> bool:
    """The one ownership rule: may the file write this graph (for the agencies and laws its
    triples declare), and are its triples about nodes the graph's owner may describe? Reports the
    first reason not to."""
    found = declared(triples, ownership)
    owner = ownership.graph_owner(graph, found.agencies, found.laws, triples)
    if isinstance(owner, str):
        sink.add(InputError.of_file(path.name, owner))
        return False
    foreign = [t for t in triples if ownership.foreign_subject(owner, t)]
    if foreign:
        sink.add(InputError.of_file(path.name, _foreign_text(owner, graph, foreign)))
        return False
    return True


def _foreign_text(owner: Owner, graph: NamedNode, foreign: list[Triple]) -> str:
    own = owner.node.value
    shared = ", missions, licenses, counter offices" if owner.kind == "agency" else ""
    subject = foreign[0].subject.value
    more = f" ({len(foreign)} triples are not)" if len(foreign) > 1 else ""
    return (
        f"triples in <{graph.value}> about the nodes of {owner.kind} {owner.code} (<{own}>, <{own}/…>"
        f"{shared} or blank nodes); <{subject}> is not one of them{more}"
    )


def read_rdf_file(
    path: Path, ownership: Ownership, sink: ErrorSink, limits: LoaderLimits
) -> dict[NamedNode, list[Triple]]:
    """The graphs of one RDF file; quads in the default graph are placed like a triple file."""
    fmt = FORMATS[path.suffix.lower()]
    quads = parse_bounded(path, fmt, ownership.minter.base, limits, sink)
    if quads is None:
        return {}
    graphs: dict[NamedNode, list[Triple]] = {}
    loose: list[Triple] = []
    for quad in quads:
        if isinstance(quad.graph_name, DefaultGraph):
            loose.append(quad.triple)
        elif isinstance(quad.graph_name, NamedNode):
            graphs.setdefault(quad.graph_name, []).append(quad.triple)
        else:
            sink.add(InputError.of_file(path.name, "named graphs named by IRIs, not blank nodes"))
            return {}
    del quads
    if not graphs and not loose:
        sink.add(InputError.of_file(path.name, "RDF data; the file is empty"))
    if loose:
        graph = _loose_graph(path, declared(loose, ownership), ownership, sink)
        if graph is None:
            return {}
        graphs.setdefault(graph, []).extend(loose)
    owned = [check_graph(path, g, t, ownership, sink) for g, t in graphs.items()]
    return graphs if all(owned) else {}


def read_rdf_files(
    paths: list[Path], ownership: Ownership, sink: ErrorSink, limits: LoaderLimits | None = None
) -> dict[NamedNode, list[Triple]]:
    limits = limits or LoaderLimits.from_env()
    merged: dict[NamedNode, list[Triple]] = {}
    owner: dict[NamedNode, Path] = {}
    for path in paths:
        for graph, triples in read_rdf_file(path, ownership, sink, limits).items():
            if graph in owner:
                sink.add(
                    InputError.of_file(
                        path.name,
                        f"each graph in one file; {graph.value} is also in {owner[graph].name}",
                    )
                )
                continue
            owner[graph] = path
            merged[graph] = triples
    return merged
