"""What the submission's references can point at: the submission itself plus the store.

The store is read once, with a handful of SELECTs (agencies, missions, legal nodes, service
IDs, licenses), never per row: a national catalog has tens of thousands of rows. Everything
that lives in a graph the submission replaces is set aside, since it is about to disappear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from pyoxigraph import NamedNode, Triple

from khadamat.accounts import SCOPE_EXPECTED, Scope
from khadamat.iris import Minter, iri_key, normalize_iri
from khadamat.namespaces import KH, ORG, RDF, sparql_prologue
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
    coded_nodes: dict[str, NamedNode] = field(default_factory=dict)  # mission / license IRI → graph

    def units_of(self, code: str) -> frozenset[str]:
        """Keys of the stored provincial and county units whose line of units leads to `code`."""
        key = normalize_key(code)
        return frozenset(
            k
            for k, agency in self.agencies.items()
            if agency.is_unit and normalize_key(owner_of(self.agencies, agency).code) == key
        )

    def unit_owner(self, code: str) -> str | None:
        """The code of the agency a stored unit belongs to (through units); None for an agency."""
        agency = self.agencies.get(normalize_key(code))
        if agency is None or not agency.is_unit:
            return None
        return owner_of(self.agencies, agency).code


def owner_of(agencies: Mapping[str, Agency], agency: Agency) -> Agency:
    """The nearest agency up the line, itself included, that is not a provincial/county unit."""
    current, seen = agency, set()
    while current.is_unit and current.parent and current.parent not in seen:
        seen.add(current.parent)
        parent = agencies.get(current.parent)
        if parent is None:
            break
        current = parent
    return current


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


def read_agencies(store: Store) -> StoreSnapshot:
    """The stored agencies and their hierarchy only: one SELECT, what `accounts.write_scope` needs."""
    snap = StoreSnapshot()
    _read_agencies(store, snap)
    return snap


def _read_agencies(store: Store, snap: StoreSnapshot) -> dict[str, str]:
    """Fill `snap.agencies`; returns agency IRI → key."""
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
    return code_of


def read_snapshot(store: Store) -> StoreSnapshot:
    """Read once what resolution needs from the store."""
    snap = StoreSnapshot()
    code_of = _read_agencies(store, snap)
    for row in _rows(store, _MISSIONS):
        agency_key = code_of.get(row["agency"].value, "")
        snap.missions[normalize_key(row["code"].value)] = (row["m"], agency_key, row["g"])
        snap.coded_nodes[row["m"].value] = row["g"]
    for row in _rows(store, _LEGAL):
        snap.legal[row["x"].value] = row["g"]
    for row in _rows(store, _SERVICES):
        snap.services[row["s"].value] = row["g"]
        snap.services_by_id.setdefault(row["id"].value, []).append(row["s"].value)
    for row in _rows(store, _LICENSES):
        snap.licenses[normalize_key(row["code"].value)] = row["g"]
        snap.coded_nodes[row["l"].value] = row["g"]
    return snap


class Registry:
    """Agencies, missions and legal nodes known to the submission and the store, by key."""

    def __init__(self, minter: Minter, snapshot: StoreSnapshot, scope: Scope | None = None) -> None:
        self.minter = minter
        self.snapshot = snapshot
        self.agencies: dict[str, Agency] = dict(snapshot.agencies)
        self.replaced: set[str] = set()  # IRIs of the graphs the submission replaces
        self.sent: dict[str, set[str]] = {}  # agency graph IRI → the SECTIONS the submission sends
        self.missions: dict[str, NamedNode] = {}
        self.legal: set[str] = set()
        self.ownership = Ownership(self, scope)  # the one rule of which graphs may be written

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
        return owner_of(self.agencies, agency)

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


# Graph ownership ---------------------------------------------------------------------------
# One rule, for workbooks and RDF files alike (docs/architecture.md, "Graph ownership"): a
# submission writes only the graph of an agency or law it declares, named exactly as the Minter
# names it; every other graph (the reserved ones in any spelling, a built-in instrument's, another
# agency's, anything outside the base) refuses the whole submission.

_DELIVERY = frozenset({KH + "deliveredBy", KH + "sourceRow"})  # what a unit states about a parent's service
_SHARED_KINDS = ("mission/", "license/", "counter-office/")  # nodes whose IRIs name no agency
_PARENT_LINKS = frozenset({ORG + "subOrganizationOf", ORG + "unitOf", KH + "affiliateOf"})
_UNIT_CLASSES = frozenset({KH + "AgencyUnit", KH + "ProvincialUnit", KH + "CountyUnit"})


@dataclass(frozen=True)
class Owner:
    """Whose graph a graph is: an agency's or a submitted law's, by its code."""

    kind: str  # "agency" or "law"
    code: str
    node: NamedNode  # the agency or the instrument
    graph: NamedNode


def _space(node: NamedNode) -> tuple[str, str]:
    return node.value, node.value + "/"


class Ownership:
    """Decides which graphs a submission may write and which nodes each of them may describe."""

    def __init__(self, registry: Registry, scope: Scope | None = None) -> None:
        self.reg = registry
        self.minter = registry.minter
        self.scope = scope  # what the submitter may write (accounts.write_scope); None: no limit

    @cached_property
    def _reserved(self) -> dict[str, str]:
        m = self.minter
        return {
            iri_key(g.value): name
            for name, g in (
                ("ontology", m.ontology_graph),
                ("corpus", m.corpus_graph),
                ("provenance", m.provenance_graph),
            )
        }

    @cached_property
    def _builtin_laws(self) -> dict[str, str]:
        """Graph key of every built-in instrument (as if it were submitted) → its code segment."""
        corpus, prefix = self.minter.corpus_graph, self.minter.base + "law/"
        found = {}
        for iri, graph in self.reg.snapshot.legal.items():
            code = iri[len(prefix) :]
            if graph == corpus and iri.startswith(prefix) and code and "/" not in code:
                found[iri_key(self.minter.graph("law").value + "/" + code)] = code
        return found

    @cached_property
    def _stored_agencies(self) -> dict[str, str]:
        """Graph key of every stored agency's graph → its code."""
        found: dict[str, str] = {}
        for agency in self.reg.snapshot.agencies.values():
            found.setdefault(iri_key(agency.graph.value), agency.code)
        return found

    def graph_owner(
        self,
        graph: NamedNode,
        agencies: Iterable[str] = (),
        laws: Iterable[str] = (),
        triples: Sequence[Triple] | None = None,
    ) -> Owner | str:
        """The owner of `graph` among the agencies and laws its source declares, or why the
        submission may not write it (an `expected …` text naming the graph).

        With a scope (an editor's submission), the owner must also lie within it; `triples` are
        the graph's content when it comes from an RDF file (where the agency's place in the
        hierarchy is read from), None for the workbook path (read from the Registry)."""
        reason = self._refusal(graph, list(agencies), list(laws))
        if isinstance(reason, Owner):
            return self._scope_refusal(reason, triples) or reason
        stored = self._stored_agencies.get(iri_key(graph.value))
        if stored is not None and (outside := self._outside(stored)):
            return outside
        return f"only the graphs of the agencies and laws it declares; <{graph.value}> is {reason}"

    def _refusal(self, graph: NamedNode, agencies: list[str], laws: list[str]) -> Owner | str:
        key, m, base = iri_key(graph.value), self.minter, self.minter.base
        if key in self._reserved:
            return f"the {self._reserved[key]} graph, which Khadamat maintains itself"
        if key in self._builtin_laws:
            code = self._builtin_laws[key]
            return f"the graph of {code}, a built-in instrument of the legal corpus, which can't be redefined"
        candidates = [("agency", c, m.agency_graph(c), m.agency(c)) for c in agencies]
        candidates += [("law", c, m.law_graph(c), m.law(c)) for c in laws]
        for kind, code, canonical, node in candidates:
            if iri_key(canonical.value) != key:
                continue
            if normalize_iri(canonical.value) != canonical.value:
                read = normalize_iri(canonical.value)
                return f"not a name of its own: the {kind} code '{code}' makes it read as <{read}>"
            if canonical != graph:
                return (
                    f"another spelling of <{canonical.value}>, the graph of {kind} {code}; name it exactly so"
                )
            stored = self.reg.snapshot.agencies.get(normalize_key(code)) if kind == "agency" else None
            if stored is not None and stored.graph != canonical:
                return (
                    f"the graph of agency {code}, which is already loaded as {stored.code} "
                    f"in <{stored.graph.value}>"
                )
            return Owner(kind, code, node, graph)
        if key in self._stored_agencies:
            return f"the graph of agency {self._stored_agencies[key]}, which the submission does not declare"
        if not key.startswith(("http://", "https://")):
            return f"not an http(s) IRI under {base}"
        if not key.startswith(iri_key(base)):
            return f"outside {base}"
        return (
            f"not the graph of an agency or law it declares ({base}graph/agency/CODE holding the agency "
            f"{base}agency/CODE with its kh:agencyCode, or {base}graph/law/CODE holding the instrument "
            f"{base}law/CODE with its kh:legalCode)"
        )

    # Write scope ------------------------------------------------------------------------------
    # An editor writes its agency (the scope's root) and its provincial and county units: those
    # the store holds under it, and new units the submission places under it. The hierarchy the
    # submission declares is checked too, or an editor could move its agency under another one
    # (its service rows would then mint that agency's service IRIs) or adopt another's unit.

    def _code(self, key: str) -> str:
        stored = self.reg.snapshot.agencies.get(key)
        return stored.code if stored else key

    @cached_property
    def _scope_text(self) -> str:
        assert self.scope is not None and self.scope.agencies is not None
        root = self._code(self.scope.root or "")
        codes = ", ".join(sorted(self._code(k) for k in self.scope.agencies))
        return f"{SCOPE_EXPECTED} of agency {root} (the agency and its provincial and county units: {codes})"

    def _restricted(self) -> bool:
        return self.scope is not None and self.scope.agencies is not None

    def _scope_refusal(self, owner: Owner, triples: Sequence[Triple] | None) -> str | None:
        """Why the scope forbids writing the owner's graph, or None."""
        if self.scope is None:
            return None
        if owner.kind == "law":
            if self.scope.laws:
                return None
            return (
                f"{self._scope_text}: laws are submitted by an admin; <{owner.graph.value}> is the "
                f"graph of law {owner.code}"
            )
        if self.scope.agencies is None:
            return None
        key = normalize_key(owner.code)
        stored = self.reg.snapshot.agencies.get(key)
        if stored is not None and (outside := self._outside(stored.code)):
            return outside
        parents, is_unit = self._placement(owner, key, triples)
        if key == self.scope.root:
            return self._root_moved(stored, parents, is_unit)
        if not is_unit or not parents:
            return (
                f"{self._scope_text}; agency {owner.code} is declared an agency of its own, not a "
                f"provincial or county unit of {self._code(self.scope.root or '')}"
            )
        stray = next((p for p in parents if not self._reaches_root(p)), None)
        if stray is not None:
            where = self._code(stray)
            return f"{self._scope_text}; agency {owner.code} is declared a unit of {where}, outside it"
        return None

    def _outside(self, code: str) -> str | None:
        """Why a stored agency is outside the scope (another agency, an affiliate, another's unit)."""
        if not self._restricted() or self.scope is None or self.scope.allows(code):
            return None
        agencies = self.reg.snapshot.agencies
        agency = agencies[normalize_key(code)]
        if agency.is_unit:
            why = f"a unit of {owner_of(agencies, agency).code}"
        elif self._descends_from_root(agency):
            parent = agencies[agency.parent or ""].code
            why = f"an affiliate of {parent}: an agency of its own, with its own editor"
        else:
            why = "another agency"
        return f"{self._scope_text}; agency {agency.code} is {why}"

    def _descends_from_root(self, agency: Agency) -> bool:
        agencies, seen = self.reg.snapshot.agencies, set()
        key = agency.parent
        while key is not None and key not in seen:
            if key == (self.scope.root if self.scope else None):
                return True
            seen.add(key)
            key = agencies[key].parent if key in agencies else None
        return False

    def _placement(self, owner: Owner, key: str, triples: Sequence[Triple] | None) -> tuple[list[str], bool]:
        """The parents (keys; an IRI when it names no known agency) and unit-ness the submission
        gives the owner: from an RDF graph's own triples, else from the Registry (workbook rows,
        or the store for an agency the submission does not list)."""
        if triples is None:
            agency = self.reg.agencies.get(key)
            if agency is None:
                return [], False
            return ([agency.parent] if agency.parent else []), agency.is_unit
        by_iri = {a.iri.value: k for k, a in self.reg.agencies.items()}
        parents: set[str] = set()
        is_unit = False
        for t in triples:
            if t.subject != owner.node:
                continue
            if t.predicate.value in _PARENT_LINKS:
                parents.add(by_iri.get(t.object.value, t.object.value))
                is_unit = is_unit or t.predicate.value == ORG + "unitOf"
            elif t.predicate.value == RDF + "type" and t.object.value in _UNIT_CLASSES:
                is_unit = True
        return sorted(parents), is_unit

    def _root_moved(self, stored: Agency | None, parents: list[str], is_unit: bool) -> str | None:
        """The editor's own agency keeps its place: moving an agency is the supervisor's act."""
        kept = [stored.parent] if stored is not None and stored.parent else []
        if not is_unit and parents == kept:
            return None
        root = self._code(self.scope.root if self.scope and self.scope.root else "")
        where = f"under {self._code(kept[0])}" if kept else "under no other agency"
        return (
            f"{self._scope_text}; agency {root} stays where it is loaded, {where} and not a unit: "
            "only an admin moves an agency"
        )

    def _reaches_root(self, key: str) -> bool:
        """True when `key` is the root, or a unit of the scope (stored in it, or new in the
        submission) whose line of parents, as the submission places them, reaches the root."""
        assert self.scope is not None
        seen: set[str] = set()
        while key != self.scope.root:
            if key in seen:
                return False
            seen.add(key)
            if key in self.reg.snapshot.agencies and not self.scope.allows(self._code(key)):
                return False
            agency = self.reg.agencies.get(key)
            if agency is None or not agency.is_unit or agency.parent is None:
                return False
            key = agency.parent
        return True

    @cached_property
    def _scope_spaces(self) -> tuple[str, ...]:
        """IRI prefixes of the nodes of the scope's agencies (where their services live)."""
        if self.scope is None or self.scope.agencies is None:
            return ()
        return tuple(self.minter.agency(self._code(k)).value + "/" for k in self.scope.agencies)

    def foreign_subject(self, owner: Owner, triple: Triple) -> bool:
        """True when `triple`, placed in the owner's graph, describes a node the owner may not.

        An agency's graph describes the agency (`{base}agency/CODE`), what lies under it
        (`{base}agency/CODE/…`: services, items, inquiries, evidence, delegations), blank nodes,
        and the nodes whose IRIs carry no agency (missions, licenses, counter offices) unless a
        mission or license is held by another agency's graph the submission keeps. A unit may
        also state `kh:deliveredBy` itself (and `kh:sourceRow`) about another agency's service
        (with a scope: a service of the scope's agencies only).
        A law's graph describes the instrument (`{base}law/CODE`) and what lies under it.
        """
        subject = triple.subject
        if not isinstance(subject, NamedNode):
            return False  # blank nodes are local to the file
        iri = normalize_iri(subject.value)
        own, below = _space(owner.node)
        if iri == own or iri.startswith(below):
            return iri != subject.value  # a variant spelling of an own node is refused too
        if owner.kind != "agency":
            return True
        base = self.minter.base
        if iri.startswith(tuple(base + kind for kind in _SHARED_KINDS)) and iri == subject.value:
            graph = self.reg.snapshot.coded_nodes.get(iri)
            section = "missions" if iri.startswith(base + "mission/") else "licenses"
            return graph is not None and graph != owner.graph and self.reg.kept(graph, section)
        return not (
            iri.startswith(base + "agency/")
            and triple.predicate.value in _DELIVERY
            and (triple.predicate.value != KH + "deliveredBy" or triple.object == owner.node)
            and (not self._restricted() or iri.startswith(self._scope_spaces))
        )
