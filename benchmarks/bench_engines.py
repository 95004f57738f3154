"""The same catalog on the embedded store, Oxigraph server and Virtuoso, side by side (issue 10).

    python -m benchmarks.bench_engines [--services 2000] [--seed 1] [--engines embedded oxigraph virtuoso]
        [--connections 50] [--duration 10] [--oxigraph-write-mode single|staged] [--out benchmarks/out]

For each engine: a fresh store (the servers started by tests/remote_support.py on loopback
ports, each with its own database folder), then, timed as an operator sees them (wall clock of
the `khadamat` command):

* load — `khadamat load` of the generated catalog (benchmarks.generate) into the empty store,
  which must succeed (exit 0: a failed load would leave the other figures measuring an empty
  store); Virtuoso writes `staged`, Oxigraph server as `--oxigraph-write-mode` says (default
  `single`, one transaction; its 128 MiB request limit holds ~17,000 services: use `staged` above);
* validate — `khadamat validate` of the whole catalog (every shape);
* gaps — `khadamat gaps` (every gap query of the library);
* round trip — the median of 50 `ASK {}` through the store interface: what each of the many
  small queries of a page pays on a server before any work (none on the embedded store);
* browse p50/p99 — wrk with `--connections` against `khadamat serve` (1 worker) cycling over the
  browse mix of benchmarks/bench_api.py with the browse answer cache off, so that every request
  reaches the store (with the cache on, every engine answers from memory after the first).

Prints a table and writes OUT/bench-engines-N.json. Only loopback addresses are contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the server fixtures live with the tests

from benchmarks.bench_api import UNCACHED, run_wrk, sample_paths  # noqa: E402
from benchmarks.bench_load import DEFAULT_OUT, catalog_dir  # noqa: E402
from khadamat.config import WRITE_MODE_ENV, WRITE_MODES  # noqa: E402
from tests.remote_support import Server, start  # noqa: E402

ENGINES = ("embedded", "oxigraph", "virtuoso")
DATE = "1405/04/09"


def khadamat(store: Path, env: dict[str, str], *args: str, ok: tuple[int, ...] = (0, 1)) -> float:
    """Seconds `khadamat ARGS --store STORE` takes (exit codes `ok`; validate's 1 is findings)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "khadamat", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("KHADAMAT_")}, **env},
        cwd=ROOT,
    )
    if done.returncode not in ok:
        raise RuntimeError(f"khadamat {' '.join(args)}: {done.stderr[-2000:]}")
    return time.perf_counter() - started


def round_trip(store_dir: Path, server: Server | None) -> float:
    """Median milliseconds of `ASK {}` through the store interface."""
    from khadamat.config import Settings
    from khadamat.store import open_store

    endpoint = server.endpoint if server else None
    store = open_store(Settings(store_dir=store_dir, endpoint=endpoint), read_only=True)
    times = []
    for _ in range(50):
        started = time.perf_counter()
        store.ask("ASK {}")
        times.append((time.perf_counter() - started) * 1000)
    store.close()
    return statistics.median(times)


def browse(store_dir: Path, env: dict[str, str], connections: int, duration: int) -> dict[str, float]:
    from khadamat.api.testing import live_server

    with live_server(store_dir, env={**env, **UNCACHED}, timeout=300) as url:
        paths = sample_paths(url, random.Random(1))
        return run_wrk(url, paths, connections, duration)


def measure(
    engine: str, catalog: Path, folder: Path, connections: int, duration: int, oxigraph_mode: str = "single"
) -> dict[str, object]:
    """One engine's figures. Oxigraph server in `single` mode refuses a load over its request
    limit (nothing written): the engine is then measured again, fresh, `staged`, and says so."""
    try:
        return _measure(engine, catalog, folder, connections, duration, oxigraph_mode)
    except RuntimeError as exc:
        if engine != "oxigraph" or "--write-mode staged" not in str(exc):
            raise
        result = _measure(engine, catalog, folder / "staged", connections, duration, "staged")
        return {**result, "single_refused": str(exc)[-300:]}


def _measure(
    engine: str, catalog: Path, folder: Path, connections: int, duration: int, oxigraph_mode: str
) -> dict[str, object]:
    server = None if engine == "embedded" else start(engine, folder / "server")
    env = dict(server.env) if server else {}
    if engine == "oxigraph":
        env[WRITE_MODE_ENV] = oxigraph_mode
    store = folder / "store"
    try:
        result: dict[str, object] = {"engine": engine, "write_mode": env.get(WRITE_MODE_ENV)}
        result["load_s"] = khadamat(store, env, "load", str(catalog / "submission"), "-q", ok=(0,))
        result["validate_s"] = khadamat(store, env, "validate", "--date", DATE, "--format", "json")
        result["gaps_s"] = khadamat(store, env, "gaps", "--format", "json")
        result["round_trip_ms"] = round_trip(store, server)
        try:
            timing = browse(store, env, connections, duration)
        except Exception as exc:  # the figures above stand; the browse step says why it has none
            result["browse_error"] = f"{type(exc).__name__}: {exc}"[:300]
            return result
        result["browse_p50_ms"] = timing.get("p50_ms")
        result["browse_p99_ms"] = timing.get("p99_ms")
        result["browse_rps"] = timing.get("rps")
        result["browse_non_2xx"] = timing.get("non_2xx")
        return result
    finally:
        if server is not None:
            server.stop()


def table(rows: Sequence[dict[str, object]]) -> str:
    columns = ["engine", "load_s", "validate_s", "gaps_s", "round_trip_ms", "browse_p50_ms", "browse_p99_ms"]
    lines = [" | ".join(columns), " | ".join("---" for _ in columns)]
    for row in rows:
        cells = [f"{row[c]:.2f}" if isinstance(row.get(c), float) else str(row.get(c)) for c in columns]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument(
        "--oxigraph-write-mode",
        choices=WRITE_MODES,
        default="single",
        help="how Oxigraph server is written (docs/deployment.md); staged above ~17,000 services",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    catalog = catalog_dir(args.out, args.services, args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as scratch:
        for engine in args.engines:
            print(f"{engine}: {args.services} services", file=sys.stderr, flush=True)
            folder = Path(scratch) / engine
            rows.append(
                measure(engine, catalog, folder, args.connections, args.duration, args.oxigraph_write_mode)
            )
            print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    report = {"services": args.services, "seed": args.seed, "connections": args.connections, "results": rows}
    target = args.out / f"bench-engines-{args.services}.json"
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(rows))
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
