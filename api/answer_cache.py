"""Shared, cached SPARQL answers: a read-only store gives the same answer to the same request.

Two things make the endpoint hold up under many clients asking the same heavy query (the gap
queries of an audit dashboard):

* single flight — identical requests in flight share one computation instead of starting one
  worker each;
* an LRU of finished answers — per store generation (`GenerationCaches`): a generation never
  changes once written, so an answer stays right for as long as requests read that generation;
  a write makes a new generation, whose cache starts empty (khadamat/generations.py).

The LRU is bounded in bytes overall (`max_bytes`, the `cache_bytes` setting) as well as in
entries, and an answer larger than `max_entry_bytes` (an eighth of the whole by default) is
not kept at all: no sequence of distinct large answers can make the server hoard memory.
`X-Khadamat-Cache: hit|shared|miss` tells which case it was.

Computations: `share` runs an async computation that bounds its own time (a query worker is
killed at the time limit, api/query_workers.py); `get` runs a blocking function in a thread
within the time limit (the library's fixed queries, api/library.py), and such a computation
keeps running when the client gave up, its answer cached when it ends.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import anyio.to_thread
from khadamat.api.execution import QueryTimeout, limiter

DEFAULT_MAX_BYTES = 256 * 2**20


class AnswerCache:
    def __init__(
        self, max_bytes: int = DEFAULT_MAX_BYTES, max_entries: int = 256, max_entry_bytes: int | None = None
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_entry_bytes = max_bytes // 8 if max_entry_bytes is None else min(max_entry_bytes, max_bytes)
        self.bytes = 0  # held by finished answers now
        self._done: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future] = {}

    def _keep(self, key: Hashable, future: asyncio.Future) -> None:
        self._running.pop(key, None)
        if future.cancelled() or future.exception() is not None:
            return
        self.put(key, future.result())

    def put(self, key: Hashable, value: Any) -> None:
        """Keep a finished answer, within the bounds (an answer over max_entry_bytes is not kept)."""
        size = _size(value)
        if size > self.max_entry_bytes or key in self._done:
            return
        self._done[key] = (value, size)
        self.bytes += size
        while self._done and (self.bytes > self.max_bytes or len(self._done) > self.max_entries):
            _, (_, dropped) = self._done.popitem(last=False)
            self.bytes -= dropped

    def drop_answers(self) -> None:
        """Forget every finished answer (computations in flight still share theirs)."""
        self._done.clear()
        self.bytes = 0

    def lookup(self, key: Hashable) -> tuple[bool, Any]:
        """(True, answer) when a finished answer is kept for `key`, else (False, None)."""
        return self._cached(key)

    def _cached(self, key: Hashable) -> tuple[bool, Any]:
        if key in self._done:
            self._done.move_to_end(key)
            return True, self._done[key][0]
        return False, None

    def _flight(self, key: Hashable, start: Callable[[], Awaitable[Any]]) -> tuple[asyncio.Future, str]:
        future = self._running.get(key)
        if future is not None:
            return future, "shared"
        future = asyncio.ensure_future(start())
        self._running[key] = future
        future.add_done_callback(lambda f: self._keep(key, f))
        return future, "miss"

    async def share(self, key: Hashable, start: Callable[[], Awaitable[Any]]) -> tuple[Any, str]:
        """(answer, how) of an async computation that ends by itself within its time limit."""
        found, value = self._cached(key)
        if found:
            return value, "hit"
        future, how = self._flight(key, start)
        return await asyncio.shield(future), how

    async def get(self, key: Hashable, compute: Callable[[], Any], timeout: float) -> tuple[Any, str]:
        """(answer, how) of a blocking computation run in a thread, waited for at most `timeout`."""
        found, value = self._cached(key)
        if found:
            return value, "hit"
        future, how = self._flight(
            key, lambda: anyio.to_thread.run_sync(compute, abandon_on_cancel=True, limiter=limiter())
        )
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout), how
        except TimeoutError as exc:
            raise QueryTimeout(timeout) from exc


class GenerationCaches:
    """One AnswerCache per store generation, the newest two kept.

    A request reads one generation from start to end (api/deps.py store_of), so it asks the cache
    of that generation: after a write, requests still reading the old generation share the old
    cache, new ones start the new one. When a new generation appears the finished answers of the
    older ones are dropped at once, so memory stays within about one cache's bound."""

    KEPT = 2

    def __init__(self, make: Callable[[], AnswerCache]) -> None:
        self._make = make
        self._by_generation: OrderedDict[str | None, AnswerCache] = OrderedDict()

    def of(self, generation: str | None) -> AnswerCache:
        cache = self._by_generation.get(generation)
        if cache is None:
            for older in self._by_generation.values():
                older.drop_answers()
            cache = self._by_generation[generation] = self._make()
            while len(self._by_generation) > self.KEPT:
                self._by_generation.popitem(last=False)
        return cache


def _size(value: Any) -> int:
    if isinstance(value, tuple | list):
        return sum(_size(v) for v in value)
    if isinstance(value, bytes | str):
        return len(value)
    body = getattr(value, "body", None)
    return len(body) if isinstance(body, bytes) else 0
