"""What a finding needs besides the SHACL result: service ID, agency, title, source row, legal source.

The agency is the one whose named graph holds the focus node (docs/architecture.md, "Named
graphs"), so any kind of node (service, inquiry, license, mission…) gets one without knowing its
class; the legal source is read from the corpus by following the shape's kh:enforces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path as FilePath
from typing import Literal as OneOf

from pyoxigraph import Literal, NamedNode

from khadamat.namespaces import DCT, ELI, KH, PROV, RDF, RDFS, SKOS
from khadamat.store import Store
from khadamat.validation.engine import Finding, LegalSource
from khadamat.validation.graph import TripleIndex
from khadamat.validation.shapes import ENFORCES

_CHUNK = 2000
# What a finding is given besides the SHACL result: everything a reader needs ("item"), or its
# agency and article only ("agency": enough to count findings per agency and rule).
Details = OneOf["item", "agency"]


def _chunks(items: Sequence[NamedNode]) -> Iterable[str]:
    for start in range(0, len(items), _CHUNK):
        yield " ".join(str(n) for n in items[start : start + _CHUNK])


@dataclass(frozen=True)
class ItemDetails:
    """What a finding says about its focus node besides the SHACL result."""

    service_id: str | None = None
    agency: str | None = None
    agency_name: str | None = None
    title: str | None = None
    source: str | None = None


def agency_graphs(store: Store, graphs: Sequence[NamedNode]) -> dict[NamedNode, tuple[str, str | None]]:
    """Each of `graphs` that is an agency's graph → (the agency code as written, its name)."""
    if not graphs:
        return {}
    values = " ".join(str(g) for g in graphs)
    rows = store.select(
        f"SELECT ?g ?code ?name WHERE {{ VALUES ?g {{ {values} }} "
        f"GRAPH ?g {{ ?agency <{KH}agencyCode> ?code }} "
        f"OPTIONAL {{ ?agency <{SKOS}prefLabel> ?name }} }}"
    )
    out: dict[NamedNode, tuple[str, str | None]] = {}
    for r in sorted(rows, key=lambda r: _preference(r.get("name"))):
        graph = store.minter.agency_graph(r["code"].value) if "code" in r else None
        if graph is not None and graph == r.get("g"):
            name = r["name"].value if isinstance(r.get("name"), Literal) else None
            out.setdefault(graph, (r["code"].value, name))
    return out


def _preference(label: object) -> tuple[int, str]:
    """Persian first, then no language, then any other; ties by text (stable output)."""
    if not isinstance(label, Literal):
        return (3, "")
    return ({"fa": 0, "": 1}.get(label.language or "", 2), label.value)


def rdf_sources(store: Store, graphs: Sequence[NamedNode]) -> dict[NamedNode, str]:
    """Each of `graphs` loaded from RDF files → "RDF file X" (the files' names, from provenance)."""
    from khadamat.loader.rdf_files import rdf_format

    if not graphs:
        return {}
    values = " ".join(str(g) for g in graphs)
    rows = store.select(
        f"SELECT ?graph ?name WHERE {{ VALUES ?graph {{ {values} }} GRAPH {store.minter.provenance_graph} {{ "
        f"?graph <{PROV}wasGeneratedBy> ?load . ?load <{PROV}used> ?file . ?file <{KH}fileName> ?name }} }}"
    )
    names: dict[NamedNode, set[str]] = {}
    for r in rows:
        if isinstance(r.get("name"), Literal) and rdf_format(FilePath(r["name"].value)) is not None:
            names.setdefault(r["graph"], set()).add(r["name"].value)
    return {graph: rdf_file_text(sorted(found)) for graph, found in names.items()}


def rdf_file_text(names: Sequence[str]) -> str:
    return "RDF file " + ", ".join(names)


def focus_details(
    store: Store, focus: Sequence[NamedNode], rdf_files: dict[NamedNode, str] | None = None
) -> dict[NamedNode, ItemDetails]:
    """focus node → its service ID, agency, title and source.

    The agency is the one whose graph types the node; the source is the kh:sourceRow written in
    that graph (a unit delivering its parent's service writes one in its own graph too), else
    the RDF file(s) the graph was loaded from (`rdf_files`: graph → "RDF file X").
    """
    found: dict[NamedNode, dict[str, list]] = {}
    for values in _chunks(focus):
        query = (
            f"SELECT ?s ?id ?g ?src ?title WHERE {{ VALUES ?s {{ {values} }} "
            f"OPTIONAL {{ ?s <{KH}serviceId> ?id }} "
            f"OPTIONAL {{ GRAPH ?g {{ ?s <{RDF}type> ?t }} "
            f"OPTIONAL {{ GRAPH ?g {{ ?s <{KH}sourceRow> ?src }} }} }} "
            f"OPTIONAL {{ ?s <{DCT}title> ?title }} }}"
        )
        for row in store.select(query):
            seen = found.setdefault(row["s"], {"id": [], "g": [], "src": [], "title": []})
            for key in seen:
                if key in row and row[key] not in seen[key]:
                    seen[key].append(row[key])
    graphs = agency_graphs(store, sorted({g for seen in found.values() for g in seen["g"]}, key=str))
    unsourced = sorted({g for seen in found.values() if not seen["src"] for g in seen["g"]}, key=str)
    files = rdf_sources(store, unsourced) | (rdf_files or {})
    out: dict[NamedNode, ItemDetails] = {}
    for node, seen in found.items():
        ids = sorted(i.value for i in seen["id"] if isinstance(i, Literal))
        rows = sorted(s.value for s in seen["src"] if isinstance(s, Literal))
        home = next((g for g in sorted(seen["g"], key=str) if g in files), None)
        titles = sorted(seen["title"], key=_preference)
        out[node] = replace(
            _owner(seen["g"], graphs),
            service_id=ids[0] if ids else None,
            title=titles[0].value if titles and isinstance(titles[0], Literal) else None,
            source=rows[0] if rows else (files[home] if home is not None else None),
        )
    return out


def focus_agencies(store: Store, focus: Sequence[NamedNode]) -> dict[NamedNode, ItemDetails]:
    """focus node → its agency only: what counting findings per agency needs (the evaluation
    report), without the title, ID and source lookups that cost most of `focus_details` at 50k."""
    seen: dict[NamedNode, list[NamedNode]] = {}
    for values in _chunks(focus):
        query = f"SELECT DISTINCT ?s ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s <{RDF}type> ?t }} }}"
        for row in store.select(query):
            seen.setdefault(row["s"], []).append(row["g"])
    graphs = agency_graphs(store, sorted({g for found in seen.values() for g in found}, key=str))
    return {node: _owner(found, graphs) for node, found in seen.items()}


def _owner(seen: Iterable[NamedNode], graphs: dict[NamedNode, tuple[str, str | None]]) -> ItemDetails:
    """The agency whose graph types the node (the first agency graph by IRI when several do)."""
    owner = next((g for g in sorted(seen, key=str) if g in graphs), None)
    return ItemDetails(agency=graphs[owner][0], agency_name=graphs[owner][1]) if owner else ItemDetails()


def legal_sources(store: Store, nodes: Sequence[NamedNode]) -> dict[NamedNode, LegalSource]:
    """article or part node → instrument code, article number and part label, from the corpus."""
    out: dict[NamedNode, LegalSource] = {}
    for values in _chunks(list(nodes)):
        query = f"""
            SELECT ?node ?code ?article ?part ?label WHERE {{
              VALUES ?node {{ {values} }}
              OPTIONAL {{ ?node <{KH}partLabel> ?part ; <{ELI}is_part_of> ?partOf . }}
              BIND (COALESCE(?partOf, ?node) AS ?articleNode)
              OPTIONAL {{ ?articleNode <{KH}articleNumber> ?article ; <{ELI}is_part_of> ?instrument . }}
              BIND (COALESCE(?instrument, ?articleNode) AS ?law)
              OPTIONAL {{ ?law <{KH}legalCode> ?code . }}
              OPTIONAL {{ ?node <{RDFS}label> ?label . }}
            }}"""
        for row in store.select(query):
            node = row["node"]
            known = out.get(node) or LegalSource(
                node,
                instrument=row["code"].value if "code" in row else None,
                article=row["article"].value if "article" in row else None,
                part=row["part"].value if "part" in row else None,
                labels={},
            )
            label = row.get("label")
            if isinstance(label, Literal):
                known.labels.setdefault(label.language or "", label.value)
            out[node] = known
    return out


def enrich(
    store: Store,
    shapes_graph: TripleIndex,
    findings: Sequence[Finding],
    rdf_files: dict[NamedNode, str] | None = None,
    *,
    details_of: Details = "item",
) -> list[Finding]:
    """The findings with service ID, agency, title, source and legal source filled in.

    `details_of="agency"` fills only the agency and the legal source (counts per agency and rule
    need no more); the default fills everything a reader of a finding needs."""
    focus = sorted({f.focus for f in findings if isinstance(f.focus, NamedNode)}, key=str)
    if details_of == "agency":
        details = focus_agencies(store, focus)
    else:
        details = focus_details(store, focus, rdf_files)
    enforced = {f.shape: shapes_graph.value(f.shape, ENFORCES) for f in findings}
    sources = legal_sources(
        store, sorted({n for n in enforced.values() if isinstance(n, NamedNode)}, key=str)
    )
    out = []
    for finding in findings:
        item = (
            details.get(finding.focus, ItemDetails())
            if isinstance(finding.focus, NamedNode)
            else ItemDetails()
        )
        node = enforced.get(finding.shape)
        out.append(
            replace(
                finding,
                service_id=item.service_id,
                agency=item.agency,
                agency_name=item.agency_name,
                title=item.title,
                source=item.source,
                legal=sources.get(node) if isinstance(node, NamedNode) else None,
            )
        )
    return out
