"""A pool of query worker processes: where every client-written SPARQL query runs.

Why processes: a query can crash the engine (parser recursion, SIGSEGV), plan or evaluate for
minutes, or grow memory without bound, and pyoxigraph cannot be interrupted. In a thread of the
server that meant a dead server, a slot held forever and memory never returned. In a worker
process the server stays out of harm's way:

* each worker (`serve_queries`) drops the network for good (seccomp, khadamat/sandbox.py) and
  bounds its data segment, then opens the store read-only and answers jobs one at a time, each
  from the store's active generation (a readlink per job; reopened when a write switched it);
* the server sends a `QueryJob` and waits, in a thread of its own (the event loop never blocks),
  watching the worker's memory. Past the time limit the worker is killed (SIGKILL): the client
  gets 503 at once and the slot is free again as soon as a fresh worker has opened the store
  (about half a second); over its memory budget it is killed the same way (503); if it dies by
  itself (a crash), the client gets 400 "too complex" and the worker is replaced;
* a worker that kept more than half its budget after a query is replaced too, so memory a big
  query took is given back to the system rather than hoarded.

The pool has `workers` slots; a request waits for a free slot within its own time limit and is
answered 503 when none frees up. `busy` and `size` are shown by /health.

On a remote store (settings.endpoint, khadamat/remote_store.py) there is no engine in this machine
to contain, and a worker without network could not reach the server: `RemoteQueries` takes the
workers' place. The client's query, already through the guard (size, tokens, nesting; SERVICE
refused: api/guard.py), is forwarded by the server process to the SPARQL server, in a thread, at
most `workers` at a time: the request gives up at the time limit (the server's own query timeout
should be no longer, docs/deployment.md), the answer is read up to a byte limit
(4 × max_answer_bytes of SPARQL JSON) and cut at result_limit rows, then serialized and checked
like a worker's. Evaluation — its CPU, memory and crashes — is the SPARQL server's, under its own
limits and with a read-only user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import anyio
import anyio.to_thread
from khadamat.api.execution import QueryTimeout
from khadamat.api.query_job import (
    STORE_UNAVAILABLE,
    TOO_COMPLEX,
    EndpointError,
    QueryAnswer,
    QueryJob,
    execute,
)

from khadamat import sandbox
from khadamat.config import Settings

log = logging.getLogger("khadamat.api.query_workers")

READY = "ready"
START_TIMEOUT = 60.0  # seconds for a new worker to open the store
BUSY = "every query worker is busy; try again in a few seconds"


def serve_queries(conn: Connection, settings: Settings, memory_bytes: int) -> None:
    """The body of a worker process: no network, bounded memory, the store read-only, then jobs."""
    sandbox.prepare_child(memory_bytes)
    from khadamat.live_store import LiveStore

    try:
        live = LiveStore(settings)
    except Exception as exc:
        conn.send((sandbox.FOREIGN, f"{type(exc).__name__}: {exc}"))
        return
    conn.send(READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        # One readlink per query: a write switched `active` → this query reads the new generation.
        sandbox.send(conn, sandbox.outcome(_execute_live, (live, job), {}))


def _execute_live(live: Any, job: QueryJob) -> QueryAnswer:
    """Answer `job` from the active generation (reopened when it changed)."""
    try:
        store = live.current()
    except Exception:
        log.exception("query worker cannot open the store's active generation")
        raise EndpointError(503, STORE_UNAVAILABLE) from None
    return execute(store, job)


class WorkerUnavailable(Exception):
    """A worker could not be started (the store cannot be opened read-only)."""


class _Slot:
    """One worker process and the pipe to it; replaced whenever it is killed or dies."""

    def __init__(self, settings: Settings, memory_bytes: int) -> None:
        self.settings = settings
        self.memory_bytes = memory_bytes
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None

    def alive(self) -> bool:
        return self.process is not None and self.process.exitcode is None

    def start(self) -> None:
        """Start a fresh worker and wait until it has opened the store (blocking)."""
        self.retire()
        parent, child = sandbox.CONTEXT.Pipe()
        process = sandbox.CONTEXT.Process(
            target=serve_queries,
            args=(child, self.settings, self.memory_bytes),
            daemon=True,
            name="khadamat-query-worker",
        )
        process.start()
        child.close()
        self.process, self.conn = process, parent
        try:
            message = sandbox.await_reply(
                process, parent, time.monotonic() + START_TIMEOUT, self.memory_bytes
            )
        except sandbox.IsolatedError as exc:
            self.retire()
            raise WorkerUnavailable(f"a query worker did not start: {exc}") from None
        if message != READY:
            self.retire()
            raise WorkerUnavailable(f"a query worker could not open the store: {message[1]}")

    def ask(self, job: QueryJob, deadline: float) -> Any:
        """Send one job and return the worker's reply message (blocking; see sandbox.await_reply)."""
        if not self.alive():
            self.start()
        assert self.process is not None and self.conn is not None
        self.conn.send(job)
        return sandbox.await_reply(self.process, self.conn, deadline, self.memory_bytes)

    def bloated(self) -> bool:
        return self.process is not None and sandbox.rss_of(self.process) > self.memory_bytes // 2

    def retire(self) -> None:
        if self.process is not None:
            sandbox.stop(self.process)
        if self.conn is not None:
            self.conn.close()
        self.process, self.conn = None, None


def _endpoint_error(exc: sandbox.IsolatedError, job: QueryJob, memory_bytes: int) -> EndpointError:
    if isinstance(exc, sandbox.IsolatedTimeout):
        return EndpointError(503, str(QueryTimeout(job.timeout)))
    if isinstance(exc, sandbox.IsolatedMemoryExceeded):
        return EndpointError(
            503,
            f"the query needed more memory than the limit of {memory_bytes // 2**20} MiB and was stopped "
            "(setting worker_memory_bytes, khadamat serve --sparql-worker-memory); narrow it or add LIMIT",
        )
    if isinstance(exc, sandbox.IsolatedCrashed):
        return EndpointError(400, TOO_COMPLEX)
    return EndpointError(500, "the query failed while it ran")


class RemoteQueries:
    """Client-written queries forwarded to a remote store, `size` at a time (see the module doc)."""

    ANSWER_FACTOR = 4  # SPARQL JSON read per byte of the largest answer served

    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.size = size
        self.busy = 0
        self._store: Any = None
        self._threads = anyio.CapacityLimiter(size)

    async def start(self) -> None:
        from khadamat.store import open_store

        self._store = open_store(self.settings, read_only=True)

    async def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    async def run(self, job: QueryJob) -> QueryAnswer:
        assert self._store is not None, "the pool is not started"
        store = self._store.limited(job.timeout, job.max_answer_bytes * self.ANSWER_FACTOR)
        self.busy += 1
        try:
            with anyio.fail_after(job.timeout):
                return await anyio.to_thread.run_sync(
                    execute, store, job, abandon_on_cancel=True, limiter=self._threads
                )
        except TimeoutError:
            raise EndpointError(503, str(QueryTimeout(job.timeout))) from None
        finally:
            self.busy -= 1


class QueryWorkerPool:
    """`size` query worker processes over one store; `run` answers a job in one of them.
    On a remote store, `RemoteQueries` answers instead (see the module doc)."""

    def __init__(self, settings: Settings, size: int, memory_bytes: int) -> None:
        self.size = max(1, size)
        self.memory_bytes = memory_bytes
        self._remote = RemoteQueries(settings, self.size) if settings.endpoint is not None else None
        self._slots = [] if self._remote else [_Slot(settings, memory_bytes) for _ in range(self.size)]
        self._idle: asyncio.Queue[_Slot] | None = None
        self._threads = anyio.CapacityLimiter(self.size)
        self._recycling: set[asyncio.Task] = set()

    @property
    def busy(self) -> int:
        """Slots running a query or being replaced (0 when the pool is not started)."""
        if self._remote is not None:
            return self._remote.busy
        return 0 if self._idle is None else self.size - self._idle.qsize()

    async def start(self) -> None:
        """Start every worker (in parallel) and wait until each has opened the store."""
        if self._remote is not None:
            await self._remote.start()
            return
        self._idle = asyncio.Queue()
        async with anyio.create_task_group() as group:
            for slot in self._slots:
                group.start_soon(self._to_thread, slot.start)
        for slot in self._slots:
            self._idle.put_nowait(slot)

    async def close(self) -> None:
        if self._remote is not None:
            await self._remote.close()
        for task in list(self._recycling):
            task.cancel()
        for slot in self._slots:
            await self._to_thread(slot.retire)

    async def _to_thread(self, func: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(func, *args, limiter=self._threads)

    async def run(self, job: QueryJob) -> QueryAnswer:
        """Answer `job` within `job.timeout` seconds (waiting for a free worker included).

        Raises EndpointError (the worker's own, or 503/400/500 when it had to be stopped).
        """
        if self._remote is not None:
            return await self._remote.run(job)
        assert self._idle is not None, "the pool is not started"
        deadline = time.monotonic() + job.timeout
        try:
            slot = await asyncio.wait_for(self._idle.get(), job.timeout)
        except TimeoutError:
            raise EndpointError(503, BUSY) from None
        replace = True
        try:
            message = await self._to_thread(slot.ask, job, deadline)
            replace = await self._to_thread(slot.bloated)
            return sandbox.unwrap(message, self.memory_bytes)
        except sandbox.IsolatedError as exc:
            raise _endpoint_error(exc, job, self.memory_bytes) from None
        except WorkerUnavailable:
            log.exception("query worker unavailable")
            raise EndpointError(503, BUSY) from None
        finally:
            self._give_back(slot, replace)

    def _give_back(self, slot: _Slot, replace: bool) -> None:
        assert self._idle is not None
        if not replace:
            self._idle.put_nowait(slot)
            return
        task = asyncio.get_running_loop().create_task(self._replace(slot))
        self._recycling.add(task)
        task.add_done_callback(self._recycling.discard)

    async def _replace(self, slot: _Slot) -> None:
        assert self._idle is not None
        try:
            await anyio.to_thread.run_sync(slot.start)
        except WorkerUnavailable:
            log.exception("query worker not replaced; it is started again on its next query")
        finally:
            with contextlib.suppress(Exception):
                self._idle.put_nowait(slot)
