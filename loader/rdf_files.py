"""RDF files as submissions: Turtle, N-Triples, N-Quads, TriG and JSON-LD.

A quad keeps its graph. A triple has none, so a triple file goes to the graph of the single
agency it describes; a file that describes no agency or several cannot be placed and is refused
(write it as N-Quads or TriG to say where each triple goes).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from khadamat.loader import vocab as V
from khadamat.loader.errors import InputError
from khadamat.loader.sheets import ErrorSink
from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, Triple

from khadamat.iris import Minter

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


def rdf_format(path: Path) -> RdfFormat | None:
    return FORMATS.get(path.suffix.lower())


def _agency_graph(path: Path, triples: list[Triple], minter: Minter, sink: ErrorSink) -> NamedNode | None:
    agencies = {t.subject for t in triples if t.predicate == V.TYPE and t.object.value in AGENCY_CLASSES}
    codes = {
        t.subject: t.object.value for t in triples if t.predicate == V.K.agencyCode and t.subject in agencies
    }
    if len(agencies) != 1 or not codes:
        found = ", ".join(sorted(a.value for a in agencies)) or "none"
        sink.add(
            InputError.of_file(
                path.name,
                "triples about exactly one agency (a kh:ExecutiveAgency with its kh:agencyCode), so "
                f"that they go to its graph; found {len(agencies)} ({found}). Use N-Quads or TriG to "
                "name the graph of each triple",
            )
        )
        return None
    return minter.agency_graph(next(iter(codes.values())))


def read_rdf_file(path: Path, minter: Minter, sink: ErrorSink) -> dict[NamedNode, list[Triple]]:
    """The graphs of one RDF file; quads in the default graph are placed like a triple file."""
    fmt = FORMATS[path.suffix.lower()]
    graphs: dict[NamedNode, list[Triple]] = {}
    loose: list[Triple] = []
    try:
        for quad in ox.parse(path=str(path), format=fmt, base_iri=minter.base):
            if isinstance(quad.graph_name, DefaultGraph):
                loose.append(quad.triple)
            elif isinstance(quad.graph_name, NamedNode):
                graphs.setdefault(quad.graph_name, []).append(quad.triple)
            else:
                sink.add(InputError.of_file(path.name, "named graphs named by IRIs, not blank nodes"))
                return {}
    except (SyntaxError, ValueError, OSError) as exc:
        sink.add(InputError.of_file(path.name, f"a valid {fmt.name} file ({exc})"))
        return {}
    if not graphs and not loose:
        sink.add(InputError.of_file(path.name, "RDF data; the file is empty"))
    if loose:
        graph = _agency_graph(path, loose, minter, sink)
        if graph is not None:
            graphs.setdefault(graph, []).extend(loose)
    return graphs


def read_rdf_files(paths: list[Path], minter: Minter, sink: ErrorSink) -> dict[NamedNode, list[Triple]]:
    merged: dict[NamedNode, list[Triple]] = {}
    owner: dict[NamedNode, Path] = {}
    for path in paths:
        for graph, triples in read_rdf_file(path, minter, sink).items():
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
