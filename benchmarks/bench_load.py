"""Load benchmark (issue 2 §6): the workbook path against pyoxigraph's own bulk_load.

    python -m benchmarks.bench_load --sizes 10000 50000 [--seed 1] [--out benchmarks/out]

For each size it generates the catalog once (cached in OUT/catalog-…), then runs, each in a fresh
process so that peak memory is that of one load only:

1. `khadamat.loader.load_submission` of the CSV folder into a fresh on-disk store (wall time of
   the call, triples written, triples per second, peak RSS of the process), then exports the
   submission's graphs from the store as N-Triples;
2. the baseline of the issue: a fresh `pyoxigraph.Store(path).bulk_load` of that N-Triples file
   (every triple into the default graph: 3 indexes);
3. a second baseline: `bulk_load` of the same quads as N-Quads, in the same named graphs the
   loader writes (6 indexes) — the floor for any loader that keeps one graph per agency.

It prints a Markdown table (the one in benchmarks/README.md) and writes OUT/load.json. Targets of
issue 2: at 50k services the workbook path takes ≤ 75 s and ≤ 2 GB, within 2× of bulk_load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
TARGET_SECONDS_50K = 75.0
TARGET_RSS_MB = 2048.0
TARGET_RATIO = 2.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def catalog_dir(out: Path, size: int, seed: int) -> Path:
    """The cached catalog of that size, generated on first use (keyed by the generator version)."""
    from benchmarks.generate import GENERATOR_VERSION, generate, write_catalog

    folder = out / f"catalog-{size}-seed{seed}-v{GENERATOR_VERSION}"
    if not (folder / "manifest.json").exists():
        started = time.perf_counter()
        write_catalog(generate(size, seed), folder)
        print(f"generated {folder.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return folder


def loader_api() -> Callable[..., Any]:
    """The contract's `khadamat.loader.load_submission` (from its module while the package lacks it)."""
    import khadamat.loader as loader

    if hasattr(loader, "load_submission"):
        return loader.load_submission
    from khadamat.loader.submission import load_submission

    return load_submission


class PhaseClock:
    """The loader's progress callback: seconds spent in each phase it announces."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._phase: str | None = None
        self._since = time.perf_counter()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self._phase:
            self.stop()
            self._phase, self._since = phase, time.perf_counter()

    def stop(self) -> None:
        if self._phase is not None:
            now = time.perf_counter()
            self.seconds[self._phase] = round(self.seconds.get(self._phase, 0.0) + now - self._since, 2)
            self._phase = None


# --------------------------------------------------------------------------- child processes
def child_load(catalog: Path, store_dir: Path, export: Path) -> dict[str, object]:
    """Time load_submission into a fresh store; then export what it wrote (EXPORT.nt and .nq)."""
    import pyoxigraph as ox

    load_submission = loader_api()

    from khadamat.config import Settings
    from khadamat.store import open_store

    started = time.perf_counter()
    store = open_store(Settings.from_env(store_dir=store_dir))
    reference_seconds = time.perf_counter() - started
    rss_before = peak_rss_mb()
    phases = PhaseClock()
    started = time.perf_counter()
    submission = load_submission([catalog], store, phases)
    seconds = time.perf_counter() - started
    phases.stop()
    rss = peak_rss_mb()
    graphs = list(submission.graphs)
    triples = sum(len(t) for t in submission.graphs.values())
    quads = [q for g in graphs for q in store.quads(g)]
    ox.serialize(
        (q.triple for q in quads), output=str(export.with_suffix(".nt")), format=ox.RdfFormat.N_TRIPLES
    )
    ox.serialize(quads, output=str(export.with_suffix(".nq")), format=ox.RdfFormat.N_QUADS)
    store.close()
    return {
        "seconds": seconds,
        "triples": triples,
        "stored_triples": len(quads),
        "graphs": len(graphs),
        "provenance_quads": len(submission.provenance),
        "peak_rss_mb": rss,
        "rss_before_load_mb": rss_before,
        "reference_graphs_seconds": reference_seconds,
        "phases": phases.seconds,
    }


def child_bulk(path: Path, store_dir: Path) -> dict[str, object]:
    """Time pyoxigraph's bulk_load of an N-Triples (.nt) or N-Quads (.nq) file into a fresh store."""
    import pyoxigraph as ox

    store = ox.Store(str(store_dir))
    fmt = ox.RdfFormat.N_QUADS if path.suffix == ".nq" else ox.RdfFormat.N_TRIPLES
    started = time.perf_counter()
    store.bulk_load(path=str(path), format=fmt)
    store.flush()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "triples": len(store), "peak_rss_mb": peak_rss_mb()}


def run_child(*args: str) -> dict[str, object]:
    """Run this module in a fresh Python process and read the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_load", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- one size
def measure(size: int, seed: int, out: Path, keep_stores: bool) -> dict[str, object]:
    catalog = catalog_dir(out, size, seed)
    manifest = json.loads((catalog / "manifest.json").read_text("utf-8"))
    work = out / f"run-{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    export = work / "catalog"
    try:
        load = run_child("--child-load", str(catalog / "submission"), str(work / "store"), str(export))
        bulk = run_child("--child-bulk", str(export.with_suffix(".nt")), str(work / "bulk-store"))
        shutil.rmtree(work / "bulk-store", ignore_errors=True)
        bulk_nq = run_child("--child-bulk", str(export.with_suffix(".nq")), str(work / "bulk-store"))
    finally:
        nt_bytes = export.with_suffix(".nt").stat().st_size if export.with_suffix(".nt").exists() else 0
        if not keep_stores:  # stores and exports are hundreds of MB at 50k
            shutil.rmtree(work, ignore_errors=True)
    load_s, bulk_s = float(load["seconds"]), float(bulk["seconds"])
    return {
        "services": size,
        "service_rows": manifest["rows"]["services"],
        "rows": sum(manifest["rows"].values()),
        "load": load,
        "bulk_load": bulk,
        "bulk_load_nquads": bulk_nq,
        "triples_per_service": round(int(load["stored_triples"]) / size, 1),
        "triples_per_second": round(int(load["stored_triples"]) / load_s),
        "nt_bytes": nt_bytes,
        "ratio_to_bulk_load": round(load_s / bulk_s, 2) if bulk_s else None,
        "ratio_to_bulk_load_nquads": round(load_s / float(bulk_nq["seconds"]), 2),
    }


def table(results: Sequence[dict[str, object]]) -> str:
    head = (
        "| services | sheet rows | triples | triples/service | load_submission s | triples/s | "
        "peak RSS MB | bulk_load .nt s (RSS MB) | ratio | bulk_load .nq s (RSS MB) | ratio |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in results:
        load, bulk, nq = r["load"], r["bulk_load"], r["bulk_load_nquads"]
        lines.append(
            f"| {r['services']:,} | {r['rows']:,} | {load['stored_triples']:,} | "
            f"{r['triples_per_service']} | "
            f"{load['seconds']:.1f} | {r['triples_per_second']:,} | {load['peak_rss_mb']:.0f} | "
            f"{bulk['seconds']:.1f} ({bulk['peak_rss_mb']:.0f}) | {r['ratio_to_bulk_load']} | "
            f"{nq['seconds']:.1f} ({nq['peak_rss_mb']:.0f}) | {r['ratio_to_bulk_load_nquads']} |"
        )
    return head + "\n".join(lines)


def verdict(results: Sequence[dict[str, object]]) -> list[str]:
    """The issue's targets: ≤ 2 GB and ≤ 2× bulk_load at every size, ≤ 75 s at 50k services."""
    notes = []
    for r in results:
        load = r["load"]
        checks = [
            (
                f"memory {load['peak_rss_mb']:.0f} MB ≤ {TARGET_RSS_MB:.0f}",
                load["peak_rss_mb"] <= TARGET_RSS_MB,
            ),
            (
                f"ratio {r['ratio_to_bulk_load']} ≤ {TARGET_RATIO}",
                (r["ratio_to_bulk_load"] or 0) <= TARGET_RATIO,
            ),
        ]
        if r["services"] == 50000:
            checks.append(
                (
                    f"time {load['seconds']:.0f} s ≤ {TARGET_SECONDS_50K:.0f}",
                    load["seconds"] <= TARGET_SECONDS_50K,
                )
            )
        met = [name for name, ok in checks if ok]
        missed = [name for name, ok in checks if not ok]
        notes.append(f"{r['services']:,}: met: {'; '.join(met) or '—'}; missed: {'; '.join(missed) or '—'}")
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep-stores", action="store_true", help="keep the stores in OUT/run-SIZE/")
    parser.add_argument("--child-load", nargs=3, metavar=("CATALOG", "STORE", "NT"), help=argparse.SUPPRESS)
    parser.add_argument("--child-bulk", nargs=2, metavar=("NT", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_load:
        print(json.dumps(child_load(*(Path(p) for p in args.child_load))))
        return 0
    if args.child_bulk:
        print(json.dumps(child_bulk(*(Path(p) for p in args.child_bulk))))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()  # the machine is shared: say how busy it was
    results = []
    for size in args.sizes:
        results.append(measure(size, args.seed, args.out, args.keep_stores))
        print(f"{size}: {json.dumps(results[-1])}", file=sys.stderr)
    report = {
        "machine": {
            "python": platform.python_version(),
            "pyoxigraph": _version("pyoxigraph"),
            "khadamat": _version("khadamat"),
            "cpus": _cpus(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "results": results,
        "verdict": verdict(results),
    }
    (args.out / "load.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    print(table(results))
    print()
    print("\n".join(f"- {line}" for line in report["verdict"]))
    return 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


if __name__ == "__main__":
    sys.exit(main())
