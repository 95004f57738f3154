"""A reader that follows the store's active generation: what every server and query worker holds.

A server worker used to open the store read-only once and serve that database until it was
restarted, even after a load had switched `active` to a new generation (and deleted the old one
under it). `LiveStore.current()` costs one readlink when nothing changed; when `active` names
another generation it opens that one read-only (under a reader lock, khadamat/generations.py)
and returns it from then on. The store a request started with stays open for the whole request
(its reader lock with it) and is closed when the last request using it ends, so no request ever
mixes two generations and no generation is removed while it is read.
"""

from __future__ import annotations

import threading

from khadamat import generations
from khadamat.config import Settings
from khadamat.store import OxigraphStore, Store, open_store


class LiveStore:
    """The current generation of a store on disk, opened read-only, reopened when it changes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.store_dir
        self._lock = threading.Lock()
        self._current: OxigraphStore | Store = open_store(settings, read_only=True)

    def current(self) -> OxigraphStore | Store:
        """The store of the active generation (one readlink when it did not change); a remote
        store (settings.endpoint) is always current: the server itself shows every write."""
        store = self._current
        if self.settings.endpoint is not None:
            return store
        name = generations.active_name(self.root)
        if name is None or name == store.generation:
            return store
        with self._lock:  # one reopen at a time; the others then find it done
            if generations.active_name(self.root) != self._current.generation:
                self._current = open_store(self.settings, read_only=True)
            return self._current

    def close(self) -> None:
        self._current.close()


__all__ = ["LiveStore"]
