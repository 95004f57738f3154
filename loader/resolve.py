"""What the submission's references can point at: the submission itself plus the store.

The store is read once, with a handful of SELECTs (agencies, missions, legal nodes, service
IDs, licenses), never per row: a national catalog has tens of thousands of rows. Everything
that lives in a graph the submission replaces is set aside, since it is about to disappear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from khadamat.iris import Minter
from khadamat.namespaces import sparql_prologue
from khadamat.normalize import normalize_key
from khadamat.store import Store

UNIT_KINDS = frozenset({"agency-kind-provincial-unit", "agency-kind-county-unit"})
# What a submission may send for an agency; each replaces only the same part of its graph:
# its node (agencies sheet), its missions, its catalog (services and what hangs on them:
# inquiries, counter delegations, evidence), its licenses (fed by the national licensing portal).
SECTIONS = ("agency", "missions", "services", "licenses")


@dataclass
class Agency:
    code: str  # as first written (the IRI is minted from it)
    iri: NamedNode
    parent: str | None  # normalize_key of the parent's code
    is_unit: bool
    graph: NamedNode
    in_submission: bool = False


@dataclass
class StoreSnapshot:
    """What the store holds, keyed the way the loader looks things up."""

    agencies: dict[str, Agency] = field(default_factory=dict)
    missions: dict[str, tuple[NamedNode, str, NamedNode]] = field(
        default_factory=dict
    )  # key → iri, agency key, graph
    legal: dict[str, NamedNode] = field(default_factory=dict)  # node IRI → graph
    services: dict[str, NamedNode] = field(default_factory=dict)  # service IRI → graph
    services_by_id: dict[str, list[str]] = field(default_factory=dict)
    licenses: dict[str, NamedNode] = field(default_factory=dict)  # license key → graph


_AGENCIES = """
SELECT ?a ?code ?parent ?unit ?g WHERE {
  GRAPH ?g { ?a kh:agencyCode ?code .
    OPTIONAL { ?a org:subOrganizationOf ?parent }
    BIND(EXISTS { ?a org:unitOf ?u } AS ?unit) }
}"""
_MISSIONS = "SELECT ?m ?code ?agency ?g WHERE { GRAPH ?g { ?m kh:missionCode ?code ; kh:missionOf ?agency } }"
_LEGAL = """
SELECT ?x ?g WHERE { GRAPH ?g { ?x a ?t } VALUES ?t { kh:LegalInstrument kh:Article kh:ArticlePart } }"""
_SERVICES = "SELECT ?s ?id ?g WHERE { GRAPH ?g { ?s kh:serviceId ?id } }"
_LICENSES = "SELECT ?l ?code ?g WHERE { GRAPH ?g { ?l kh:licenseCode ?code } }"


def _rows(store: Store, query: str) -> list[dict]:
    return store.select(sparql_prologue() + query)


def read_snapshot(store: Store) -> StoreSnapshot:
    """Read once what resolution needs from the store."""
    snap = StoreSnapshot()
    code_of: dict[str, str] = {}
    parents: dict[str, str] = {}
    for row in _rows(store, _AGENCIES):
        key = normalize_key(row["code"].value)
        code_of[row["a"].value] = key
        if "parent" in row:
            parents[key] = row["parent"].value
        unit = row.get("unit")
        snap.agencies[key] = Agency(
            row["code"].value, row["a"], None, bool(unit and unit.value == "true"), row["g"]
        )
    for key, parent_iri in parents.items():
        snap.agencies[key].parent = code_of.get(parent_iri)
    for row in _rows(store, _MISSIONS):
        agency_key = code_of.get(row["agency"].value, "")
        snap.missions[normalize_key(row["code"].value)] = (row["m"], agency_key, row["g"])
    for row in _rows(store, _LEGAL):
        snap.legal[row["x"].value] = row["g"]
    for row in _rows(store, _SERVICES):
        snap.services[row["s"].value] = row["g"]
        snap.services_by_id.setdefault(row["id"].value, []).append(row["s"].value)
    for row in _rows(store, _LICENSES):
        snap.licenses[normalize_key(row["code"].value)] = row["g"]
    return snap


class Registry:
    """Agencies, missions and legal nodes known to the submission and the store, by key."""

    def __init__(self, minter: Minter, snapshot: StoreSnapshot) -> None:
        self.minter = minter
        self.snapshot = snapshot
        self.agencies: dict[str, Agency] = dict(snapshot.agencies)
        self.replaced: set[str] = set()  # IRIs of the graphs the submission replaces
        self.sent: dict[str, set[str]] = {}  # agency graph IRI → the SECTIONS the submission sends
        self.missions: dict[str, NamedNode] = {}
        self.legal: set[str] = set()

    # agencies ------------------------------------------------------------------------
    def add_agency(self, code: str, parent: str | None, is_unit: bool) -> Agency:
        key = normalize_key(code)
        known = self.snapshot.agencies.get(key)
        code = known.code if known else code  # keep the IRI stable across spellings
        agency = Agency(
            code,
            self.minter.agency(code),
            parent,
            is_unit,
            self.minter.agency_graph(code),
            in_submission=True,
        )
        self.agencies[key] = agency
        return agency

    def agency(self, code: str) -> Agency | None:
        return self.agencies.get(normalize_key(code))

    def owner(self, agency: Agency) -> Agency:
        """The nearest agency up the line, itself included, that is not a provincial/county unit."""
        current, seen = agency, set()
        while current.is_unit and current.parent and current.parent not in seen:
            seen.add(current.parent)
            parent = self.agencies.get(current.parent)
            if parent is None:
                break
            current = parent
        return current

    def replace(self, graph: NamedNode) -> None:
        """A law graph: replaced as a whole."""
        self.replaced.add(graph.value)

    def claim(self, graph: NamedNode, section: str) -> None:
        """An agency graph the submission sends `section` for."""
        self.replaced.add(graph.value)
        self.sent.setdefault(graph.value, set()).add(section)

    def kept(self, graph: NamedNode, section: str | None = None) -> bool:
        """True when stored content of `section` in that graph survives this submission."""
        if graph.value not in self.replaced:
            return True
        sections = self.sent.get(graph.value)
        return section is not None and sections is not None and section not in sections

    # missions and legal nodes --------------------------------------------------------
    def freeze_store_references(
        self, submitted_missions: dict[str, NamedNode], submitted_legal: set[str]
    ) -> None:
        """Missions and legal nodes that resolve: the submission's plus what the store keeps."""
        self.missions = {
            key: iri
            for key, (iri, _agency, graph) in self.snapshot.missions.items()
            if self.kept(graph, "missions")
        }
        self.missions.update(submitted_missions)
        self.legal = {iri for iri, graph in self.snapshot.legal.items() if self.kept(graph)} | submitted_legal

    def mission(self, code: str) -> NamedNode | None:
        return self.missions.get(normalize_key(code))

    def legal_node(self, reference: str) -> NamedNode | None:
        """The node of `CODE[:ARTICLE[:PART]]` if it exists; raises ValueError when malformed."""
        node = self.minter.legal_ref(reference)
        return node if node.value in self.legal else None

    def stored_service_graph(self, iri: str) -> NamedNode | None:
        graph = self.snapshot.services.get(iri)
        return graph if graph is not None and self.kept(graph, "services") else None
