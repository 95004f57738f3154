"""SHACL validation on the store (issue 3).

`validate()` runs the shapes of shapes/*.ttl, compiled to SPARQL (khadamat.validation.compiler),
on the whole store, on one agency (with its affiliates), or on a submission that is not loaded
yet: the submission's graphs are validated together with what the store holds, in an in-memory
copy, so that nothing is written before the auditor has seen the findings.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import NamedNode

from khadamat.namespaces import KH, ORG
from khadamat.store import Store
from khadamat.validation.engine import Finding, LegalSource, Validator, scope_subjects
from khadamat.validation.enrich import Details, enrich, rdf_file_text
from khadamat.validation.report import Report
from khadamat.validation.sandbox import overlay

if TYPE_CHECKING:
    from khadamat.loader import Submission


class UnknownAgency(ValueError):
    """The agency code names no agency in the store."""


def agency_scope(store: Store, code: str, with_affiliates: bool = False) -> list[NamedNode]:
    """The named graphs of an agency, and of every agency below it when `with_affiliates`."""
    agency = store.minter.agency(code)
    if not store.ask(f"ASK {{ {agency} <{KH}agencyCode> ?code }}"):
        raise UnknownAgency(f"no agency with code '{code}' in the store")
    graphs = {store.minter.agency_graph(code)}
    if with_affiliates:
        rows = store.select(
            f"SELECT DISTINCT ?code WHERE {{ ?child <{ORG}subOrganizationOf>+ {agency} ; "
            f"<{KH}agencyCode> ?code }}"
        )
        graphs |= {store.minter.agency_graph(r["code"].value) for r in rows}
    return sorted(graphs, key=str)


def validate(
    store: Store,
    *,
    agency: str | None = None,
    with_affiliates: bool = False,
    submission: Submission | None = None,
    on_date: dt.date | None = None,
    details_of: Details = "item",
    workers: int | None = None,
) -> Report:
    """Validate the store, one agency's graphs, or a submission with the store as its context.

    `details_of="agency"` leaves out each finding's title, service ID and source (see `enrich`);
    `workers` caps how many queries run at once (default: one per core, at most 4)."""
    day = on_date or dt.date.today()
    if submission is None:
        return _validate(
            store, agency, with_affiliates, None, day, "store", details_of=details_of, workers=workers
        )
    with overlay(store, submission) as sandbox:
        description = "submission: " + ", ".join(str(p) for p in submission.sources)
        report = _validate(
            sandbox,
            agency,
            with_affiliates,
            list(submission.graphs),
            day,
            description,
            _rdf_files(submission),
            workers=workers,
        )
    report.notices = [str(n) for n in submission.notices]
    return report


def _rdf_files(submission: Submission) -> dict[NamedNode, str]:
    """The submission's graphs → "RDF file X" when it has RDF files (a sandbox has no provenance
    yet); a node read from a workbook row still names its row (kh:sourceRow)."""
    from khadamat.loader.rdf_files import rdf_format

    names = sorted({Path(p).name for p in submission.sources if rdf_format(Path(p)) is not None})
    return {graph: rdf_file_text(names) for graph in submission.graphs} if names else {}


def _validate(
    store: Store,
    agency: str | None,
    with_affiliates: bool,
    scope_graphs: list[NamedNode] | None,
    day: dt.date,
    description: str,
    rdf_files: dict[NamedNode, str] | None = None,
    *,
    details_of: Details = "item",
    workers: int | None = None,
) -> Report:
    """Run the shapes on `store`, on the subjects of `scope_graphs` (∩ the agency's) if given."""
    if agency is not None:
        agency_graphs = agency_scope(store, agency, with_affiliates)
        scope_graphs = (
            agency_graphs if scope_graphs is None else [g for g in scope_graphs if g in agency_graphs]
        )
        description = f"agency {agency}" + (" with affiliates" if with_affiliates else "")
    validator = Validator(store)
    scope = scope_subjects(store, scope_graphs) if scope_graphs is not None else None
    found = validator.run(scope, day, workers)
    findings = enrich(store, validator.graph, found, rdf_files, details_of=details_of)
    return Report(findings, day, validator.graph, description, minter=store.minter)


__all__ = ["Finding", "LegalSource", "Report", "UnknownAgency", "Validator", "validate"]
