"""Parsed rows → triples in named graphs, with the contract vocabulary.

The mapper works sheet by sheet in dependency order (agencies, laws, missions, services, then
the sheets that point at services), resolving every reference against the Registry and
reporting what does not resolve into the same ErrorSink as the cell errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from khadamat.loader import vocab as V
from khadamat.loader.columns import (
    AGENCIES,
    COUNTERS,
    INQUIRIES,
    LAWS,
    LICENSES,
    MISSIONS,
    SERVICES,
    SheetSpec,
)
from khadamat.loader.resolve import UNIT_KINDS, Agency, Registry
from khadamat.loader.sheets import ErrorSink, ParsedSheet, Row
from pyoxigraph import NamedNode, Triple

from khadamat.iris import Minter
from khadamat.namespaces import CPSV, KHC
from khadamat.normalize import normalize_key, normalize_text
from khadamat.titles import title_key, title_subkeys, title_tokens

K = V.K
Progress = Callable[[str, int, int], None]

# services columns written the same way: cell value → one triple per value.
SERVICE_COLUMNS: dict[str, NamedNode] = {
    "nature": K.nature,
    "description": V.DESCRIPTION,
    "recipients": K.recipients,
    "audience": K.audience,
    "subtypes": K.subtype,
    "life_events": K.lifeEvent,
    "trigger": K.trigger,
    "channels": K.channel,
    "offices": K.inPersonOffices,
    "counter_offices": K.counterOfficeCount,
    "e_level": K.electronicLevel,
    "in_person_reason": K.inPersonReason,
    "annual_recipients": K.annualRecipients,
    "scope": K.scope,
    "frequency": K.frequency,
    "duration_days": K.durationDays,
    "direct_cost": K.directCost,
    "full_cost": K.fullCost,
    "inter_agency": K.declaredInterAgency,
    "authentication": K.authentication,
    "benefits": K.benefits,
    "problems": K.problems,
    "conditions": K.conditions,
    "provider_unit": K.providerUnit,
    "referral_place": K.referralPlace,
    "response_place": K.responsePlace,
    "average_time": K.averageTime,
    "counter_actions": K.counterActions,
    "tariff": K.tariff,
    "steps": K.steps,
    "start_electronic": K.startElectronic,
    "production_electronic": K.productionElectronic,
    "delivery_electronic": K.deliveryElectronic,
    "system": K.system,
    "office_automation": K.officeAutomationOnly,
    "smart_level": K.maturityLevel,
    "general_unit": K.generalUnit,
    "verified_on": K.verifiedOn,
}
PUBLIC_SERVICE = NamedNode(CPSV + "PublicService")
INQUIRY_CLASS = {KHC + "inquiry-instant": K.InstantInquiry, KHC + "inquiry-process": K.ProcessInquiry}
UNIT_CLASS = {"agency-kind-provincial-unit": K.ProvincialUnit, "agency-kind-county-unit": K.CountyUnit}


@dataclass
class ServiceEntry:
    """A service node of the submission and the rows that name it."""

    iri: NamedNode
    graph: NamedNode  # where its card (or, without a card here, its first row) is written
    rows: list[tuple[Row, Agency]] = field(default_factory=list)
    primary: tuple[Row, Agency] | None = None


class Mapper:
    """Turns the parsed sheets of one submission into the content of its named graphs."""

    def __init__(
        self, minter: Minter, registry: Registry, sink: ErrorSink, progress: Progress | None
    ) -> None:
        self.minter = minter
        self.reg = registry
        self.sink = sink
        self.progress = progress
        self.graphs: dict[NamedNode, list[Triple]] = {}
        self.listed_agencies: set[str] = set()  # keys of agencies with a row in an agencies sheet
        self.services: dict[str, ServiceEntry] = {}  # by IRI
        self.by_service_id: dict[str, list[ServiceEntry]] = {}

    # helpers -------------------------------------------------------------------------
    def _out(self, graph: NamedNode) -> list[Triple]:
        triples = self.graphs.get(graph)
        if triples is None:
            triples = self.graphs[graph] = []
        return triples

    def _agency_ref(self, row: Row, spec: SheetSpec, key: str) -> Agency | None:
        code = row.values.get(key)
        if code is None:
            return None
        agency = self.reg.agency(code)
        if agency is None:
            self.sink.cell(
                row, spec.column(key), "the code of an agency in the agencies sheet or already loaded", code
            )
        return agency

    def _legal_refs(self, row: Row, spec: SheetSpec, key: str) -> list[NamedNode]:
        nodes = []
        for reference in row.values.get(key, []):
            try:
                node = self.reg.legal_node(reference)
            except ValueError:
                self.sink.cell(
                    row,
                    spec.column(key),
                    "a legal reference CODE, CODE:ARTICLE or CODE:ARTICLE:PART",
                    reference,
                )
                continue
            if node is None:
                self.sink.cell(
                    row,
                    spec.column(key),
                    "a legal reference to an instrument, article or part of the built-in corpus, "
                    "the laws sheet "
                    "or an earlier submission",
                    reference,
                )
            else:
                nodes.append(node)
        return nodes

    def _first_code(self, row: Row, spec: SheetSpec, seen: dict[str, Row], what: str) -> str | None:
        """The row's code as a key, or None when it has none or an earlier row has it (reported).

        Keys are normalized so that Arabic/Persian letter and digit variants of one code are
        caught as the repeat they are; the caller records the row in `seen` once it accepts it.
        """
        code = row.values.get("code")
        if code is None:
            return None
        key = normalize_key(code)
        first = seen.get(key)
        if first is not None:
            self.sink.cell(
                row,
                spec.column("code"),
                f"a unique {what} code; already on row {first.number} of {first.file}",
                code,
            )
            return None
        return key

    def _tick(self, stage: str, done: int, total: int) -> None:
        if self.progress and (done % 5000 == 0 or done == total):
            self.progress(stage, done, total)

    # agencies ------------------------------------------------------------------------
    def register_agencies(self, sheets: Iterable[ParsedSheet]) -> list[tuple[Row, Agency]]:
        """First pass: every agency code of the submission, so that parents may come later."""
        seen: dict[str, Row] = {}
        registered = []
        for sheet in sheets:
            for row in sheet.rows:
                key = self._first_code(row, AGENCIES, seen, "agency")
                if key is None:
                    continue
                seen[key] = row
                code = row.values["code"]
                kind = row.values.get("kind")
                is_unit = kind is not None and kind.value[len(KHC) :] in UNIT_KINDS
                parent = row.values.get("parent")
                agency = self.reg.add_agency(code, normalize_key(parent) if parent else None, is_unit)
                self.listed_agencies.add(key)
                registered.append((row, agency))
        for row, agency in registered:  # once all are known: a scope check follows the parents
            self._owns(row, AGENCIES, "code", agency.graph, agency=agency.code)
            self.reg.claim(agency.graph, "agency")
        return registered

    def write_agencies(self, registered: list[tuple[Row, Agency]]) -> None:
        for row, agency in registered:
            parent = self._agency_ref(row, AGENCIES, "parent")
            if agency.is_unit and row.values.get("parent") is None:
                self.sink.cell(
                    row,
                    AGENCIES.column("parent"),
                    "the code of the agency this provincial or county unit belongs to",
                )
            if parent is not None and self._cycle(agency):
                self.sink.cell(
                    row,
                    AGENCIES.column("parent"),
                    "a parent that is not the agency itself or one of its units",
                    row.values.get("parent"),
                )
            self._out(agency.graph).extend(self._agency_triples(row, agency, parent))

    @staticmethod
    def _agency_triples(row: Row, agency: Agency, parent: Agency | None) -> list[Triple]:
        s, values = agency.iri, row.values
        kind = values.get("kind")
        types = [K.ExecutiveAgency]
        if agency.is_unit and kind is not None:
            types += [K.AgencyUnit, UNIT_CLASS[kind.value[len(KHC) :]]]
        out = [Triple(s, V.TYPE, t) for t in types]
        out += [
            Triple(s, K.agencyCode, V.string(agency.code)),
            Triple(s, K.normalizedCode, V.string(normalize_key(agency.code))),
            Triple(s, K.sourceRow, V.string(row.source)),
        ]
        if "name" in values:
            out.append(Triple(s, V.PREF_LABEL, V.fa(values["name"])))
        if kind is not None:
            out.append(Triple(s, K.agencyKind, kind))
        if parent is not None:
            out.append(Triple(s, V.SUB_ORG, parent.iri))
            out.append(Triple(s, V.UNIT_OF if agency.is_unit else K.affiliateOf, parent.iri))
        for key, predicate in (("province", K.province), ("county", K.county)):
            if key in values:
                out.append(Triple(s, predicate, V.string(values[key])))
        if "website" in values:
            out.append(Triple(s, V.HOMEPAGE, values["website"]))
        return out

    def _cycle(self, agency: Agency) -> bool:
        key, seen = agency.parent, {normalize_key(agency.code)}
        while key is not None:
            if key in seen:
                return True
            seen.add(key)
            parent = self.reg.agencies.get(key)
            key = parent.parent if parent else None
        return False

    # laws ----------------------------------------------------------------------------
    def write_laws(self, sheets: Iterable[ParsedSheet]) -> set[str]:
        """Instruments, articles and parts of the laws sheets; returns the IRIs they define."""
        defined: set[str] = set()
        first_rows: dict[str, Row] = {}
        seen_nodes: dict[str, Row] = {}
        corpus = self.reg.minter.corpus_graph
        for sheet in sheets:
            for row in sheet.rows:
                code = row.values.get("code")
                if code is None:
                    continue
                key = normalize_key(code)
                article, part = row.values.get("article"), row.values.get("part")
                node = self._law_node(code, article, part, row)
                if node is None:
                    continue
                if self.reg.snapshot.legal.get(self.minter.law(code).value) == corpus:
                    # A built-in instrument: a row may restate what the corpus holds, nothing more.
                    if self.reg.snapshot.legal.get(node.value) != corpus:
                        self.sink.cell(
                            row,
                            LAWS.column("article" if article else "code"),
                            f"a code of your own: {code} is a built-in instrument and this article or "
                            "part is not in the built-in corpus",
                            article or code,
                        )
                    continue
                if node.value in seen_nodes:
                    other = seen_nodes[node.value]
                    self.sink.cell(
                        row,
                        LAWS.column("part" if part else "article" if article else "code"),
                        f"one row per instrument, article or part; already on row {other.number}",
                        part or article or code,
                    )
                    continue
                seen_nodes[node.value] = row
                is_first = key not in first_rows
                if is_first:
                    first_rows[key] = row
                    if "title" not in row.values:
                        self.sink.cell(
                            row, LAWS.column("title"), "the title of the instrument on its first row"
                        )
                if is_first:
                    self._owns(row, LAWS, "code", self.minter.law_graph(code), law=code)
                self.reg.replace(self.minter.law_graph(code))
                defined.add(node.value)
                defined.add(self.minter.law(code).value)
                self._write_law_row(code, article, part, row, instrument_row=article is None or is_first)
                if article is not None:
                    defined.add(self.minter.article(code, article).value)
        return defined

    def _law_node(self, code: str, article: str | None, part: str | None, row: Row) -> NamedNode | None:
        if part is not None and article is None:
            self.sink.cell(row, LAWS.column("article"), "the article number of this note or clause", None)
            return None
        if part is not None:
            return self.minter.article_part(code, article or "", part)
        if article is not None:
            return self.minter.article(code, article)
        return self.minter.law(code)

    def _write_law_row(
        self, code: str, article: str | None, part: str | None, row: Row, instrument_row: bool
    ) -> None:
        out = self._out(self.minter.law_graph(code))
        law = self.minter.law(code)
        values = row.values
        if instrument_row:
            out += [Triple(law, V.TYPE, K.LegalInstrument), Triple(law, K.legalCode, V.string(code))]
            if "title" in values:
                out.append(Triple(law, V.TITLE, V.fa(values["title"])))
            if "kind" in values:
                out.append(Triple(law, K.lawKind, values["kind"]))
            if "authority" in values:
                out.append(Triple(law, K.approvedBy, V.fa(values["authority"])))
            if "number" in values:
                out.append(Triple(law, K.instrumentNumber, V.string(values["number"])))
            if "date" in values:
                out.append(Triple(law, V.DATE_DOCUMENT, V.typed(values["date"])))
        if article is None:
            out.append(Triple(law, K.sourceRow, V.string(row.source)))
            if "text" in values:
                out.append(Triple(law, K.text, V.fa(values["text"])))
            return
        art = self.minter.article(code, article)
        out += [
            Triple(art, V.TYPE, K.Article),
            Triple(art, K.articleNumber, V.string(normalize_text(article))),
            Triple(law, V.HAS_PART, art),
            Triple(art, V.IS_PART_OF, law),
        ]
        target = art
        if part is not None:
            target = self.minter.article_part(code, article, part)
            out += [
                Triple(target, V.TYPE, K.ArticlePart),
                Triple(target, K.partLabel, V.fa(part)),
                Triple(art, V.HAS_PART, target),
                Triple(target, V.IS_PART_OF, art),
            ]
        out.append(Triple(target, K.sourceRow, V.string(row.source)))
        if "text" in values:
            out.append(Triple(target, K.text, V.fa(values["text"])))

    # which graphs the submission replaces ----------------------------------------------
    def claim_graphs(
        self,
        missions: Iterable[ParsedSheet],
        services: Iterable[ParsedSheet],
        licenses: Iterable[ParsedSheet],
    ) -> None:
        """Every agency with a mission, service or license row gets that part of its graph replaced,
        if the one ownership rule lets the submission write that graph (see `_owns`)."""
        checked: set[str] = set()
        specs = {"missions": MISSIONS, "services": SERVICES, "licenses": LICENSES}
        for sheets, section in ((missions, "missions"), (services, "services"), (licenses, "licenses")):
            for sheet in sheets:
                for row in sheet.rows:
                    code = row.values.get("agency")
                    agency = self.reg.agency(code) if code else None
                    if agency is None:
                        continue
                    if agency.graph.value not in checked:
                        checked.add(agency.graph.value)
                        self._owns(row, specs[section], "agency", agency.graph, agency=agency.code)
                    self.reg.claim(agency.graph, section)

    def _owns(
        self,
        row: Row,
        spec: SheetSpec,
        column: str,
        graph: NamedNode,
        agency: str | None = None,
        law: str | None = None,
    ) -> bool:
        """Whether the submission may write `graph` for the agency or law of this row: the same
        rule as for RDF files (resolve.Ownership); a refusal is reported on the row's cell."""
        owner = self.reg.ownership.graph_owner(graph, [agency] if agency else [], [law] if law else [])
        if isinstance(owner, str):
            self.sink.cell(row, spec.column(column), owner, row.values.get(column))
            return False
        return True

    # missions ------------------------------------------------------------------------
    def register_missions(self, sheets: Iterable[ParsedSheet]) -> dict[str, Row]:
        """The first row of every mission code (duplicates are errors)."""
        found: dict[str, Row] = {}
        for sheet in sheets:
            for row in sheet.rows:
                key = self._first_code(row, MISSIONS, found, "mission")
                if key is None:
                    continue
                code = row.values["code"]
                stored = self.reg.snapshot.missions.get(key)
                if stored is not None and self.reg.kept(stored[2], "missions"):
                    self.sink.cell(
                        row,
                        MISSIONS.column("code"),
                        "a unique mission code; it is already loaded for another agency",
                        code,
                    )
                    continue
                found[key] = row
        return found

    def write_missions(self, sheets: Iterable[ParsedSheet], registered: dict[str, Row]) -> None:
        for sheet in sheets:
            for row in sheet.rows:
                code = row.values.get("code")
                agency = self._agency_ref(row, MISSIONS, "agency")
                laws = self._legal_refs(row, MISSIONS, "legal_basis")
                if code is None or agency is None or registered.get(normalize_key(code)) is not row:
                    continue
                mission = self.minter.mission(code)
                out = self._out(agency.graph)
                out += [
                    Triple(mission, V.TYPE, K.Mission),
                    Triple(mission, K.missionCode, V.string(code)),
                    Triple(mission, K.missionOf, agency.iri),
                    Triple(mission, K.sourceRow, V.string(row.source)),
                ]
                if "title" in row.values:
                    out.append(Triple(mission, V.TITLE, V.fa(row.values["title"])))
                out += [Triple(mission, K.legalBasis, law) for law in laws]

    # services ------------------------------------------------------------------------
    def plan_services(self, sheets: Iterable[ParsedSheet]) -> None:
        """Give every row its node: by service ID under its owner, or by title; pick each card's row."""
        seen_ids: dict[tuple[str, str], Row] = {}
        ordinals: dict[tuple[str, str], int] = {}
        for sheet in sheets:
            for row in sheet.rows:
                agency = self._agency_ref(row, SERVICES, "agency")
                title = row.values.get("title")
                if agency is None or title is None:
                    continue
                akey, sid = normalize_key(agency.code), row.values.get("service_id")
                if sid is not None:
                    if (akey, sid) in seen_ids:
                        first = seen_ids[(akey, sid)]
                        self.sink.cell(
                            row,
                            SERVICES.column("service_id"),
                            f"a service ID used once per agency; already on row {first.number} "
                            f"of {first.file}",
                            sid,
                        )
                        continue
                    seen_ids[(akey, sid)] = row
                    iri = self.minter.service(self.reg.owner(agency).code, sid)
                else:
                    norm = normalize_text(title)
                    ordinals[(akey, norm)] = ordinal = ordinals.get((akey, norm), 0) + 1
                    iri = self.minter.unidentified_item(agency.code, norm, ordinal)
                entry = self.services.get(iri.value)
                if entry is None:
                    entry = self.services[iri.value] = ServiceEntry(iri, agency.graph)
                    if sid is not None:
                        self.by_service_id.setdefault(sid, []).append(entry)
                entry.rows.append((row, agency))
        for entry in self.services.values():
            self._choose_primary(entry)

    def _choose_primary(self, entry: ServiceEntry) -> None:
        own = next((ra for ra in entry.rows if not ra[1].is_unit), None)
        if own is None and self.reg.stored_service_graph(entry.iri.value) is not None:
            return  # the owner's card is already loaded: the units' rows add their delivery
        entry.primary = own or entry.rows[0]
        entry.graph = entry.primary[1].graph

    def write_services(self) -> None:
        total, done = sum(len(e.rows) for e in self.services.values()), 0
        for entry in self.services.values():
            for row, agency in entry.rows:
                missions = self._missions(row)
                laws = self._legal_refs(row, SERVICES, "legal_basis")
                out = self._out(agency.graph)
                if entry.primary is not None and entry.primary[0] is row:
                    self._write_card(out, entry.iri, row, agency, missions, laws)
                else:
                    out.append(Triple(entry.iri, K.deliveredBy, agency.iri))
                    out.append(Triple(entry.iri, K.sourceRow, V.string(row.source)))
                done += 1
                self._tick("mapping services", done, total)

    def _missions(self, row: Row) -> list[NamedNode]:
        found = []
        for code in row.values.get("missions", []):
            mission = self.reg.mission(code)
            if mission is None:
                self.sink.cell(
                    row,
                    SERVICES.column("missions"),
                    "the code of a mission in the missions sheet or already loaded",
                    code,
                )
            else:
                found.append(mission)
        return found

    def _write_card(
        self,
        out: list[Triple],
        s: NamedNode,
        row: Row,
        agency: Agency,
        missions: list[NamedNode],
        laws: list[NamedNode],
    ) -> None:
        values = row.values
        title = values["title"]
        norm = normalize_text(title)
        kind = K.Task if values.get("item_kind") == "Task" else K.Service
        out += [
            Triple(s, V.TYPE, kind),
            Triple(s, V.TYPE, K.CardItem),
            Triple(s, V.TITLE, V.fa(title)),
            Triple(s, K.normalizedTitle, V.string(norm)),
            Triple(s, K.provider, agency.iri),
            Triple(s, K.sourceRow, V.string(row.source)),
        ]
        tokens = title_tokens(title)
        out += [Triple(s, K.titleToken, V.string(token)) for token in tokens]
        out.append(Triple(s, K.titleKey, V.string(title_key(tokens))))  # issue 4: duplicate candidates
        out += [Triple(s, K.titleSubKey, V.string(key)) for key in title_subkeys(tokens)]
        if agency.is_unit:
            out.append(Triple(s, K.deliveredBy, agency.iri))
        if "service_id" in values:
            out.append(Triple(s, K.serviceId, V.string(values["service_id"])))
        if "parent_service" in values:
            pid = values["parent_service"]
            out.append(Triple(s, K.parentServiceId, V.string(pid)))
            parent = self._parent_service(agency, pid)
            if parent is not None:
                out.append(Triple(s, K.parentService, parent))
        for key, predicate in SERVICE_COLUMNS.items():
            value = values.get(key)
            if value is None:
                continue
            if isinstance(value, list):
                out += [Triple(s, predicate, V.typed(v)) for v in value]
            else:
                out.append(Triple(s, predicate, V.typed(value)))
        if "bank_account" in values:
            out.append(Triple(s, K.bankAccount, V.string(values["bank_account"])))
        out += [Triple(s, K.realizesMission, m) for m in missions]
        out += [Triple(s, K.legalBasis, law) for law in laws]
        for n, document in enumerate(values.get("documents", []), start=1):
            evidence = self.minter.evidence(s, n)
            out += [
                Triple(s, K.requiresEvidence, evidence),
                Triple(evidence, V.TYPE, K.Evidence),
                Triple(evidence, V.TITLE, V.fa(document)),
            ]

    def _parent_service(self, agency: Agency, pid: str) -> NamedNode | None:
        """The parent by ID: under the same owner first, else the one service anywhere with that ID."""
        same_owner = self.minter.service(self.reg.owner(agency).code, pid)
        if same_owner.value in self.services or self.reg.stored_service_graph(same_owner.value):
            return same_owner
        candidates = {e.iri.value for e in self.by_service_id.get(pid, [])}
        candidates |= {
            i for i in self.reg.snapshot.services_by_id.get(pid, []) if self.reg.stored_service_graph(i)
        }
        return NamedNode(candidates.pop()) if len(candidates) == 1 else None

    # inquiries, licenses, counters ------------------------------------------------------
    def _services_for(self, row: Row, spec: SheetSpec) -> list[ServiceEntry]:
        sid = row.values.get("service_id")
        if sid is None:
            return []
        entries = self.by_service_id.get(sid, [])
        if not entries:
            self.sink.cell(
                row,
                spec.column("service_id"),
                "the service ID of a service in this submission's services sheet",
                sid,
            )
        return entries

    def write_inquiries(self, sheets: Iterable[ParsedSheet]) -> None:
        counts: dict[str, int] = {}
        for sheet in sheets:
            for row in sheet.rows:
                entries = self._services_for(row, INQUIRIES)
                agency = self._agency_ref(row, INQUIRIES, "agency")
                if agency is None or "title" not in row.values:
                    continue
                kind = row.values.get("kind")
                for entry in entries:
                    counts[entry.iri.value] = n = counts.get(entry.iri.value, 0) + 1
                    q = self.minter.inquiry(entry.iri, n)
                    out = self._out(entry.graph)
                    out += [
                        Triple(q, V.TYPE, K.Inquiry),
                        Triple(q, K.inquiryOf, entry.iri),
                        Triple(q, V.TITLE, V.fa(row.values["title"])),
                        Triple(q, K.answeredBy, agency.iri),
                        Triple(q, K.sourceRow, V.string(row.source)),
                    ]
                    if kind is not None:
                        out += [
                            Triple(q, K.inquiryKind, kind),
                            Triple(q, V.TYPE, INQUIRY_CLASS.get(kind.value, K.Inquiry)),
                        ]

    def write_licenses(self, sheets: Iterable[ParsedSheet]) -> None:
        seen: dict[str, Row] = {}
        for sheet in sheets:
            for row in sheet.rows:
                code = row.values.get("code")
                agency = self._agency_ref(row, LICENSES, "agency")
                if code is None:
                    continue
                key = normalize_key(code)
                stored = self.reg.snapshot.licenses.get(key)
                if key in seen or (stored is not None and self.reg.kept(stored, "licenses")):
                    where = (
                        f"row {seen[key].number} of {seen[key].file}"
                        if key in seen
                        else "another agency's data"
                    )
                    self.sink.cell(
                        row, LICENSES.column("code"), f"a unique license code; already in {where}", code
                    )
                    continue
                seen[key] = row
                if agency is None or "title" not in row.values:
                    continue
                lic = self.minter.license(code)
                out = self._out(agency.graph)
                out += [
                    Triple(lic, V.TYPE, K.License),
                    Triple(lic, K.licenseCode, V.string(code)),
                    Triple(lic, V.TITLE, V.fa(row.values["title"])),
                    Triple(lic, K.issuedBy, agency.iri),
                    Triple(lic, K.sourceRow, V.string(row.source)),
                ]
                if "service_id" in row.values:
                    out.append(Triple(lic, K.licenseServiceId, V.string(row.values["service_id"])))

    def write_counters(self, sheets: Iterable[ParsedSheet]) -> None:
        offices: dict[str, tuple[Row, tuple]] = {}
        delegations: dict[tuple[str, str], Row] = {}
        written: set[tuple[str, str]] = set()
        for sheet in sheets:
            for row in sheet.rows:
                entries = self._services_for(row, COUNTERS)
                code = row.values.get("office_code")
                if code is None:
                    continue
                key = normalize_key(code)
                details = tuple(row.values.get(k) for k in ("office_name", "province", "county", "address"))
                first = offices.setdefault(key, (row, details))
                if first[1] != details:
                    self.sink.cell(
                        row,
                        COUNTERS.column("office_code"),
                        f"one name, province, county and address per office code; row {first[0].number} "
                        "gives other ones",
                        code,
                    )
                    continue
                for entry in entries:
                    if (entry.iri.value, key) in delegations:
                        self.sink.cell(
                            row,
                            COUNTERS.column("office_code"),
                            f"each service delegated once to an office; already on row "
                            f"{delegations[(entry.iri.value, key)].number}",
                            code,
                        )
                        continue
                    delegations[(entry.iri.value, key)] = row
                    self._write_delegation(entry, code, row, written)

    def _write_delegation(
        self, entry: ServiceEntry, code: str, row: Row, written: set[tuple[str, str]]
    ) -> None:
        out = self._out(entry.graph)
        office = self.minter.counter_office(code)
        if (entry.graph.value, office.value) not in written:
            written.add((entry.graph.value, office.value))
            out += [Triple(office, V.TYPE, K.CounterOffice), Triple(office, K.officeCode, V.string(code))]
            for key, predicate, make in (
                ("office_name", V.PREF_LABEL, V.fa),
                ("province", K.province, V.string),
                ("county", K.county, V.string),
                ("address", K.address, V.fa),
            ):
                if key in row.values:
                    out.append(Triple(office, predicate, make(row.values[key])))
        delegation = self.minter.delegation(entry.iri, code)
        out += [
            Triple(delegation, V.TYPE, K.Delegation),
            Triple(delegation, K.delegatedService, entry.iri),
            Triple(delegation, K.counterOffice, office),
            Triple(entry.iri, K.delegation, delegation),
            Triple(delegation, K.sourceRow, V.string(row.source)),
        ]
