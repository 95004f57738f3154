"""Generations of an on-disk store, and how readers and the writer share them.

A store folder holds RocksDB databases called generations (`gen-<pid>-<random>`) and a symlink
`active` naming the current one. A write never changes a generation that readers may have open:
it makes a new one (a RocksDB checkpoint of the active generation: hard links, milliseconds),
writes into it while it is private, and then points `active` at it with one atomic rename
(khadamat/store.py). Readers — every server worker, every query worker — look at `active` once
per request (a readlink) and open the new generation read-only when it changed.

Two things make that safe:

* **Reader locks.** A reader holds a shared `flock` on `readers.lock` inside the generation it
  has open, for as long as it has it open. The writer removes an old generation only when it gets
  an exclusive lock on that file without waiting; otherwise the generation stays until a later
  write (or a later open) finds it free. So no reader ever loses the files under its feet, and the
  kernel drops the locks of a reader that dies, however it dies.
* **Changes.** Each new generation holds `changes.json`: the generation it was made from, the
  graphs it replaced, the version id written with it, and the same for the generations before it
  (the last `CHANGES_KEPT`). A reader that keeps something derived from the store in memory (the
  browse index, api/catalog_index.py) refreshes only what those graphs held.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACTIVE = "active"
PREFIX = "gen-"
READERS = "readers.lock"
CHANGES = "changes.json"
CHANGES_KEPT = 64  # generations of changes each generation remembers (for incremental refreshes)


def active_name(root: Path) -> str | None:
    """The name of the active generation (one readlink), or None for a store without generations."""
    try:
        return os.readlink(root / ACTIVE)
    except OSError:
        return None


def new_generation_dir(root: Path) -> Path:
    """A fresh generation folder name (not created): the pid says which process is writing it."""
    return root / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"


def prepare_generation(directory: Path) -> None:
    """Create the readers' lock file of a new generation (before it becomes active)."""
    (directory / READERS).touch(exist_ok=True)


@dataclass
class ReaderLock:
    """A shared flock on a generation's `readers.lock`, held while a reader has it open."""

    fd: int | None
    name: str

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)  # closing the descriptor drops the lock
            self.fd = None


def _open_lock(directory: Path) -> int | None:
    """A descriptor on the generation's lock file, or None when the generation is gone.

    Generations written before reader locks existed have no lock file: it is created then (a
    reader without the right to create it reads unlocked, as before)."""
    try:
        return os.open(directory / READERS, os.O_RDONLY)
    except FileNotFoundError:
        if not (directory / "CURRENT").exists():
            return None
        try:
            return os.open(directory / READERS, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            return -1
    except OSError:
        return -1


def lock_generation(root: Path, name: str) -> ReaderLock | None:
    """A shared lock on generation `name`, or None when it no longer exists."""
    directory = root / name
    fd = _open_lock(directory)
    if fd is None:
        return None
    if fd == -1:
        return ReaderLock(None, name)
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a writer is removing this generation
    if not (directory / "CURRENT").exists():  # removed before the lock was ours
        os.close(fd)
        return None
    return ReaderLock(fd, name)


def lock_active(root: Path) -> ReaderLock | None:
    """A shared lock on the active generation, taken so that it is still the active one when held.

    A reader may read `active`, then the writer switch it and remove the generation before the
    reader's lock is taken; the reader then sees that `active` changed and tries again. None for a
    store without generations."""
    for _ in range(100):
        name = active_name(root)
        if name is None:
            return None
        held = lock_generation(root, name)
        if held is None:
            continue
        if active_name(root) == name:
            return held
        held.release()
    raise OSError(f"the store at {root} keeps changing; cannot open its active generation")


def remove_if_unused(directory: Path) -> bool:
    """Remove a generation that no reader holds (exclusive lock taken without waiting)."""
    try:
        fd = os.open(directory / READERS, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:  # the folder itself is gone
        return True
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a reader has it open: removed by a later write
        shutil.rmtree(directory, ignore_errors=True)
        return not directory.exists()
    finally:
        os.close(fd)


def writer_alive(name: str) -> bool:
    """True when the process that made this generation folder is another process still running."""
    try:
        pid = int(name[len(PREFIX) :].split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def sweep(root: Path, keep: Path | None = None) -> None:
    """Remove what killed writes left and old generations no reader holds any more.

    Never the active generation, `keep`, or a generation another live process is writing."""
    active = active_name(root)
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(f".{ACTIVE}-"):
            entry.unlink(missing_ok=True)
        elif (
            entry.name.startswith(PREFIX)
            and entry.name != active
            and entry != keep
            and not writer_alive(entry.name)
        ):
            remove_if_unused(entry)


# Changes ---------------------------------------------------------------------------------------
def write_changes(directory: Path, previous: Path | None, graphs: list[str], version: str | None) -> None:
    """Record in a new generation what it changed relative to `previous` (and what came before)."""
    prior = read_changes(previous) if previous is not None else None
    entry = {
        "generation": directory.name,
        "previous": previous.name if previous is not None else None,
        "version": version,
        "graphs": sorted(graphs),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    history = [entry, *((prior or {}).get("history") or [])][:CHANGES_KEPT]
    document = {**entry, "history": history}
    (directory / CHANGES).write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def read_changes(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / CHANGES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def generation_changes(root: Path) -> dict[str, Any] | None:
    """The changes.json of the active generation (None before the first write with it)."""
    name = active_name(root)
    return None if name is None else read_changes(root / name)


def changed_since(root: Path, current: str, since: str) -> set[str] | None:
    """The graph IRIs replaced between generation `since` and generation `current`.

    None when that cannot be told (too many generations in between, or a generation written
    without changes): the caller then re-reads everything."""
    if current == since:
        return set()
    document = read_changes(root / current)
    if document is None:
        return None
    changed: set[str] = set()
    for entry in document.get("history") or []:
        changed.update(entry.get("graphs") or [])
        if entry.get("previous") == since:
            return changed
    return None


__all__ = [
    "ACTIVE",
    "PREFIX",
    "ReaderLock",
    "active_name",
    "changed_since",
    "generation_changes",
    "lock_active",
    "lock_generation",
    "new_generation_dir",
    "remove_if_unused",
    "sweep",
    "write_changes",
]
