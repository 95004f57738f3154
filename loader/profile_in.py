"""RDF files in a standard's terms (CPSV-AP 3.2) loaded as Khadamat data, keeping what maps.

A profile file is read as any RDF file is (bounded pre-scan, then pyoxigraph, every failure an
input error naming the file), into a scratch store; the profile's import CONSTRUCT files
(queries/profiles/{profile}/import/*.rq: the mapping is data) turn it into kh: triples whose
IRIs the Minter's rules give, under the store's base. Each triple then goes to the graph of the
agency whose node it describes, and every graph passes the loader's one ownership rule
(resolve.Ownership, through rdf_files.check_graph), exactly as a Turtle file in kh: terms would.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from khadamat.loader import rdf_files
from khadamat.loader import vocab as V
from khadamat.loader.errors import InputError
from khadamat.loader.limits import LoaderLimits
from khadamat.loader.resolve import Ownership
from khadamat.loader.sheets import ErrorSink
from pyoxigraph import NamedNode, Triple

from khadamat.config import DEFAULT_BASE
from khadamat.querylib import profile_specs


def mapped_triples(quads: list[ox.Quad], profile: str, base: str) -> list[Triple]:
    """The kh: triples the profile's import files construct from a file's quads (graphs merged)."""
    scratch = ox.Store()
    scratch.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    found: dict[Triple, None] = {}
    for spec in profile_specs(profile, "import"):
        text = spec.text if base == DEFAULT_BASE else spec.text.replace(DEFAULT_BASE, base)
        found.update(dict.fromkeys(scratch.query(text)))  # type: ignore[arg-type]
    return list(found)


def by_agency(
    triples: list[Triple], ownership: Ownership
) -> tuple[dict[NamedNode, list[Triple]], list[Triple]]:
    """Each triple in the graph of the agency whose node, or a node under it, is its subject;
    the triples about no agency of the file apart."""
    codes = {t.subject.value: t.object.value for t in triples if t.predicate == V.K.agencyCode}
    graphs: dict[NamedNode, list[Triple]] = {}
    stray: list[Triple] = []
    for t in triples:
        subject = t.subject.value
        owner = codes.get(subject) or next(
            (code for iri, code in codes.items() if subject.startswith(iri + "/")), None
        )
        if owner is None:
            stray.append(t)
        else:
            graphs.setdefault(ownership.minter.agency_graph(owner), []).append(t)
    return graphs, stray


def read_profile_file(
    path: Path, profile: str, ownership: Ownership, sink: ErrorSink, limits: LoaderLimits
) -> dict[NamedNode, list[Triple]]:
    """The agency graphs one profile file maps to, or {} (reported) when it cannot be placed."""
    fmt = rdf_files.rdf_format(path)
    if fmt is None:
        sink.add(InputError.of_file(path.name, f"an RDF file ({', '.join(rdf_files.SUFFIXES)})"))
        return {}
    quads = rdf_files.parse_bounded(path, fmt, ownership.minter.base, limits, sink)
    if quads is None:
        return {}
    graphs, stray = by_agency(mapped_triples(quads, profile, ownership.minter.base), ownership)
    if not graphs:
        sink.add(
            InputError.of_file(
                path.name,
                f"{profile} data with at least one public service or public organisation; "
                "nothing in the file maps to Khadamat's graph",
            )
        )
        return {}
    if stray:
        sink.add(
            InputError.of_file(
                path.name, f"every mapped node under an agency; <{stray[0].subject.value}> is not"
            )
        )
        return {}
    owned = [rdf_files.check_graph(path, g, t, ownership, sink) for g, t in graphs.items()]
    return graphs if all(owned) else {}


def read_profile_files(
    paths: list[Path], profile: str, ownership: Ownership, sink: ErrorSink, limits: LoaderLimits | None = None
) -> dict[NamedNode, list[Triple]]:
    limits = limits or LoaderLimits.from_env()
    merged: dict[NamedNode, list[Triple]] = {}
    for path in paths:
        for graph, triples in read_profile_file(path, profile, ownership, sink, limits).items():
            if graph in merged:
                sink.add(
                    InputError.of_file(
                        path.name, f"each agency in one file; {graph.value} is also in another"
                    )
                )
                continue
            merged[graph] = triples
    return merged
