"""Shared, cached SPARQL answers: a read-only store gives the same answer to the same request.

Two things make the endpoint hold up under many clients asking the same heavy query (the gap
queries of an audit dashboard):

* single flight — identical requests in flight share one computation instead of starting one
  thread each;
* a small LRU of finished answers — the store cannot change while the worker lives (it is opened
  read-only), so an answer stays right until the server restarts after a load.

A computation keeps running when the client that started it gave up at the time limit, and its
answer is cached when it ends: the next client gets it at once. Answers larger than
`max_entry_bytes` are not kept. `X-Khadamat-Cache: hit|shared|miss` tells which case it was.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import anyio.to_thread
from khadamat.api.execution import QueryTimeout, limiter


class AnswerCache:
    def __init__(self, max_entries: int = 256, max_entry_bytes: int = 16 * 2**20) -> None:
        self.max_entries = max_entries
        self.max_entry_bytes = max_entry_bytes
        self._done: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future] = {}

    def _keep(self, key: Hashable, future: asyncio.Future) -> None:
        self._running.pop(key, None)
        if future.cancelled() or future.exception() is not None:
            return
        value = future.result()
        if _size(value) <= self.max_entry_bytes:
            self._done[key] = value
            self._done.move_to_end(key)
            while len(self._done) > self.max_entries:
                self._done.popitem(last=False)

    async def get(self, key: Hashable, compute: Callable[[], Any], timeout: float) -> tuple[Any, str]:
        """(answer, how): from the cache, from a computation in flight, or computed now."""
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key], "hit"
        how = "shared"
        future = self._running.get(key)
        if future is None:
            how = "miss"
            future = asyncio.ensure_future(
                anyio.to_thread.run_sync(compute, abandon_on_cancel=True, limiter=limiter())
            )
            self._running[key] = future
            future.add_done_callback(lambda f: self._keep(key, f))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout), how
        except TimeoutError as exc:
            raise QueryTimeout(timeout) from exc


def _size(value: Any) -> int:
    if isinstance(value, tuple):
        return sum(_size(v) for v in value)
    return len(value) if isinstance(value, bytes | str) else 0
