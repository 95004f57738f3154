"""Running the API's own store queries off the event loop, within a time limit and a result cap.

Two kinds of queries reach the store, and they run in different places:

* client-written SPARQL (`/sparql`) runs in query worker processes that are killed at the time
  limit (api/query_workers.py, api/query_job.py): nothing a client writes runs in this process;
* the API's fixed queries (browse, lookup, the query library with bound values, validation)
  run here, in anyio's worker threads — pyoxigraph releases the GIL while it evaluates, so the
  event loop keeps serving. Their text is ours, so their cost is known; the limit is still
  enforced cooperatively (`materialize` checks the deadline between solutions) and on the event
  loop (`run_limited` stops waiting and answers 503), and the thread limiter bounds how many run.

`Materialized` / `materialize` are shared by both: a query worker pulls its answer with them too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import anyio.to_thread
import pyoxigraph as ox

from khadamat.results import Boolean, QueryResult, Solution, Solutions

T = TypeVar("T")

# At most this many store queries run at once per worker process; the rest wait their turn.
_LIMITER: anyio.CapacityLimiter | None = None


class QueryTimeout(Exception):
    """The query ran past the configured time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the query ran longer than the time limit of {seconds:g} s and was stopped; "
            "narrow it (add LIMIT, filters or a more specific pattern) or ask the operator "
            "to raise --query-timeout"
        )
        self.seconds = seconds


def limiter() -> anyio.CapacityLimiter:
    global _LIMITER
    if _LIMITER is None:
        _LIMITER = anyio.CapacityLimiter(8)
    return _LIMITER


async def run_limited(func: Callable[[], T], timeout: float) -> T:
    """Run `func` in a worker thread; raise QueryTimeout when it is not done within `timeout`."""
    try:
        with anyio.fail_after(timeout):
            return await anyio.to_thread.run_sync(func, abandon_on_cancel=True, limiter=limiter())
    except TimeoutError as exc:
        raise QueryTimeout(timeout) from exc


@dataclass
class Materialized:
    """A query's answer pulled out of the store's lazy result, at most `limit` rows or triples."""

    kind: str  # "solutions" | "boolean" | "graph"
    variables: list[str] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)
    triples: list[ox.Triple] = field(default_factory=list)
    boolean: bool = False
    truncated: bool = False


def materialize(result: QueryResult, limit: int, deadline: float, timeout: float) -> Materialized:
    """Pull up to `limit` items from a lazy result, checking the deadline between items."""
    if isinstance(result, Boolean):
        return Materialized("boolean", boolean=bool(result))
    if isinstance(result, Solutions):
        out = Materialized("solutions", variables=list(result.variables))
        items: list = out.solutions
    else:
        out = Materialized("graph")
        items = out.triples
    for count, item in enumerate(result):
        if count >= limit:
            out.truncated = True
            break
        if count % 256 == 0 and time.monotonic() > deadline:
            raise QueryTimeout(timeout)
        items.append(item)
    return out
