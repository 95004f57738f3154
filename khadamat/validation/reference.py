"""pySHACL, the reference engine, run on the same data and shapes for comparison.

Used by the differential tests and the benchmark: pySHACL (advanced, no inference) validates an
N-Triples copy of the store against the shapes files; its report is read back into the same
(focus node, source shape, path) keys the compiled engine produces. The validation date is put
into the SPARQL text in place of $validationDate, as the engine binds it by substitution.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path as FilePath

import pyoxigraph as ox
from pyoxigraph import NamedNode, RdfFormat, Triple

from khadamat.namespaces import RDF, SH, XSD
from khadamat.resources import read_rebased
from khadamat.validation.compiler import DATE_VARIABLE
from khadamat.validation.graph import TripleIndex
from khadamat.validation.paths import read_path

Key = tuple[str, str, str, str]


def shapes_text(files: Sequence[FilePath], base: str, on_date: dt.date) -> str:
    """The shapes files as one Turtle text each joined, with the date written into the queries."""
    literal = f'"{on_date.isoformat()}"^^<{XSD}date>'
    return "\n".join(read_rebased(f, base).replace(f"${DATE_VARIABLE}", literal) for f in files)


def report_keys(report: TripleIndex) -> set[Key]:
    """The (focus, source shape, path, component) keys of every sh:ValidationResult of a report graph."""
    keys: set[Key] = set()
    for result in report.subjects(NamedNode(RDF + "type"), NamedNode(SH + "ValidationResult")):
        focus = report.value(result, NamedNode(SH + "focusNode"))
        shape = report.value(result, NamedNode(SH + "sourceShape"))
        path_node = report.value(result, NamedNode(SH + "resultPath"))
        path = read_path(report, path_node).text() if path_node is not None else ""
        component = report.value(result, NamedNode(SH + "sourceConstraintComponent"))
        keys.add((str(focus), str(shape), path, str(component)))
    return keys


def pyshacl_keys(
    triples: Iterable[Triple], files: Sequence[FilePath], base: str, on_date: dt.date
) -> set[Key]:
    """Validate with pySHACL and return its result keys."""
    import pyshacl
    import rdflib

    data = rdflib.Graph()
    data.parse(
        data=(ox.serialize(list(triples), format=RdfFormat.N_TRIPLES) or b"").decode("utf-8"), format="nt"
    )
    shapes = rdflib.Graph()
    shapes.parse(data=shapes_text(files, base, on_date), format="turtle")
    _conforms, results, text = pyshacl.validate(
        data, shacl_graph=shapes, advanced=True, inference="none", allow_warnings=True
    )
    if not hasattr(results, "serialize"):
        raise RuntimeError(f"pySHACL failed: {text}")
    return report_keys(TripleIndex.parse(results.serialize(format="nt"), RdfFormat.N_TRIPLES))
