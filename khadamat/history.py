"""The history of every change: versions, the content they wrote, and their PROV record.

Each accepted write (a submission, a withdrawal, a rollback, a restore) is a version with a
sortable id (`v000012`). The new content of every graph it replaced is kept outside the
query-visible store, in `{store}/history/`, so that any graph can be rebuilt as it was at any
version (`graphs_at`), which is what `khadamat diff`, `khadamat rollback` and the auditors' history
pages stand on. Per version two files, each written atomically (temporary file, fsync, rename):

- `v000012.nq.gz`: the N-Quads of the graphs it wrote (sorted lines, gzip without a timestamp, so
  that the same content is the same bytes; a withdrawal writes a graph with no quads);
- `v000012.json`: who, when, which files with checksums, which graphs, triples, findings. Written
  second: a version whose record exists has its content.

The index is the folder itself (the records, sorted by id): nothing to append, nothing to repair.
A record is written before the store switches to the new generation (khadamat.submissions), so a
kill in between leaves a record whose activity is not in the store's provenance graph: readers
given the open store skip it (`committed_ids`), and `discard_uncommitted` removes it.

The provenance graph keeps every version's activity (the audit trail): `provenance_quads` is one
version's PROV, `provenance_graph` the complete new content of the graph. Token secrets are never
in either: a Principal carries the token's public id and name only.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple

from khadamat import __version__
from khadamat.iris import Minter, segment
from khadamat.namespaces import DCT, FOAF, KH, PROV, RDF, RDFS, XSD

if TYPE_CHECKING:
    from khadamat.accounts import Principal
    from khadamat.store import Store

HISTORY_DIR = "history"
_ID = re.compile(r"^v(\d{6,})$")
_RECORD = ".json"
_CONTENT = ".nq.gz"
SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class VersionInfo:
    """One accepted write, as the history and the provenance graph record it (never a secret)."""

    id: str  # monotonically increasing, sortable: "v000123"
    at: dt.datetime  # UTC, when the write ended
    principal: Principal  # who: name, role, agency, public token id
    action: str  # "submit" | "withdraw" | "rollback" | "load" | "restore"
    files: list[dict] = field(default_factory=list)  # [{"name", "bytes", "sha256"}]
    graphs: list[str] = field(default_factory=list)  # graph IRIs replaced
    triples: int = 0
    findings: dict[str, int] = field(default_factory=dict)  # {"Violation": n, "Warning": n, "Info": n}
    started: dt.datetime | None = None  # when the write began (default: `at`)
    detail: str = ""  # e.g. "to v000003" for a rollback


class HistoryError(ValueError):
    """A version id that is not well formed or not in the history."""


# Where things are ---------------------------------------------------------------------------
def history_dir(store_dir: Path) -> Path:
    return Path(store_dir) / HISTORY_DIR


def version_number(version_id: str) -> int:
    """The number of `v000012`, or HistoryError saying what a version id looks like."""
    match = _ID.match(version_id)
    if match is None:
        raise HistoryError(
            f"'{version_id}' is not a version id: expected v followed by six digits, e.g. v000012"
        )
    return int(match.group(1))


def is_version_id(text: str) -> bool:
    return _ID.match(text) is not None


def format_id(number: int) -> str:
    return f"v{number:06d}"


def _ids_on_disk(folder: Path, suffix: str) -> list[str]:
    if not folder.is_dir():
        return []
    found = (entry.name[: -len(suffix)] for entry in folder.iterdir() if entry.name.endswith(suffix))
    return sorted((name for name in found if is_version_id(name)), key=version_number)


def next_version_id(store_dir: Path) -> str:
    """The id after every id the history folder has seen (records and contents alike): ids never
    repeat, even after a write was killed between its content and its switch."""
    folder = history_dir(store_dir)
    known = _ids_on_disk(folder, _RECORD) + _ids_on_disk(folder, _CONTENT)
    return format_id(max((version_number(v) for v in known), default=0) + 1)


# Writing --------------------------------------------------------------------------------------
def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old file or the whole new one, even after
    a kill or a power cut: a temporary file beside it, fsync, rename, fsync of the folder."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def nquads(quads: Iterable[Quad]) -> bytes:
    """Quads as N-Quads with sorted, distinct lines and blank nodes labelled by their content
    (`canonical_blank_nodes`): the same content is always the same bytes, whatever labels the store
    gave its blank nodes (a SPARQL INSERT DATA mints new ones)."""
    lines = {f"{q} .\n" for q in canonical_blank_nodes(list(quads))}
    return "".join(sorted(lines)).encode("utf-8")


_CANONICAL_ROUNDS = 4


def canonical_blank_nodes(quads: list[Quad]) -> list[Quad]:
    """The quads with each blank node relabelled by a hash of what surrounds it (its quads, with the
    labels of the blank nodes around it from the round before: a few rounds of colour refinement).

    Not a full RDF canonicalization (RDFC-1.0): blank nodes that no refinement tells apart are
    numbered in the order of their old labels. They are rare in Khadamat's graphs (OWL lists and
    restrictions of the ontology), and none of ours are symmetric in that way."""
    with_blank = [
        q for q in quads if any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object, q.graph_name))
    ]
    if not with_blank:
        return quads
    blanks = {
        t for q in with_blank for t in (q.subject, q.object, q.graph_name) if isinstance(t, ox.BlankNode)
    }
    colour = dict.fromkeys(blanks, "")
    for _ in range(_CANONICAL_ROUNDS):
        seen: dict[ox.BlankNode, list[str]] = {b: [] for b in blanks}
        for q in with_blank:
            terms = (q.subject, q.predicate, q.object, q.graph_name)
            for node in {t for t in terms if isinstance(t, ox.BlankNode)}:
                shown = (
                    "_:self" if t == node else f"_:c{colour[t]}" if isinstance(t, ox.BlankNode) else str(t)
                    for t in terms
                )
                seen[node].append(" ".join(shown))
        colour = {
            b: hashlib.sha256("\n".join([colour[b], *sorted(seen[b])]).encode("utf-8")).hexdigest()[:32]
            for b in blanks
        }
    label: dict[ox.BlankNode, ox.BlankNode] = {}
    groups: dict[str, list[ox.BlankNode]] = {}
    for b in blanks:
        groups.setdefault(colour[b], []).append(b)
    for key, group in groups.items():
        for n, b in enumerate(sorted(group, key=lambda x: x.value)):
            label[b] = ox.BlankNode(f"b{key}" if len(group) == 1 else f"b{key}n{n}")

    def relabel(term: Any) -> Any:
        return label.get(term, term) if isinstance(term, ox.BlankNode) else term

    unchanged = [
        q for q in quads if not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object, q.graph_name))
    ]
    return unchanged + [
        Quad(relabel(q.subject), q.predicate, relabel(q.object), relabel(q.graph_name)) for q in with_blank
    ]


def gzip_bytes(data: bytes) -> bytes:
    """gzip without a timestamp or file name, so that equal content compresses to equal bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def record_version(
    store_dir: Path, info: VersionInfo, new_content: Mapping[NamedNode, Iterable[Triple]]
) -> None:
    """Keep the new content of every graph `info` replaces, then its record (in that order).

    Called under the store's write lock, before the new generation is made visible. A graph in
    `new_content` with no triples (a withdrawal) is kept as written-empty, so that `graphs_at`
    rebuilds it as empty rather than as it was before.
    """
    version_number(info.id)
    folder = history_dir(store_dir)
    folder.mkdir(parents=True, exist_ok=True)
    content = {graph: list(triples) for graph, triples in new_content.items()}
    quads = (
        Quad(t.subject, t.predicate, t.object, graph) for graph, triples in content.items() for t in triples
    )
    write_atomic(folder / f"{info.id}{_CONTENT}", gzip_bytes(nquads(quads)))
    graphs = sorted({*info.graphs, *(g.value for g in content)})
    record = version_dict(info) | {"graphs": graphs, "written": sorted(g.value for g in content)}
    write_atomic(folder / f"{info.id}{_RECORD}", record_bytes(record))


def record_bytes(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


# Reading --------------------------------------------------------------------------------------
def version_dict(info: VersionInfo) -> dict[str, Any]:
    """The JSON form of a version (the record on disk, `khadamat history --format json`, the API)."""
    from khadamat.jalali import to_jalali

    principal = info.principal
    return {
        "id": info.id,
        "at": _iso(info.at),
        "at_jalali": f"{to_jalali(info.at.date(), persian_digits=False)} {info.at:%H:%M:%S}",
        "started": _iso(info.started or info.at),
        "who": {
            "name": principal.name,
            "role": str(principal.role),
            "agency": principal.agency,
            "token_id": principal.token_id,
        },
        "action": info.action,
        "detail": info.detail,
        "files": [
            {"name": f["name"], "bytes": int(f.get("bytes", 0)), "sha256": f.get("sha256", "")}
            for f in info.files
        ],
        "graphs": sorted(info.graphs),
        "triples": int(info.triples),
        "findings": {key: int(info.findings.get(key, 0)) for key in SEVERITIES if key in info.findings}
        | {k: int(v) for k, v in info.findings.items() if k not in SEVERITIES},
    }


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


def _from_record(record: Mapping[str, Any]) -> VersionInfo:
    from khadamat.accounts import Principal, Role

    who = record["who"]
    return VersionInfo(
        id=record["id"],
        at=dt.datetime.fromisoformat(record["at"]),
        principal=Principal(who["name"], Role(who["role"]), who.get("agency"), who.get("token_id")),
        action=record["action"],
        files=list(record.get("files", [])),
        graphs=list(record.get("graphs", [])),
        triples=int(record.get("triples", 0)),
        findings=dict(record.get("findings", {})),
        started=dt.datetime.fromisoformat(record["started"]) if record.get("started") else None,
        detail=record.get("detail", ""),
    )


def _records(store_dir: Path, committed: set[str] | None) -> list[dict[str, Any]]:
    folder = history_dir(store_dir)
    out = []
    for version_id in _ids_on_disk(folder, _RECORD):
        if committed is not None and version_id not in committed:
            continue
        out.append(json.loads((folder / f"{version_id}{_RECORD}").read_text(encoding="utf-8")))
    return out


def committed_ids(store: Store) -> set[str]:
    """The version ids whose activity is in the store's provenance graph: the versions that happened."""
    prefix = store.minter.load_activity("").value
    graph = store.minter.provenance_graph
    rdf_type, activity = NamedNode(RDF + "type"), NamedNode(PROV + "Activity")
    found = set()
    for quad in store.quads(graph):
        if quad.predicate == rdf_type and quad.object == activity and quad.subject.value.startswith(prefix):
            name = quad.subject.value[len(prefix) :]
            if is_version_id(name):
                found.add(name)
    return found


def versions(store_dir: Path, agency: str | None = None, store: Store | None = None) -> list[VersionInfo]:
    """Every version, oldest first; with `agency`, those that wrote one of its graphs (its own and,
    given the store, its provincial and county units') or were made by its editor. Given the open
    store, versions whose write never became visible are left out."""
    committed = committed_ids(store) if store is not None else None
    records = _records(store_dir, committed)
    if agency is not None:
        if store is not None:
            wanted = set(agency_graph_iris(store, agency))
            records = [r for r in records if r["who"].get("agency") == agency or wanted & set(r["graphs"])]
        else:
            tail = f"/graph/agency/{segment(agency)}"
            records = [
                r
                for r in records
                if r["who"].get("agency") == agency or any(g.endswith(tail) for g in r["graphs"])
            ]
    return [_from_record(r) for r in records]


def version(store_dir: Path, version_id: str, store: Store | None = None) -> VersionInfo:
    """One version, or HistoryError naming the versions there are."""
    version_number(version_id)
    committed = committed_ids(store) if store is not None else None
    path = history_dir(store_dir) / f"{version_id}{_RECORD}"
    if not path.is_file() or (committed is not None and version_id not in committed):
        known = _ids_on_disk(history_dir(store_dir), _RECORD)
        if committed is not None:
            known = [k for k in known if k in committed]
        span = f"{known[0]} … {known[-1]}" if known else "none yet"
        raise HistoryError(f"no version {version_id} in the history of this store (versions: {span})")
    return _from_record(json.loads(path.read_text(encoding="utf-8")))


def agency_graph_iris(store: Store, code: str) -> list[str]:
    """The graph IRIs of an agency and of its provincial and county units (org:unitOf, any depth)."""
    from khadamat.namespaces import ORG

    agency = store.minter.agency(code)
    rows = store.select(
        f"SELECT DISTINCT ?code WHERE {{ ?unit <{ORG}unitOf>+ {agency} ; <{KH}agencyCode> ?code }}"
    )
    codes = {code} | {r["code"].value for r in rows}
    return sorted(store.minter.agency_graph(c).value for c in codes)


def _content(store_dir: Path, version_id: str) -> dict[NamedNode, list[Triple]]:
    path = history_dir(store_dir) / f"{version_id}{_CONTENT}"
    graphs: dict[NamedNode, list[Triple]] = {}
    for quad in ox.parse(gzip.decompress(path.read_bytes()), format=RdfFormat.N_QUADS):
        graphs.setdefault(quad.graph_name, []).append(quad.triple)
    return graphs


def graphs_at(
    store_dir: Path, version_id: str, graphs: Sequence[NamedNode], store: Store | None = None
) -> dict[NamedNode, list[Triple]]:
    """Each graph's content at `version_id`: what the latest version at or before it wrote (an empty
    list when none did, or when that version withdrew it)."""
    limit = version_number(version_id)
    committed = committed_ids(store) if store is not None else None
    records = [r for r in _records(store_dir, committed) if version_number(r["id"]) <= limit]
    out: dict[NamedNode, list[Triple]] = {}
    loaded: dict[str, dict[NamedNode, list[Triple]]] = {}
    for graph in graphs:
        writer = next((r for r in reversed(records) if graph.value in r.get("written", r["graphs"])), None)
        if writer is None:
            out[graph] = []
            continue
        if writer["id"] not in loaded:
            loaded[writer["id"]] = _content(store_dir, writer["id"])
        out[graph] = list(loaded[writer["id"]].get(graph, []))
    return out


def written_graphs(store_dir: Path, up_to: str | None = None, store: Store | None = None) -> list[NamedNode]:
    """Every graph some version (at or before `up_to`) wrote."""
    limit = version_number(up_to) if up_to else None
    seen: set[str] = set()
    for record in _records(store_dir, committed_ids(store) if store is not None else None):
        if limit is None or version_number(record["id"]) <= limit:
            seen.update(record.get("written", record["graphs"]))
    return [NamedNode(g) for g in sorted(seen)]


def discard_uncommitted(store_dir: Path, store: Store) -> list[str]:
    """Remove the records and contents of versions that never became visible (a write killed
    between its record and its switch). Call under the write lock. Returns their ids."""
    folder = history_dir(store_dir)
    committed = committed_ids(store)
    gone = []
    for version_id in sorted(set(_ids_on_disk(folder, _RECORD)) | set(_ids_on_disk(folder, _CONTENT))):
        if version_id not in committed:
            (folder / f"{version_id}{_RECORD}").unlink(missing_ok=True)
            (folder / f"{version_id}{_CONTENT}").unlink(missing_ok=True)
            gone.append(version_id)
    if gone:
        _fsync_dir(folder)
    return gone


def history_files(store_dir: Path, store: Store | None = None) -> list[Path]:
    """The files of the committed versions, in id order (what a dump carries)."""
    folder = history_dir(store_dir)
    committed = committed_ids(store) if store is not None else None
    out = []
    for version_id in _ids_on_disk(folder, _RECORD):
        if committed is None or version_id in committed:
            out += [folder / f"{version_id}{_CONTENT}", folder / f"{version_id}{_RECORD}"]
    return out


# Provenance -------------------------------------------------------------------------------------
_P = {
    name: NamedNode(PROV + name)
    for name in (
        "Activity",
        "Agent",
        "Entity",
        "Association",
        "Role",
        "wasGeneratedBy",
        "generated",
        "used",
        "startedAtTime",
        "endedAtTime",
        "wasAssociatedWith",
        "qualifiedAssociation",
        "agent",
        "hadRole",
        "actedOnBehalfOf",
        "specializationOf",
    )
}
_TYPE = NamedNode(RDF + "type")
_LABEL = NamedNode(RDFS + "label")
_NAME = NamedNode(FOAF + "name")
_IDENTIFIER = NamedNode(DCT + "identifier")
_DCT_TYPE = NamedNode(DCT + "type")
_EXTENT = NamedNode(DCT + "extent")
_FILE_NAME, _SHA256, _LOADER_VERSION = (NamedNode(KH + n) for n in ("fileName", "sha256", "loaderVersion"))


def _time(moment: dt.datetime) -> Literal:
    return Literal(_iso(moment), datatype=NamedNode(XSD + "dateTime"))


def agent_iri(principal: Principal, minter: Minter) -> NamedNode:
    """The agent of a principal: `{base}agent/{token id}` for a token, else by its name."""
    if principal.token_id:
        return NamedNode(f"{minter.base}agent/{segment(principal.token_id)}")
    return NamedNode(minter.base + "agent/" + "/".join(segment(p) for p in principal.name.split(":", 1)))


def provenance_quads(info: VersionInfo, minter: Minter) -> list[Quad]:
    """One version's PROV-O: the activity with its times, who did it and in which role (the token's
    name and public id, never its secret), the files it used with their sizes and checksums, and
    the graph states it generated (each a specialization of the graph it replaced)."""
    pg = minter.provenance_graph
    activity = minter.load_activity(info.id)
    principal = info.principal
    agent = agent_iri(principal, minter)
    association = NamedNode(f"{activity.value}/association")
    role = NamedNode(f"{minter.base}role/{segment(str(principal.role))}")
    quads = [
        Quad(activity, _TYPE, _P["Activity"], pg),
        Quad(activity, _IDENTIFIER, Literal(info.id), pg),
        Quad(activity, _DCT_TYPE, Literal(info.action), pg),
        Quad(activity, _P["startedAtTime"], _time(info.started or info.at), pg),
        Quad(activity, _P["endedAtTime"], _time(info.at), pg),
        Quad(activity, _P["wasAssociatedWith"], agent, pg),
        Quad(activity, _P["qualifiedAssociation"], association, pg),
        Quad(association, _TYPE, _P["Association"], pg),
        Quad(association, _P["agent"], agent, pg),
        Quad(association, _P["hadRole"], role, pg),
        Quad(role, _TYPE, _P["Role"], pg),
        Quad(role, _LABEL, Literal(str(principal.role)), pg),
        Quad(agent, _TYPE, _P["Agent"], pg),
        Quad(agent, _NAME, Literal(principal.name), pg),
    ]
    if info.detail:
        quads.append(Quad(activity, _LABEL, Literal(f"{info.action} {info.detail}"), pg))
    if principal.token_id:
        quads.append(Quad(agent, _IDENTIFIER, Literal(principal.token_id), pg))
    if principal.agency:
        quads.append(Quad(agent, _P["actedOnBehalfOf"], minter.agency(principal.agency), pg))
    for n, source in enumerate(info.files, start=1):
        entity = NamedNode(f"{activity.value}/source/{n}")
        quads += [
            Quad(activity, _P["used"], entity, pg),
            Quad(entity, _TYPE, _P["Entity"], pg),
            Quad(entity, _FILE_NAME, Literal(source["name"]), pg),
            Quad(entity, _SHA256, Literal(source["sha256"]), pg),
            Quad(entity, _LOADER_VERSION, Literal(__version__), pg),
        ]
        if source.get("bytes") is not None:
            quads.append(
                Quad(
                    entity,
                    _EXTENT,
                    Literal(str(int(source["bytes"])), datatype=NamedNode(XSD + "integer")),
                    pg,
                )
            )
    for n, graph_iri in enumerate(sorted(info.graphs), start=1):
        graph = NamedNode(graph_iri)
        state = NamedNode(f"{activity.value}/graph/{n}")
        quads += [
            Quad(activity, _P["generated"], state, pg),
            Quad(state, _TYPE, _P["Entity"], pg),
            Quad(state, _P["specializationOf"], graph, pg),
            Quad(graph, _TYPE, _P["Entity"], pg),
            Quad(graph, _P["wasGeneratedBy"], activity, pg),
        ]
    return quads


def provenance_graph(store: Store, info: VersionInfo) -> list[Quad]:
    """The complete new content of the provenance graph after `info`: every earlier activity kept
    (the audit trail), each replaced graph's current link moved to this version's activity."""
    pg = store.minter.provenance_graph
    replaced = {NamedNode(g) for g in info.graphs}
    kept = [q for q in store.quads(pg) if not (q.subject in replaced and q.predicate == _P["wasGeneratedBy"])]
    return kept + provenance_quads(info, store.minter)


def unversioned_id() -> str:
    """The activity id of a write that is not a version (`load_submission` outside the write path)."""
    return str(uuid.uuid4())


def rollback_content(store: Store, store_dir: Path, agency: str, to: str) -> dict[NamedNode, list[Triple]]:
    """The new content a rollback of `agency` to version `to` writes: the graphs of the agency and
    of its provincial and county units, each as it was at `to`. A graph no version ever wrote
    (loaded before the history began) is left as it is; one first written after `to` becomes empty."""
    version(store_dir, to, store)  # HistoryError when there is no such version
    ever = {g.value for g in written_graphs(store_dir, store=store)}
    chosen = [NamedNode(g) for g in agency_graph_iris(store, agency) if g in ever]
    if not chosen:
        raise HistoryError(f"no version has written the data of agency '{agency}': nothing to roll back")
    return graphs_at(store_dir, to, chosen, store)
