"""The validation report: SHACL's sh:ValidationReport, JSON, CSV, a per-agency summary.

Turtle is the standard report any SHACL tool reads; JSON and CSV carry, besides the SHACL result,
the service ID, the agency and the legal source (instrument, article, part) so that an auditor
or the evaluation report can group findings without a second query.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple

from khadamat.jalali import to_jalali
from khadamat.namespaces import DCT, PREFIXES, RDF, RDFS, SH, SKOS, XSD
from khadamat.output import csv_text, plain
from khadamat.validation.engine import Finding
from khadamat.validation.graph import TripleIndex
from khadamat.validation.paths import compact

SEVERITY_ORDER = {"Info": 0, "Warning": 1, "Violation": 2}
CSV_COLUMNS = (
    "agency",
    "agency_name",
    "service_id",
    "title",
    "source_file",
    "source_sheet",
    "source_row",
    "focus_node",
    "severity",
    "rule",
    "path",
    "value",
    "instrument",
    "article",
    "part",
    "message_fa",
    "message_en",
    "source_shape",
    "constraint",
)


def severity_name(node: NamedNode) -> str:
    return node.value.removeprefix(SH)


def rule_name(shape: Any) -> str:
    """The shape's local name (khsh:CardTitleShape → CardTitleShape), the 'rule' people read."""
    text = shape.value if isinstance(shape, NamedNode) else f"_:{shape.value}"
    return text.rsplit("#", 1)[-1]


def message(finding: Finding, lang: str) -> str:
    return (
        finding.messages.get(lang) or finding.messages.get("en") or next(iter(finding.messages.values()), "")
    )


RDF_FILE = "RDF file "


def source_parts(source: str | None) -> tuple[str | None, str | None, int | None]:
    """(file, sheet, row) of a finding's source: "file#sheet!row" (kh:sourceRow) or "RDF file X"."""
    if not source:
        return None, None, None
    if source.startswith(RDF_FILE):
        return source.removeprefix(RDF_FILE), None, None
    file, hash_sign, rest = source.rpartition("#")
    sheet, bang, row = rest.rpartition("!")
    if not hash_sign or not bang or not row.isdigit():
        return source, None, None
    return file, sheet, int(row)


def _term_text(term: Any) -> str | None:
    if term is None:
        return None
    value = plain(term)
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class Report:
    """All findings of one validation run (docs/architecture.md, 'Module APIs')."""

    findings: list[Finding]
    on_date: dt.date
    shapes_graph: TripleIndex | None = None
    scope: str = "store"
    extra: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # what the submission's loader skipped, said
    minter: Any = None  # khadamat.iris.Minter of the store: agency IRIs in the Turtle report

    @property
    def conforms(self) -> bool:
        """SHACL's sh:conforms: true only when there is no result at all, whatever its severity."""
        return not self.findings

    def sorted(self) -> list[Finding]:
        return sorted(
            self.findings,
            key=lambda f: (
                f.agency or "",
                -SEVERITY_ORDER.get(severity_name(f.severity), 0),
                rule_name(f.shape),
                str(f.focus),
                f.path.text() if f.path else "",
            ),
        )

    def at_least(self, severity: str) -> list[Finding]:
        """Findings at or above a severity ('violation', 'warning' or 'info')."""
        floor = SEVERITY_ORDER[severity.capitalize()]
        return [f for f in self.findings if SEVERITY_ORDER.get(severity_name(f.severity), 2) >= floor]

    # JSON -------------------------------------------------------------------------------
    def finding_dict(self, finding: Finding, lang: str = "fa") -> dict[str, Any]:
        legal = finding.legal
        return {
            "focusNode": _term_text(finding.focus),
            "serviceId": finding.service_id,
            "title": finding.title,
            "agency": finding.agency,
            "agencyName": finding.agency_name,
            "source": None
            if finding.source is None
            else dict(zip(("file", "sheet", "row"), source_parts(finding.source), strict=True))
            | {"text": finding.source},
            "sourceShape": _term_text(finding.shape),
            "rule": rule_name(finding.shape),
            "constraint": compact(finding.component),
            "path": finding.path.text() if finding.path else None,
            "value": _term_text(finding.value),
            "severity": severity_name(finding.severity),
            "message": message(finding, lang),
            "messages": {"fa": message(finding, "fa"), "en": message(finding, "en")},
            "legalSource": None
            if legal is None
            else {
                "node": legal.node.value,
                "instrument": legal.instrument,
                "article": legal.article,
                "part": legal.part,
                "label": legal.labels.get(lang) or legal.labels.get("fa"),
            },
        }

    def to_json(self, lang: str = "fa") -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "validationDate": self.on_date.isoformat(),
            "validationDateJalali": to_jalali(self.on_date, persian_digits=False),
            "scope": self.scope,
            "notices": self.notices,
            "findings": [self.finding_dict(f, lang) for f in self.sorted()],
            "summary": self.summary(),
        }

    # CSV --------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        out = []
        for f in self.sorted():
            item = self.finding_dict(f)
            legal = item["legalSource"] or {}
            source = item["source"] or {}
            out.append(
                {
                    "agency": item["agency"],
                    "agency_name": item["agencyName"],
                    "service_id": item["serviceId"],
                    "title": item["title"],
                    "source_file": source.get("file"),
                    "source_sheet": source.get("sheet"),
                    "source_row": source.get("row"),
                    "focus_node": item["focusNode"],
                    "severity": item["severity"],
                    "rule": item["rule"],
                    "path": item["path"],
                    "value": item["value"],
                    "instrument": legal.get("instrument"),
                    "article": legal.get("article"),
                    "part": legal.get("part"),
                    "message_fa": item["messages"]["fa"],
                    "message_en": item["messages"]["en"],
                    "source_shape": item["sourceShape"],
                    "constraint": item["constraint"],
                }
            )
        return out

    def to_csv(self) -> str:
        return csv_text(self.rows(), CSV_COLUMNS)

    # Summary ----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Per agency: findings by severity and by rule (used by the evaluation report)."""
        by_agency: dict[str, dict[str, Counter]] = defaultdict(
            lambda: {"severity": Counter(), "rule": Counter()}
        )
        for f in self.findings:
            entry = by_agency[f.agency or ""]
            entry["severity"][severity_name(f.severity)] += 1
            entry["rule"][rule_name(f.shape)] += 1
        return {
            agency: {
                "total": sum(entry["severity"].values()),
                "bySeverity": dict(sorted(entry["severity"].items())),
                "byRule": dict(sorted(entry["rule"].items())),
            }
            for agency, entry in sorted(by_agency.items())
        }

    # Turtle -----------------------------------------------------------------------------
    def triples(self) -> list[Triple]:
        """The report as a standard sh:ValidationReport graph."""

        def sh(local: str) -> NamedNode:
            return NamedNode(SH + local)

        report = BlankNode()
        triples = [
            Triple(report, NamedNode(RDF + "type"), sh("ValidationReport")),
            Triple(
                report,
                sh("conforms"),
                Literal(str(self.conforms).lower(), datatype=NamedNode(XSD + "boolean")),
            ),
        ]
        copied: set[Any] = set()
        for f in self.sorted():
            result = BlankNode()
            triples += [
                Triple(report, sh("result"), result),
                Triple(result, NamedNode(RDF + "type"), sh("ValidationResult")),
                Triple(result, sh("focusNode"), f.focus),
                Triple(result, sh("sourceShape"), f.shape),
                Triple(result, sh("sourceConstraintComponent"), f.component),
                Triple(result, sh("resultSeverity"), f.severity),
            ]
            if f.path_node is not None:
                triples.append(Triple(result, sh("resultPath"), f.path_node))
                if isinstance(f.path_node, BlankNode) and f.path_node not in copied and self.shapes_graph:
                    copied.add(f.path_node)
                    triples += self.shapes_graph.closure(f.path_node)
            if f.value is not None:
                triples.append(Triple(result, sh("value"), f.value))
            for lang, text in sorted(f.messages.items()):
                triples.append(Triple(result, sh("resultMessage"), Literal(text, language=lang or None)))
            if f.legal is not None:
                triples.append(Triple(result, NamedNode(RDFS + "seeAlso"), f.legal.node))
            triples += self._item_triples(result, f)
        return triples

    def _item_triples(self, result: BlankNode, f: Finding) -> list[Triple]:
        """Where the auditor finds the item, as extra properties of the sh:ValidationResult:
        dct:title (the item's title), dct:identifier (its service ID), dct:publisher (its
        agency, named by skos:prefLabel), dct:source ("file#sheet!row" or "RDF file X")."""
        out = []
        if f.title is not None:
            out.append(Triple(result, NamedNode(DCT + "title"), Literal(f.title, language="fa")))
        if f.service_id is not None:
            out.append(Triple(result, NamedNode(DCT + "identifier"), Literal(f.service_id)))
        if f.agency is not None:
            agency = self.agency_node(f.agency)
            out.append(Triple(result, NamedNode(DCT + "publisher"), agency))
            if f.agency_name is not None:
                out.append(
                    Triple(agency, NamedNode(SKOS + "prefLabel"), Literal(f.agency_name, language="fa"))
                )
        if f.source is not None:
            out.append(Triple(result, NamedNode(DCT + "source"), Literal(f.source)))
        return out

    def agency_node(self, code: str) -> NamedNode:
        from khadamat.config import DEFAULT_BASE
        from khadamat.iris import Minter

        return (self.minter or Minter(DEFAULT_BASE)).agency(code)

    def to_turtle(self) -> str:
        data = ox.serialize(self.triples(), format=RdfFormat.TURTLE, prefixes=dict(PREFIXES)) or b""
        return data.decode("utf-8")

    def to_html(self, lang: str = "fa") -> str:
        from khadamat.validation.html import render_html

        return render_html(self, lang)
