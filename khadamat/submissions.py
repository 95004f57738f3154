"""The one write path: a submission (or a withdrawal) becomes a version of the store.

`khadamat load` (the local operator, an admin) and `POST /submissions` (an editor's or admin's
token) both call `submit`; `DELETE /agencies/{code}/data` calls `withdraw`. Each:

1. takes the store's write lock (khadamat.store.write_lock; waits up to `wait` seconds, then
   StoreBusy) — writes run one after the other;
2. reads, checks and maps the files with the principal's write scope (loader.build_submission;
   any row, sheet or graph outside the scope refuses the whole submission) and validates it with
   the store as context (khadamat.validation). This part reads untrusted files: the API runs it in
   a sandboxed child process without network (`isolate`, khadamat/sandbox.py), the CLI in process.
   On a SPARQL server the child only reads and maps (`build_detached`, given the store's snapshot
   as plain data) and the server, which can reach the store, completes and validates (`check`);
3. unless it is a dry run, refused (input errors, scope, or Violations with `refuse_violations`),
   writes the graphs and the version's provenance into a new store generation, records the
   version in the history (khadamat.history) just before that generation becomes visible, and
   switches `active` to it (khadamat/store.py). Every reader sees the version from its next request
   on; a kill at any moment leaves the previous version served.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode, Triple

from khadamat import history
from khadamat.accounts import Principal, is_scope_error, write_scope
from khadamat.config import Settings
from khadamat.iris import Minter
from khadamat.loader.errors import SubmissionError
from khadamat.loader.readers import sha256_of
from khadamat.loader.resolve import StoreSnapshot
from khadamat.normalize import normalize_key
from khadamat.store import OxigraphStore, Store, load_wait, open_store, write_lock

Isolate = Callable[..., Any]  # run_isolated-like: isolate(func, *args) -> func(*args)
NOTHING_READ = (
    "nothing could be read from {files}: expected a workbook with the catalog's sheets, "
    "its .csv sheets or RDF files with triples"
)


@dataclass
class Outcome:
    """What became of a submission or a withdrawal (the API's answer, the CLI's summary)."""

    id: str | None  # the version id written (None for a dry run or a refusal)
    accepted: bool
    graphs: list[str]  # graph IRIs replaced
    triples: int
    report: Any  # khadamat.validation Report (in process) or its JSON (from the sandbox)
    errors: list[str]  # input errors (then accepted is False)
    dry_run: bool = False
    scope_refused: bool = False  # every error is a refusal for scope (the API's 403)
    violations_refused: bool = False  # refused for its Violations (refuse_violations)
    findings: dict[str, int] = field(default_factory=dict)  # by severity
    notices: list[str] = field(default_factory=list)  # sheets the loader skipped, said
    agencies: list[str] = field(default_factory=list)
    laws: list[str] = field(default_factory=list)
    refusal: SubmissionError | None = None  # the loader's errors, for the CLI's grouped listing


@dataclass
class Prepared:
    """A submission read, checked and validated (plain data: it crosses from the sandbox)."""

    submission: Any  # loader.Submission, or None when refused
    refusal: SubmissionError | None = None
    report: Any = None
    findings: dict[str, int] = field(default_factory=dict)
    nothing_read: bool = False


# Reading and checking ---------------------------------------------------------------------------
# Two steps, so that the untrusted one can run where the store is out of reach. `build` reads the
# files (untrusted input: the API runs it in a sandboxed child without network) and needs of the
# store only its snapshot (resolve.read_snapshot: plain data). `check` needs the store itself: it
# carries over the stored parts of the graphs replaced in part and validates with the store as
# context. On the embedded store the child does both (it opens the store by its folder, so the
# validation stays within the child's memory budget); on a SPARQL server the child cannot connect,
# so the server reads the snapshot for it and runs `check` itself (`build_detached`).
def build(
    store: Store,
    paths: Sequence[Path],
    principal: Principal | None,
    *,
    snapshot: StoreSnapshot | None = None,
    profile: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Prepared:
    """Read, check and map a submission with the principal's write scope (None: no scope, the
    validation service's upload, which is never written). Nothing of the store is read but its
    snapshot (read here when not given). Raises PermissionError when the principal may write nothing."""
    from khadamat.loader.resolve import read_snapshot
    from khadamat.loader.submission import build_submission

    snapshot = snapshot if snapshot is not None else read_snapshot(store)
    scope = write_scope(principal, snapshot) if principal is not None else None
    try:
        submission = build_submission(
            list(paths), store, progress, profile, scope=scope, snapshot=snapshot, with_carry_over=False
        )
    except SubmissionError as exc:
        return Prepared(None, refusal=exc)
    return Prepared(submission)


def check(
    store: Store,
    built: Prepared,
    *,
    on_date: dt.date | None = None,
    validate: bool = True,
    render_lang: str | None = None,
    names: Sequence[str] | None = None,
) -> Prepared:
    """A built submission completed with what the store keeps and validated with the store as context.

    With `render_lang` the report is returned as its JSON (what crosses a process boundary); `names`
    are the files as the client named them, shown as the report's scope (never a server path)."""
    from khadamat.loader.submission import carry_over

    submission = built.submission
    if submission is None:
        return built
    carry_over(submission, store)
    if not any(submission.graphs.values()):
        return Prepared(None, nothing_read=True)
    if not validate:
        return Prepared(submission)
    from khadamat.validation import validate as run_validation
    from khadamat.validation.report import severity_name

    report = run_validation(store, submission=submission, on_date=on_date)
    if names is not None:
        report.scope = "submission: " + ", ".join(sorted(names))
    findings = dict(Counter(severity_name(f.severity) for f in report.findings))
    return Prepared(
        submission, report=report.to_json(render_lang) if render_lang else report, findings=findings
    )


def prepare(
    store: Store,
    paths: Sequence[Path],
    principal: Principal | None,
    *,
    on_date: dt.date | None = None,
    validate: bool = True,
    render_lang: str | None = None,
    names: Sequence[str] | None = None,
    profile: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Prepared:
    """`build` then `check`, in one process: the CLI's, and the sandboxed child's on the embedded store."""
    built = build(store, paths, principal, profile=profile, progress=progress)
    return check(store, built, on_date=on_date, validate=validate, render_lang=render_lang, names=names)


def prepare_at(
    store_dir: str,
    base: str,
    paths: list[str],
    principal: Principal | None,
    on_date: dt.date | None,
    lang: str,
    names: list[str],
) -> Prepared:
    """`prepare` on the store's active generation opened read-only: the sandboxed child's body."""
    store = open_store(Settings(store_dir=Path(store_dir), base=base), read_only=True)
    try:
        paths_ = [Path(p) for p in paths]
        return prepare(store, paths_, principal, on_date=on_date, render_lang=lang, names=names)
    finally:
        store.close()


def build_detached(
    minter: Minter, snapshot: StoreSnapshot, paths: list[str], principal: Principal | None
) -> Prepared:
    """`build` in a child that cannot reach the store (a SPARQL server: the sandbox has no network).

    The server read the snapshot and hands it over as plain data; the store the loader sees is an
    empty one in memory under the server's base. The submission comes back without the stored
    parts and unvalidated: the server completes it with `check`. (Its provenance names no earlier
    activity: the write path makes the version's own, khadamat.history.provenance_graph.)"""
    store = OxigraphStore(None, minter)
    try:
        return build(store, [Path(p) for p in paths], principal, snapshot=snapshot)
    finally:
        store.close()


def prepare_isolated(
    store: Store,
    settings: Settings,
    isolate: Isolate,
    paths: Sequence[Path],
    principal: Principal | None,
    *,
    on_date: dt.date | None,
    lang: str,
    names: list[str],
) -> Prepared:
    """`prepare` with the untrusted part in a sandboxed child (`isolate`): all of it on the embedded
    store (the child opens it read-only by its folder), `build` only on a SPARQL server (the child
    gets the snapshot; `check` runs here, where the server is reachable)."""
    from khadamat.loader.resolve import read_snapshot

    files = [str(p) for p in paths]
    if settings.endpoint is None:
        return isolate(
            prepare_at, str(settings.store_dir), settings.base, files, principal, on_date, lang, names
        )
    built = isolate(build_detached, store.minter, read_snapshot(store), files, principal)
    return check(store, built, on_date=on_date, render_lang=lang, names=names)


# Writing --------------------------------------------------------------------------------------
def write_graphs(
    store: Store, store_dir: Path, graphs: Mapping[NamedNode, list[Triple]], info: history.VersionInfo
) -> None:
    """Write one version: its graphs and the new provenance graph into a new generation, its
    history record (content, then record) just before the generation becomes visible.

    Call under the write lock on a store opened for writing. The version id goes into the
    generation's changes.json, so that readers and the history can tell which version it holds."""
    provenance = history.provenance_graph(store, info)
    store.replace_graphs(
        {**graphs, store.minter.provenance_graph: []},
        provenance,
        before_switch=lambda: history.record_version(store_dir, info, graphs),
        version=info.id,
    )


def new_version(
    store: Store,
    store_dir: Path,
    principal: Principal,
    action: str,
    graphs: Mapping[NamedNode, list[Triple]],
    started: dt.datetime,
    files: Sequence[Mapping[str, Any]] = (),
    findings: Mapping[str, int] | None = None,
) -> history.VersionInfo:
    """The next version's record (under the write lock; versions a killed write left are dropped)."""
    history.discard_uncommitted(store_dir, store)
    return history.VersionInfo(
        id=history.next_version_id(store_dir),
        at=dt.datetime.now(dt.UTC),
        principal=principal,
        action=action,
        files=[dict(f) for f in files],
        graphs=sorted(g.value for g in graphs),
        triples=sum(len(t) for t in graphs.values()),
        findings=dict(findings or {}),
        started=started,
    )


def describe_files(files: Sequence[tuple[str, Path]]) -> list[dict[str, Any]]:
    """[{name, bytes, sha256}] of the files as sent (a folder: each file in it)."""
    out = []
    for name, path in files:
        members = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for member in members:
            shown = name if member == path else f"{name}/{member.name}"
            out.append({"name": shown, "bytes": member.stat().st_size, "sha256": sha256_of(member)})
    return out


def submit(
    settings: Settings,
    paths: list[Path],
    principal: Principal,
    *,
    dry_run: bool = False,
    refuse_violations: bool = False,
    on_date: dt.date | None = None,
    wait: float | None = None,
    files: list[tuple[str, Path]] | None = None,
    isolate: Isolate | None = None,
    lang: str = "fa",
    validate: bool = True,
    action: str = "submit",
    profile: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Outcome:
    """Read, check, validate and (unless a dry run or refused) write one submission as a version.

    `isolate` runs the untrusted part (`prepare_at`) out of process (the API: a sandboxed child);
    without it, it runs here on the writer's store (the CLI, which may also pass `profile`,
    `progress` and `validate=False`). Raises StoreBusy when the write lock is not free within
    `wait` seconds, PermissionError when the principal may write nothing."""
    started = dt.datetime.now(dt.UTC)
    file_info = describe_files(files or [(Path(p).name, Path(p)) for p in paths])

    def run_prepare(store: Store) -> Prepared:
        if isolate is not None:
            shown = [name for name, _ in files] if files else [Path(p).name for p in paths]
            return prepare_isolated(
                store, settings, isolate, paths, principal, on_date=on_date, lang=lang, names=shown
            )
        return prepare(
            store, paths, principal, on_date=on_date, validate=validate, profile=profile, progress=progress
        )

    if dry_run:  # writes nothing, so it needs neither the lock nor a writable store
        store = open_store(settings, read_only=True)
        try:
            return _outcome(run_prepare(store), paths, dry_run=True)
        finally:
            store.close()
    with write_lock(settings.store_dir, load_wait() if wait is None else wait):
        store = open_store(settings)
        try:
            prepared = run_prepare(store)
            refused = _outcome(prepared, paths)
            if prepared.submission is None:
                return refused
            violations = prepared.findings.get("Violation", 0)
            if refuse_violations and violations:
                refused.violations_refused = True
                refused.errors = [
                    f"the submission has {violations} violation(s) and this server refuses submissions "
                    "with violations (khadamat serve --refuse-violations): fix them and submit again"
                ]
                return refused
            graphs = prepared.submission.graphs
            info = new_version(
                store, settings.store_dir, principal, action, graphs, started, file_info, prepared.findings
            )
            if progress:
                progress("writing", 0, info.triples)
            write_graphs(store, settings.store_dir, graphs, info)
            if progress:
                progress("written", info.triples, info.triples)
        finally:
            store.close()
    accepted = _outcome(prepared, paths)
    accepted.id, accepted.accepted = info.id, True
    return accepted


def _outcome(prepared: Prepared, paths: Sequence[Path], dry_run: bool = False) -> Outcome:
    """The outcome of a prepared submission before anything is written."""
    submission = prepared.submission
    if prepared.nothing_read:
        files = ", ".join(f"'{Path(p).name}'" for p in paths)
        return Outcome(None, False, [], 0, None, [NOTHING_READ.format(files=files)], dry_run=dry_run)
    if submission is None:
        refusal = prepared.refusal or SubmissionError()
        return Outcome(
            None,
            False,
            [],
            0,
            None,
            [str(e) for e in refusal.errors],
            dry_run=dry_run,
            scope_refused=bool(refusal.errors) and all(is_scope_error(e) for e in refusal.errors),
            notices=[str(n) for n in refusal.notices],
            refusal=refusal,
        )
    return Outcome(
        None,
        False,
        sorted(g.value for g in submission.graphs),
        submission.triple_count,
        prepared.report,
        [],
        dry_run=dry_run,
        findings=prepared.findings,
        notices=[str(n) for n in submission.notices],
        agencies=list(submission.agencies),
        laws=list(submission.laws),
    )


# Withdrawing ------------------------------------------------------------------------------------
class UnknownAgency(LookupError):
    """No agency with that code is in the store."""


def withdraw(settings: Settings, agency: str, principal: Principal, *, wait: float | None = None) -> Outcome:
    """Replace the graphs of an agency and of its provincial and county units by nothing: a version
    too (the content stays in the history, so a rollback brings it back).

    Raises UnknownAgency, PermissionError (outside the principal's scope) or StoreBusy."""
    from khadamat.loader.resolve import read_snapshot

    started = dt.datetime.now(dt.UTC)
    with write_lock(settings.store_dir, load_wait() if wait is None else wait):
        store = open_store(settings)
        try:
            snapshot = read_snapshot(store)
            scope = write_scope(principal, snapshot)
            key = normalize_key(agency)
            if key not in snapshot.agencies:
                raise UnknownAgency(f"no agency with code '{agency}' is loaded")
            targets = {key} | set(snapshot.units_of(agency))
            outside = sorted(t for t in targets if not scope.allows(t))
            if outside:
                raise PermissionError(
                    f"the data of agency {agency} is outside the write scope of this token "
                    f"({', '.join(outside)})"
                )
            graphs: dict[NamedNode, list[Triple]] = {snapshot.agencies[t].graph: [] for t in sorted(targets)}
            info = new_version(store, settings.store_dir, principal, "withdraw", graphs, started)
            write_graphs(store, settings.store_dir, graphs, info)
        finally:
            store.close()
    return Outcome(info.id, True, info.graphs, 0, None, [])


__all__ = [
    "Outcome",
    "Prepared",
    "UnknownAgency",
    "build",
    "build_detached",
    "check",
    "prepare",
    "prepare_at",
    "prepare_isolated",
    "submit",
    "withdraw",
    "write_graphs",
]
