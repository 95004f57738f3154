"""What a finding needs besides the SHACL result: the service ID, the agency, the legal source.

The agency is the one whose named graph holds the focus node (docs/architecture.md, "Named
graphs"), so any kind of node (service, inquiry, license, mission…) gets one without knowing its
class; the legal source is read from the corpus by following the shape's kh:enforces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from pyoxigraph import Literal, NamedNode

from khadamat.namespaces import ELI, KH, RDF, RDFS
from khadamat.store import Store
from khadamat.validation.engine import Finding, LegalSource
from khadamat.validation.graph import TripleIndex
from khadamat.validation.shapes import ENFORCES

_CHUNK = 2000


def _chunks(items: Sequence[NamedNode]) -> Iterable[str]:
    for start in range(0, len(items), _CHUNK):
        yield " ".join(str(n) for n in items[start : start + _CHUNK])


def agency_graphs(store: Store) -> dict[NamedNode, str]:
    """Each agency graph of the store → the agency code as written."""
    rows = store.select(f"SELECT DISTINCT ?code WHERE {{ ?agency <{KH}agencyCode> ?code }}")
    return {store.minter.agency_graph(r["code"].value): r["code"].value for r in rows if "code" in r}


def focus_details(store: Store, focus: Sequence[NamedNode]) -> dict[NamedNode, tuple[str | None, str | None]]:
    """focus node → (service ID, agency code)."""
    graphs = agency_graphs(store)
    out: dict[NamedNode, tuple[str | None, str | None]] = {}
    for values in _chunks(focus):
        query = (
            f"SELECT DISTINCT ?s ?id ?g WHERE {{ VALUES ?s {{ {values} }} "
            f"OPTIONAL {{ ?s <{KH}serviceId> ?id }} OPTIONAL {{ GRAPH ?g {{ ?s <{RDF}type> ?t }} }} }}"
        )
        for row in store.select(query):
            sid, agency = out.get(row["s"], (None, None))
            if sid is None and isinstance(row.get("id"), Literal):
                sid = row["id"].value
            if agency is None and row.get("g") in graphs:
                agency = graphs[row["g"]]
            out[row["s"]] = (sid, agency)
    return out


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


def enrich(store: Store, shapes_graph: TripleIndex, findings: Sequence[Finding]) -> list[Finding]:
    """The findings with service ID, agency code and legal source filled in."""
    focus = sorted({f.focus for f in findings if isinstance(f.focus, NamedNode)}, key=str)
    details = focus_details(store, focus)
    enforced = {f.shape: shapes_graph.value(f.shape, ENFORCES) for f in findings}
    sources = legal_sources(
        store, sorted({n for n in enforced.values() if isinstance(n, NamedNode)}, key=str)
    )
    out = []
    for finding in findings:
        sid, agency = (
            details.get(finding.focus, (None, None)) if isinstance(finding.focus, NamedNode) else (None, None)
        )
        node = enforced.get(finding.shape)
        legal = sources.get(node) if isinstance(node, NamedNode) else None
        out.append(replace(finding, service_id=sid, agency=agency, legal=legal))
    return out
