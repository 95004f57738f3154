"""Running untrusted work out of the serving process: no network, bounded memory, a time limit.

Why a process and not a thread: pyoxigraph (Rust) and the parsers under it can recurse until the
stack overflows (SIGSEGV), plan for minutes, or allocate without bound, and none of that can be
interrupted from Python. Only a separate process can be stopped for sure (SIGKILL) and give all
its memory back. So every piece of work whose cost depends on what a client sent (a SPARQL query,
an uploaded workbook) runs in a child process:

* `run_isolated(func, *args, timeout=..., memory_bytes=..., **kwargs)` runs one call of a
  picklable top-level function in a fresh child (multiprocessing "spawn": nothing of the server's
  threads, locks or open store is inherited) and returns its result. Blocking: call it from a
  worker thread in async code (`anyio.to_thread.run_sync`).
* The child first calls `drop_network()` (a seccomp filter: creating an IPv4/IPv6 socket fails
  with EACCES for the rest of the process's life — SSRF is impossible whatever the work does),
  lowers its own `RLIMIT_DATA` to the memory budget (a hard stop that the kernel enforces between
  two looks of the parent), and only then unpickles the function and its arguments.
* The parent waits for the answer while watching the child: past `timeout` seconds, or with a
  resident set over `memory_bytes`, the child is killed with SIGKILL; a child that dies by
  itself (a signal, a nonzero exit) is reported as crashed.

Outcomes are exceptions the caller maps to its own fixed messages (they never carry text of the
child's internals, so they are safe to show):

* `IsolatedTimeout` — ran past `timeout`; the child was killed.
* `IsolatedMemoryExceeded` — went over `memory_bytes` (seen by the parent, or an allocation the
  kernel refused: a Python MemoryError, or an abort (SIGABRT), which is how Rust and C++ code end
  when an allocation fails); the child was killed or is dead.
* `IsolatedCrashed` — the child died otherwise (SIGSEGV from deep recursion, a nonzero exit).
* any exception the function raised and that pickles is re-raised as itself; one that does not
  pickle becomes `IsolatedError` naming its type only.

Measured on pyoxigraph 0.5 / RocksDB (tests/security/test_endpoint_*.py): RLIMIT_DATA at the
budget works with a read-only RocksDB store (its mappings are small); RLIMIT_AS does not (RocksDB
and glibc arenas reserve far more address space than they use), so it is not used.

`api/query_workers.py` builds its long-lived query workers from the same pieces
(`prepare_child`, `await_reply`, `stop`), so the rules are the same for one-off and pooled work.
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import pickle
import resource
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

import psutil

T = TypeVar("T")

# How often the parent looks at a running child's memory (seconds).
WATCH_INTERVAL = 0.05
# The context every child is started from: a fresh interpreter, nothing inherited but the pipe.
CONTEXT = multiprocessing.get_context("spawn")


class IsolatedError(Exception):
    """The isolated work did not return a result (base of the more precise errors below)."""


class IsolatedTimeout(IsolatedError):
    """The work ran past its time limit; the child was killed."""


class IsolatedMemoryExceeded(IsolatedError):
    """The work went over its memory budget; the child was killed (or died of it)."""


class IsolatedCrashed(IsolatedError):
    """The child died by itself: a signal (e.g. SIGSEGV from deep recursion) or a nonzero exit."""


def drop_network() -> None:
    """Forbid this process, for good, to create IPv4/IPv6 sockets (seccomp; they fail with EACCES).

    A filter cannot be removed once loaded and is inherited by threads and children, so after this
    call nothing in the process (pyoxigraph's SERVICE client included) can open a connection.
    io_uring is refused too, since it can create sockets without the socket() system call.
    """
    import pyseccomp as seccomp

    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET):
        flt.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.EQ, family))
    for call in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
        with contextlib.suppress(RuntimeError, ValueError, OSError):  # old kernel/libseccomp
            flt.add_rule(seccomp.ERRNO(errno.ENOSYS), call)
    flt.load()


def limit_memory(memory_bytes: int) -> None:
    """Lower this process's RLIMIT_DATA (heap and private mappings) to `memory_bytes`."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def prepare_child(memory_bytes: int) -> None:
    """What every child does before it touches untrusted input: no network, bounded memory."""
    drop_network()
    limit_memory(memory_bytes)


def rss_of(process: BaseProcess) -> int:
    """Resident set size of a child in bytes (0 when it is gone)."""
    try:
        return psutil.Process(process.pid).memory_info().rss
    except (psutil.Error, TypeError):
        return 0


def stop(process: BaseProcess) -> None:
    """Kill a child (SIGKILL) if it still runs, and reap it."""
    if process.pid is None:
        return
    if process.exitcode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=5)


def death_error(process: BaseProcess, memory_bytes: int) -> IsolatedError:
    """The error that says why a child that stopped answering died."""
    process.join(timeout=2)
    code = process.exitcode
    if code is not None and code == -signal.SIGABRT:
        return IsolatedMemoryExceeded(
            f"the work aborted (an allocation failed) within its memory budget of {memory_bytes} bytes"
        )
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return IsolatedCrashed(f"the work crashed ({name})")
    return IsolatedCrashed(f"the work ended without an answer (exit status {code})")


def await_reply(process: BaseProcess, conn: Connection, deadline: float, memory_bytes: int) -> Any:
    """Wait for the child's next message until `deadline` (time.monotonic()), watching its memory.

    Raises IsolatedTimeout / IsolatedMemoryExceeded (after killing the child) or IsolatedCrashed /
    IsolatedMemoryExceeded (the child died by itself). The caller decides whether to replace it.
    """
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            stop(process)
            raise IsolatedTimeout("the work ran past its time limit and was stopped")
        if conn.poll(min(WATCH_INTERVAL, remaining)):
            try:
                return conn.recv()
            except (EOFError, OSError):
                raise death_error(process, memory_bytes) from None
        if rss_of(process) > memory_bytes:
            stop(process)
            raise IsolatedMemoryExceeded(f"the work went over its memory budget of {memory_bytes} bytes")
        if process.exitcode is not None and not conn.poll(0):
            raise death_error(process, memory_bytes)


# Messages from a child: (OK, result) | (RAISED, exception) | (MEMORY, None) | (FOREIGN, type name).
OK, RAISED, MEMORY, FOREIGN = "ok", "raised", "memory", "foreign"


def outcome(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> tuple[str, Any]:
    """Call `func` and turn what happened into a message the parent can always unpickle."""
    try:
        return OK, func(*args, **kwargs)
    except MemoryError:
        return MEMORY, None
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            return FOREIGN, type(exc).__name__
        return RAISED, exc


def send(conn: Connection, message: tuple[str, Any]) -> None:
    """Send a message; a result that does not pickle is reported by its type only."""
    try:
        conn.send(message)
    except MemoryError:
        conn.send((MEMORY, None))
    except (pickle.PicklingError, TypeError, AttributeError):
        conn.send((FOREIGN, type(message[1]).__name__))


def unwrap(message: tuple[str, Any], memory_bytes: int) -> Any:
    """The result in a child's message, or the exception it stands for raised."""
    status, value = message
    if status == OK:
        return value
    if status == RAISED:
        raise value
    if status == MEMORY:
        raise IsolatedMemoryExceeded(f"the work went over its memory budget of {memory_bytes} bytes")
    raise IsolatedError(f"the work failed with {value}, which cannot be passed back")


def _child_main(conn: Connection, payload: bytes, memory_bytes: int) -> None:
    prepare_child(memory_bytes)
    try:
        func, args, kwargs = pickle.loads(payload)
    except Exception as exc:
        send(conn, (FOREIGN, type(exc).__name__))
        return
    send(conn, outcome(func, args, kwargs))
    conn.close()


def run_isolated(func: Callable[..., T], *args: Any, timeout: float, memory_bytes: int, **kwargs: Any) -> T:
    """Run `func(*args, **kwargs)` in a fresh child without network, within `timeout` s and
    `memory_bytes` of memory; return its result or re-raise its exception (see the module doc).

    `func`, its arguments and its result must pickle; `func` must be importable (top level of a
    module). The start-up of the child (~0.2–0.5 s: a new interpreter importing `func`'s module)
    counts against `timeout`.
    """
    payload = pickle.dumps((func, args, kwargs))
    receiver, sender = CONTEXT.Pipe(duplex=False)
    process = CONTEXT.Process(
        target=_child_main, args=(sender, payload, memory_bytes), daemon=True, name="khadamat-isolated"
    )
    deadline = time.monotonic() + timeout
    process.start()
    sender.close()
    try:
        message = await_reply(process, receiver, deadline, memory_bytes)
    finally:
        receiver.close()
        stop(process)
    return unwrap(message, memory_bytes)
