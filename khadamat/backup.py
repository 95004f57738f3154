"""Backups: the whole store — every named graph, the provenance graph and the history — as one
file (`khadamat dump`), and back into an empty store (`khadamat restore`).

A dump is a gzip'd tar whose bytes depend on the content only (entries in a fixed order, no
times, owners or modes of this machine, N-Quads lines sorted, gzip without a timestamp), so that
dump → restore into an empty store → dump gives the same bytes; tests prove it. Entries:

- `khadamat-dump.json`: format, base IRI, the named graphs with quads, counts, sha256 of each entry;
- `store.nq`: every quad of every named graph, sorted N-Quads;
- `history/<id>.nq.gz`, `history/<id>.json`: the committed versions, as khadamat.history keeps them.

Tokens (`tokens.json`) are accounts, not data, and stay out of a dump. `restore` also takes a TriG
or N-Quads export (`khadamat export`): its graphs, without history.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple

from khadamat import history
from khadamat.config import Settings
from khadamat.diff import RDF_FILE_FORMATS
from khadamat.store import OxigraphStore, Store, load_wait, open_store, write_lock

MANIFEST = "khadamat-dump.json"
STORE_ENTRY = "store.nq"
FORMAT = "khadamat-dump"
FORMAT_VERSION = 1
# Limits on what a restore reads from a dump (a dump is a file someone handed over).
MAX_ENTRIES = 1_000_000
MAX_ENTRY_BYTES = 8 << 30


class RestoreError(ValueError):
    """A file that cannot be restored, or a store that is not empty: the message says which."""


@dataclass
class RestoreResult:
    graphs: int
    quads: int
    versions: int
    kind: str  # "dump" | "export"


# Dump ---------------------------------------------------------------------------------------------
def dump_bytes(store: Store, store_dir: Path) -> bytes:
    """The whole store and its history as a dump file's bytes (see the module docstring)."""
    graphs = [g for g in store.named_graphs() if next(iter(store.quads(g)), None) is not None]
    body = history.nquads(q for g in graphs for q in store.quads(g))
    entries: dict[str, bytes] = {STORE_ENTRY: body}
    versions = []
    for path in history.history_files(store_dir, store):
        entries[f"{history.HISTORY_DIR}/{path.name}"] = path.read_bytes()
        if path.name.endswith(".json"):
            versions.append(path.name[: -len(".json")])
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "base": store.minter.base,
        "graphs": [g.value for g in graphs],
        "quads": body.count(b"\n"),
        "versions": versions,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in entries.items()},
    }
    ordered = {MANIFEST: history.record_bytes(manifest), **entries}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ordered.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return history.gzip_bytes(raw.getvalue())


# Restore ------------------------------------------------------------------------------------------
def _read_dump(path: Path) -> dict[str, bytes]:
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            entries: dict[str, bytes] = {}
            for n, member in enumerate(tar):
                if n >= MAX_ENTRIES:
                    raise RestoreError(f"{path}: more than {MAX_ENTRIES} entries; not a Khadamat dump")
                if not member.isfile():
                    raise RestoreError(
                        f"{path}: entry {member.name!r} is not a plain file; not a Khadamat dump"
                    )
                if member.size > MAX_ENTRY_BYTES:
                    raise RestoreError(
                        f"{path}: entry {member.name!r} is larger than {MAX_ENTRY_BYTES} bytes"
                    )
                handle = tar.extractfile(member)
                assert handle is not None
                entries[member.name] = handle.read()
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, OSError) as exc:
        raise RestoreError(f"{path}: not a readable Khadamat dump ({exc})") from None
    return entries


def _check_dump(path: Path, entries: Mapping[str, bytes], base: str) -> dict:
    if MANIFEST not in entries or STORE_ENTRY not in entries:
        raise RestoreError(f"{path}: no {MANIFEST} or {STORE_ENTRY} in it; not a Khadamat dump")
    try:
        manifest = json.loads(entries[MANIFEST])
    except ValueError:
        raise RestoreError(f"{path}: {MANIFEST} is not JSON") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise RestoreError(f"{path}: expected a {FORMAT} version {FORMAT_VERSION} file")
    if manifest.get("base") != base:
        raise RestoreError(
            f"{path}: its data use the base IRI {manifest.get('base')}, this store {base}; "
            f"restore with --base {manifest.get('base')}"
        )
    expected = manifest.get("sha256", {})
    if set(expected) != set(entries) - {MANIFEST}:
        raise RestoreError(f"{path}: its entries are not the ones its manifest lists")
    for name, digest in expected.items():
        if hashlib.sha256(entries[name]).hexdigest() != digest:
            raise RestoreError(f"{path}: entry {name} does not match its checksum (damaged file)")
    for name in entries:
        if name not in (MANIFEST, STORE_ENTRY) and not _history_entry(name):
            raise RestoreError(f"{path}: unexpected entry {name!r}")
    return manifest


def _history_entry(name: str) -> bool:
    folder, _, file = name.partition("/")
    stem = file.removesuffix(".json").removesuffix(".nq.gz")
    return folder == history.HISTORY_DIR and stem != file and history.is_version_id(stem)


def _parse(data: bytes, fmt: RdfFormat, where: str) -> list[Quad]:
    try:
        return list(ox.parse(data, format=fmt))
    except SyntaxError as exc:
        raise RestoreError(f"{where}: not valid {fmt.name}: {exc}") from None


def _is_empty(store: OxigraphStore, store_dir: Path) -> bool:
    reference = {store.minter.ontology_graph, store.minter.corpus_graph}
    data = [g for g in store.named_graphs() if g not in reference]
    return not data and not history.history_files(store_dir)


def restore(settings: Settings, path: Path, wait: float | None = None) -> RestoreResult:
    """Restore a dump (or a TriG / N-Quads export) into the empty store of `settings`."""
    path = Path(path)
    if not path.is_file():
        raise RestoreError(f"{path}: no such file")
    with path.open("rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":
        entries = _read_dump(path)
        _check_dump(path, entries, settings.base)
        quads = _parse(entries[STORE_ENTRY], RdfFormat.N_QUADS, f"{path}: {STORE_ENTRY}")
        kind = "dump"
    else:
        fmt = RDF_FILE_FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise RestoreError(
                f"{path}: expected a dump (.tar.gz) from `khadamat dump`, or a .trig/.nq export"
            )
        entries, quads, kind = {}, _parse(path.read_bytes(), fmt, str(path)), "export"
    graphs: dict[NamedNode, list[Triple]] = {}
    for quad in quads:
        if not isinstance(quad.graph_name, NamedNode):
            raise RestoreError(f"{path}: a quad outside the named graphs ({quad}); the store keeps none")
        graphs.setdefault(quad.graph_name, []).append(quad.triple)
    with write_lock(settings.store_dir, load_wait() if wait is None else wait):
        store = open_store(settings)
        try:
            if not _is_empty(store, settings.store_dir):
                raise RestoreError(
                    f"{settings.store_dir} is not empty (it holds data graphs or history); "
                    "restore into a new store folder (--store DIR)"
                )
            folder = history.history_dir(settings.store_dir)
            versions = [n for n in entries if _history_entry(n)]
            if versions:  # first, as a write does: a version's files before its activity
                folder.mkdir(parents=True, exist_ok=True)
                for name in sorted(versions, key=lambda n: (n.endswith(".json"), n)):
                    history.write_atomic(settings.store_dir / name, entries[name])
            store.replace_graphs(graphs)
        finally:
            store.close()
    return RestoreResult(len(graphs), len(quads), sum(n.endswith(".json") for n in entries), kind)
