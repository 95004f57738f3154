"""A submission: every file handed over in one `khadamat load`, read, resolved and mapped.

`build_submission` writes nothing: it returns the new content of every named graph the
submission replaces, with its provenance, or raises SubmissionError with all the errors found.
`load_submission` then hands that content to the store in one transaction, so that a failing or
killed load leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from khadamat.loader import profile_in, rdf_files
from khadamat.loader import vocab as V
from khadamat.loader.columns import SERVICES, SHEETS, sheet_spec
from khadamat.loader.errors import InputError, Notice, SubmissionError
from khadamat.loader.limits import LoaderLimits
from khadamat.loader.mapping import Mapper
from khadamat.loader.readers import (
    RawSheet,
    SkipSheet,
    Source,
    read_csv_file,
    read_csv_folder,
    read_xlsx,
    sha256_of,
)
from khadamat.loader.resolve import SECTIONS, Registry, StoreSnapshot, read_snapshot
from khadamat.loader.sheets import ErrorSink, ParsedSheet, parse_sheet
from pyoxigraph import NamedNode, Quad, Triple

from khadamat import history
from khadamat.accounts import Scope
from khadamat.standard_types import with_standard_types
from khadamat.store import Store

Progress = Callable[[str, int, int], None]
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass
class Submission:
    """The complete new content of the graphs a submission replaces (see docs/architecture.md)."""

    graphs: dict[NamedNode, list[Triple]]
    provenance: list[Quad]  # the complete new content of {base}graph/provenance
    agencies: list[str]
    sources: list[Path]
    laws: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # sheets left out (not of the format)
    # Agency graphs replaced in part, whose stored parts are not carried over yet (built with
    # with_carry_over=False): graph → (the agency's node, the SECTIONS the submission sends).
    partial: dict[NamedNode, tuple[NamedNode, frozenset[str]]] = field(default_factory=dict)

    @property
    def triple_count(self) -> int:
        return sum(len(t) for t in self.graphs.values())


SHEET_NAMES = ", ".join(f"{s.key} ({s.name})" for s in SHEETS)


def _skip_unknown(sink: ErrorSink) -> SkipSheet:
    """The readers' `skip`: a sheet (or a folder's CSV file) whose name is not a sheet of the format
    is left unread, with a notice. Agencies' templates carry instructions and lookup sheets, and
    openpyxl names a new workbook's sheet `Sheet`; none of them should refuse the workbook."""

    def skip(file: str, sheet: str) -> bool:
        if sheet_spec(sheet) is not None:
            return False
        sink.notices.append(
            Notice(file, sheet, f"skipped, not read: not a sheet of the format ({SHEET_NAMES})")
        )
        return True

    return skip


def _read_tabular(
    paths: Sequence[Path], sink: ErrorSink, progress: Progress | None, limits: LoaderLimits
) -> tuple[list[RawSheet], list[Source], list[Path]]:
    """Workbooks and CSV folders into raw sheets; RDF paths are returned for rdf_files."""
    sheets: list[RawSheet] = []
    sources: list[Source] = []
    rdf: list[Path] = []
    skip = _skip_unknown(sink)
    for path in paths:
        if progress:
            progress(f"reading {path}", 0, 0)
        if not path.exists():
            sink.add(
                InputError.of_file(str(path), "an existing .xlsx file, folder of .csv files or RDF file")
            )
        elif path.is_dir():
            found, files = read_csv_folder(path, sink.errors, limits, skip)
            sheets += found
            sources += files
        elif path.suffix.lower() in WORKBOOK_SUFFIXES:
            sheets += read_xlsx(path, sink.errors, progress, limits, skip)
            sources.append(Source(path, sha256_of(path)))
        elif path.suffix.lower() == ".csv":  # one sheet on its own, named by the file: never skipped
            if (sheet := read_csv_file(path, sink.errors, limits)) is not None:
                sheets.append(sheet)
            sources.append(Source(path, sha256_of(path)))
        elif rdf_files.rdf_format(path) is not None:
            rdf.append(path)
            sources.append(Source(path, sha256_of(path)))
        else:
            sink.add(
                InputError.of_file(
                    path.name,
                    "an .xlsx workbook, a .csv file or folder of them, or an RDF file "
                    f"({', '.join(rdf_files.SUFFIXES)})",
                )
            )
    return sheets, sources, rdf


def _parse_sheets(
    raw_sheets: list[RawSheet], sink: ErrorSink, progress: Progress | None
) -> dict[str, list[ParsedSheet]]:
    parsed: dict[str, list[ParsedSheet]] = {}
    for raw in raw_sheets:
        spec = sheet_spec(raw.name)
        if spec is None:  # a .csv file given on its own: named by the user, so an error
            sink.add(
                InputError(raw.file, raw.name, None, None, f"a sheet named one of {SHEET_NAMES}", raw.name)
            )
            continue
        if progress:
            progress(f"parsing {raw.file}: {spec.key}", 0, len(raw.rows))
        parsed.setdefault(spec.key, []).append(parse_sheet(raw, spec, sink, progress))
    return parsed


def _map(parsed: dict[str, list[ParsedSheet]], mapper: Mapper, registry: Registry) -> None:
    """Every sheet in dependency order: a row may only point at what an earlier sheet made."""
    sheets = {spec.key: parsed.get(spec.key, []) for spec in SHEETS}
    registered = mapper.register_agencies(sheets["agencies"])
    mapper.write_agencies(registered)
    laws = mapper.write_laws(sheets["laws"])
    mapper.claim_graphs(sheets["missions"], sheets["services"], sheets["licenses"])
    missions = mapper.register_missions(sheets["missions"])
    registry.freeze_store_references(
        {key: mapper.minter.mission(row.values["code"]) for key, row in missions.items()}, laws
    )
    mapper.write_missions(sheets["missions"], missions)
    mapper.plan_services(sheets["services"])
    mapper.write_services()
    mapper.write_inquiries(sheets["inquiries"])
    mapper.write_licenses(sheets["licenses"])
    mapper.write_counters(sheets["counters"])


def _section(subject: object, types: set[str], agency: NamedNode) -> str:
    if subject == agency:
        return "agency"
    if V.K.Mission.value in types:
        return "missions"
    return "licenses" if V.K.License.value in types else "services"


def _partial_graphs(registry: Registry) -> dict[NamedNode, tuple[NamedNode, frozenset[str]]]:
    """The agency graphs the submission replaces only in part (it sends some SECTIONS of them)."""
    by_graph = {a.graph.value: a for a in registry.agencies.values()}
    return {
        NamedNode(graph_iri): (by_graph[graph_iri].iri, frozenset(sent))
        for graph_iri, sent in registry.sent.items()
        if graph_iri in by_graph and not sent.issuperset(SECTIONS)
    }


def carry_over(submission: Submission, store: Store) -> None:
    """Keep, in each agency graph the submission replaces in part, the stored parts it sends
    nothing for: an agency listed only to place its units in the hierarchy keeps its catalog; one
    that sends only services keeps its node and missions (see resolve.SECTIONS).

    `build_submission` does it itself unless told not to: a sandboxed child that cannot reach the
    store (a SPARQL server) builds without it, and the server calls this with the store."""
    for graph, (agency, sent) in submission.partial.items():
        stored = list(store.quads(graph))
        types: dict[object, set[str]] = {}
        for quad in stored:
            if quad.predicate == V.TYPE:
                types.setdefault(quad.subject, set()).add(quad.object.value)
        kept = [
            quad.triple
            for quad in stored
            if _section(quad.subject, types.get(quad.subject, set()), agency) not in sent
        ]
        if kept:
            submission.graphs[graph] = with_standard_types([*submission.graphs.get(graph, []), *kept])
    submission.partial = {}
    submission.agencies = _graph_codes(submission.graphs, store, "agency")


def _graph_codes(graphs: dict[NamedNode, list[Triple]], store: Store, kind: str) -> list[str]:
    """The codes of the agencies (kind "agency") or laws ("law") whose graphs the submission replaces."""
    prefix = store.minter.graph(kind).value + "/"
    return sorted(g.value[len(prefix) :] for g in graphs if g.value.startswith(prefix))


def provenance_quads(
    store: Store,
    graphs: Sequence[NamedNode],
    sources: Sequence[Source],
    started: dt.datetime,
    ended: dt.datetime,
) -> list[Quad]:
    """The new provenance graph of a load made outside the versioned write path (the local
    operator's, with an activity id of its own): built by khadamat.history, the one place that
    writes PROV, so that a `load_submission` and a versioned submission record the same shape."""
    from khadamat.accounts import local_operator

    info = history.VersionInfo(
        id=history.unversioned_id(),
        at=ended,
        started=started,
        principal=local_operator(),
        action="load",
        files=[{"name": s.path.name, "bytes": s.path.stat().st_size, "sha256": s.sha256} for s in sources],
        graphs=sorted(g.value for g in graphs),
    )
    return history.provenance_graph(store, info)


def build_submission(
    paths: Sequence[Path],
    store: Store,
    progress: Progress | None = None,
    profile: str | None = None,
    scope: Scope | None = None,
    snapshot: StoreSnapshot | None = None,
    with_carry_over: bool = True,
) -> Submission:
    """Read, check and map a submission against itself and the store. Writes nothing.

    Raises SubmissionError with every error of the submission when anything does not fit. With a
    `profile` (cpsv-ap), the RDF files are in that standard's terms and are mapped by its import
    queries (loader/profile_in.py) before the same ownership rule places them. With a `scope`
    (`accounts.write_scope` of an editor), every row, sheet or graph aimed outside it is an error
    too (resolve.Ownership), so the whole submission is refused. `snapshot` is what
    resolve.read_snapshot read of the store (read here when not given); with
    `with_carry_over=False` the stored parts of the graphs replaced in part are left to
    `carry_over` (`Submission.partial` names them), so that the store is read for nothing else.
    """
    started = dt.datetime.now(dt.UTC)
    sink = ErrorSink()
    paths = [Path(p) for p in paths]
    raw_sheets, sources, rdf_paths = _read_tabular(paths, sink, progress, LoaderLimits.from_env())
    parsed = _parse_sheets(raw_sheets, sink, progress)
    if (raw_sheets or sink.notices) and SERVICES.key not in parsed:  # notices: skipped sheets
        files = ", ".join(sorted({r.file for r in raw_sheets} | {n.file for n in sink.notices}))
        sink.add(InputError.of_file(files, "a services sheet (شناسنامه خدمات); the submission has none"))
    raw_sheets.clear()  # the parsed rows hold what is needed; a national catalog is large
    registry = Registry(store.minter, snapshot if snapshot is not None else read_snapshot(store), scope)
    mapper = Mapper(store.minter, registry, sink, progress)
    _map(parsed, mapper, registry)
    if profile is None:
        rdf_graphs = rdf_files.read_rdf_files(rdf_paths, registry.ownership, sink)
    else:
        rdf_graphs = profile_in.read_profile_files(rdf_paths, profile, registry.ownership, sink)
    for graph, triples in rdf_graphs.items():
        if graph in mapper.graphs:
            sink.add(
                InputError.of_file(graph.value, "each graph from one source; the workbook writes it too")
            )
        mapper.graphs[graph] = triples
    if sink.errors:
        raise SubmissionError(sink.errors, sink.notices)
    graphs = {graph: with_standard_types(triples) for graph, triples in mapper.graphs.items()}
    submission = Submission(
        graphs=graphs,
        provenance=[],
        agencies=_graph_codes(graphs, store, "agency"),
        sources=[s.path for s in sources],
        laws=_graph_codes(graphs, store, "law"),
        notices=sink.notices,
        partial=_partial_graphs(registry),
    )
    if with_carry_over:
        carry_over(submission, store)
    ended = dt.datetime.now(dt.UTC)
    submission.provenance = provenance_quads(store, list(submission.graphs), sources, started, ended)
    return submission


def load_submission(paths: Sequence[Path], store: Store, progress: Progress | None = None) -> Submission:
    """build_submission, then one atomic store.replace_graphs of its graphs and provenance."""
    submission = build_submission(paths, store, progress)
    write_submission(submission, store, progress)
    return submission


def write_submission(submission: Submission, store: Store, progress: Progress | None = None) -> None:
    """Write a built submission: one atomic store.replace_graphs of its graphs and provenance.

    `khadamat load` builds on a read-only store (so that a refused submission leaves every file of
    the store as it was) and writes with this once the submission is known to be good."""
    t0 = time.monotonic()
    if progress:
        progress("writing", 0, submission.triple_count)
    graphs = dict(submission.graphs)
    graphs[store.minter.provenance_graph] = []  # replaced by the complete new provenance
    store.replace_graphs(graphs, submission.provenance)
    if progress:
        progress(
            f"written in {time.monotonic() - t0:.1f} s", submission.triple_count, submission.triple_count
        )
