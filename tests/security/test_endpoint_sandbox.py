"""khadamat.sandbox.run_isolated: the primitive every piece of untrusted work runs in.

Each outcome is produced for real in a child process: a result, the work's own exception, a
time limit, a memory budget, a crash (SIGSEGV, from pyoxigraph's parser itself), and a socket
that cannot be opened (the listener on 127.0.0.1 never gets a connection).
"""

from __future__ import annotations

import ctypes
import os
import socket
import time

import pytest

from khadamat.sandbox import (
    IsolatedCrashed,
    IsolatedMemoryExceeded,
    IsolatedTimeout,
    run_isolated,
)

MiB = 2**20


def add(a: int, b: int, scale: int = 1) -> int:
    return (a + b) * scale


def refuse(row: int) -> None:
    raise ValueError(f"bad cell in row {row}")


def sleep_forever() -> None:
    time.sleep(3600)


def hoard() -> None:
    kept = []
    while True:
        kept.append(bytearray(16 * MiB))


def segfault() -> None:
    ctypes.string_at(0)


def parse_nested(depth: int) -> int:
    import pyoxigraph as ox

    return len(list(ox.Store().query("SELECT * WHERE { FILTER(" + "(" * depth + "1" + ")" * depth + ") }")))


def connect(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return "connected"


def pid() -> int:
    return os.getpid()


def test_returns_the_result_from_another_process() -> None:
    assert run_isolated(add, 2, 3, scale=10, timeout=30, memory_bytes=256 * MiB) == 50
    assert run_isolated(pid, timeout=30, memory_bytes=256 * MiB) != os.getpid()


def test_re_raises_the_works_own_exception() -> None:
    with pytest.raises(ValueError, match="bad cell in row 7"):
        run_isolated(refuse, 7, timeout=30, memory_bytes=256 * MiB)


def test_a_time_limit_kills_the_child() -> None:
    started = time.monotonic()
    with pytest.raises(IsolatedTimeout):
        run_isolated(sleep_forever, timeout=1.0, memory_bytes=256 * MiB)
    assert time.monotonic() - started < 2.0


def test_a_memory_budget_kills_the_child() -> None:
    with pytest.raises(IsolatedMemoryExceeded):
        run_isolated(hoard, timeout=30, memory_bytes=256 * MiB)


def test_a_crash_is_reported_and_the_parent_survives() -> None:
    with pytest.raises(IsolatedCrashed, match="SIGSEGV"):
        run_isolated(segfault, timeout=30, memory_bytes=256 * MiB)
    with pytest.raises(IsolatedCrashed, match="SIGSEGV"):
        run_isolated(parse_nested, 100_000, timeout=30, memory_bytes=256 * MiB)
    assert run_isolated(parse_nested, 10, timeout=30, memory_bytes=256 * MiB) == 1


def test_the_child_cannot_open_a_socket() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    with listener:
        with pytest.raises(PermissionError):
            run_isolated(connect, listener.getsockname()[1], timeout=30, memory_bytes=256 * MiB)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
        assert connect(listener.getsockname()[1]) == "connected"  # this process still can
