"""The web application under load (issue 5 §6): wrk against `khadamat serve` on loopback.

    python -m benchmarks.bench_api [--services 50000] [--seed 1] [--workers 1 2]
        [--connections 50] [--duration 15] [--store DIR] [--out benchmarks/out]

Generates the synthetic catalog (benchmarks.generate), loads it with `khadamat load` (the real
loader), starts `khadamat serve --workers N` on a free 127.0.0.1 port and runs wrk (Debian
package `wrk`) with 50 connections against two route families:

* browse — /services/{id}, /services/{id}/legal-basis, /services?agency=…&page=…,
  /services?q=…, /agencies/{code}, /laws/{code}/{article}, cycling over sampled IDs and codes;
* sparql-gaps — GET /sparql with the text of each gap-*.rq of the query library;
* browse-uncached — the browse mix again on a server started with its browse answer cache off
  (KHADAMAT_BROWSE_CACHE_BYTES=0): the cost of a card computed afresh, as after every load.
  Reported beside the cached figure, not judged.

Targets (issue 5): browse p99 ≤ 100 ms, SPARQL gap queries p99 ≤ 2 s, with 1 and 2 workers.
Prints a table and writes OUT/bench-api-N.json. Only loopback addresses are contacted; every
run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
from khadamat.api.testing import live_server

from khadamat.resources import data_files

DEFAULT_OUT = Path("benchmarks/out")
TARGETS_MS = {"browse": 100.0, "sparql-gaps": 2000.0, "browse-uncached": None}
# The same browse mix against a server whose browse answer cache is off (api/browse_cache.py):
# what every request costs when it is computed, i.e. the first reader of each card after a load.
UNCACHED = {"KHADAMAT_BROWSE_CACHE_BYTES": "0"}
LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def prepare_store(services: int, seed: int, out: Path) -> Path:
    """Generate and load the catalog once; later runs reuse OUT/api-store-N."""
    store = out / f"api-store-{services}"
    if store.is_dir() and any(store.iterdir()):
        return store
    from benchmarks.generate import generate, write_catalog

    catalog = write_catalog(generate(services, seed=seed), out / f"catalog-{services}")
    submission = catalog / "submission" if (catalog / "submission").is_dir() else catalog
    subprocess.run(
        [sys.executable, "-m", "khadamat", "load", "--store", str(store), str(submission)], check=True
    )
    return store


def _codes(tree: list[dict]) -> list[str]:
    return [code for a in tree for code in [a["code"], *_codes(a["children"])]]


def sample_paths(url: str, rng: random.Random, count: int = 300) -> list[str]:
    """Browse URLs over IDs, agencies and articles that exist, found through the API itself."""
    with httpx.Client(base_url=url, timeout=120) as client:
        items = client.get("/services", params={"size": 500}).json()["items"]
        ids = [i["service_id"] for i in items if i["service_id"]]
        agencies = _codes(client.get("/agencies").json()["agencies"])
        articles = sorted(
            {
                (step["instrument"]["code"], step["node"]["article_number"])
                for sid in ids[:40]
                for step in client.get(f"/services/{sid}/legal-basis").json()["steps"]
                if step["instrument"] and step["node"] and step["node"]["article_number"]
            }
        )
    words = ["صدور", "پروانه", "مجوز", "ثبت", "گواهی", "تمدید"]
    paths: list[str] = []
    for _ in range(count):
        kind = rng.randrange(6 if articles else 5)
        if kind == 0:
            paths.append(f"/services/{rng.choice(ids)}")
        elif kind == 1:
            paths.append(f"/services/{rng.choice(ids)}/legal-basis")
        elif kind == 2:
            query = {"agency": rng.choice(agencies), "page": rng.randint(1, 3), "size": 20}
            paths.append("/services?" + urlencode(query))
        elif kind == 3:
            paths.append("/services?" + urlencode({"q": rng.choice(words), "size": 20}))
        elif kind == 4:
            paths.append("/agencies/" + quote(rng.choice(agencies)))
        else:
            code, number = rng.choice(articles)
            paths.append(f"/laws/{quote(code)}/{quote(number)}")
    return paths


def gap_paths() -> dict[str, str]:
    """GET /sparql with the text of every gap query of the library, by query name."""
    return {
        p.stem: "/sparql?" + urlencode({"query": p.read_text(encoding="utf-8")})
        for p in data_files("queries", ".rq")
        if p.stem.startswith("gap-")
    }


def warm_up(url: str, families: dict[str, list[str]], names: dict[str, str]) -> list[dict]:
    """Each distinct URL once, one at a time: the index is built and each gap answer cached.

    Cold timings (the first, uncached request of each gap query) are printed: they are what one
    auditor waits the first time after a restart.
    """
    cold = []
    with httpx.Client(base_url=url, timeout=900) as client:
        for paths in families.values():
            for path in dict.fromkeys(paths):
                started = time.monotonic()
                status = client.get(path).status_code
                if path in names:
                    cold.append(
                        {"query": names[path], "status": status, "seconds": time.monotonic() - started}
                    )
                    print(f"cold {names[path]:40} {status} {cold[-1]['seconds']:7.2f} s", flush=True)
    return cold


def run_wrk(url: str, paths: list[str], connections: int, duration: int) -> dict[str, float]:
    """wrk with a Lua script cycling over `paths`; returns latency percentiles (ms) and req/s."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % ", ".join(json.dumps(p) for p in paths))
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        script.name,
        url,
    ]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    Path(script.name).unlink()
    out: dict[str, float] = {}
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            out[f"p{pct}_ms"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    if match := re.search(r"Requests/sec:\s+([\d.]+)", text):
        out["rps"] = float(match.group(1))
    if match := re.search(r"(\d+) requests in", text):
        out["requests"] = float(match.group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non_2xx"] = float(errors.group(1)) if errors else 0.0
    timeouts = re.search(r"timeout (\d+)", text)
    out["timeouts"] = float(timeouts.group(1)) if timeouts else 0.0
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--warm-seconds", type=int, default=60, help="gap warm-up under load, not measured")
    parser.add_argument("--store", type=Path, help="an already loaded store (skips generate + load)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.store or prepare_store(args.services, args.seed, args.out)
    results = []
    for workers in args.workers:
        with live_server(store, workers=workers, timeout=120) as url:  # on a free port
            gaps = gap_paths()
            families = {
                "browse": sample_paths(url, random.Random(args.seed)),
                "sparql-gaps": list(gaps.values()),
            }
            cold = warm_up(url, families, {path: name for name, path in gaps.items()})
            # Every worker keeps its own answers: load each one before measuring (not counted).
            run_wrk(url, families["sparql-gaps"], args.connections, args.warm_seconds)
            # …and each worker's browse answers (api/browse_cache.py): popular cards are kept.
            run_wrk(url, families["browse"], args.connections, min(args.warm_seconds, 15))
            results.append({"family": "cold-gap-queries", "workers": workers, "queries": cold})
            for name, paths in families.items():
                figures = run_wrk(url, paths, args.connections, args.duration)
                row = {
                    "family": name,
                    "workers": workers,
                    "connections": args.connections,
                    **figures,
                    "target_p99_ms": TARGETS_MS[name],
                }
                results.append(row)
                print(json.dumps(row), flush=True)
        with live_server(store, workers=workers, timeout=120, env=UNCACHED) as url:
            paths = sample_paths(url, random.Random(args.seed))
            row = {
                "family": "browse-uncached",
                "workers": workers,
                "connections": args.connections,
                **run_wrk(url, paths, args.connections, args.duration),
                "target_p99_ms": TARGETS_MS["browse-uncached"],
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    report = args.out / f"bench-api-{args.services}.json"
    report.write_text(json.dumps(results, indent=2), encoding="utf-8")
    head = ("family", "workers", "p50 ms", "p90 ms", "p99 ms", "req/s", "non-2xx")
    print("\n" + "  ".join(f"{h:>11}" for h in head) + "  target")
    for r in (r for r in results if "p99_ms" in r):
        cells = (
            r["family"],
            r["workers"],
            *(f"{r.get(k, 0):.1f}" for k in ("p50_ms", "p90_ms", "p99_ms", "rps")),
            f"{r['non_2xx']:.0f}",
        )
        target = r["target_p99_ms"]
        judged = f"  p99 <= {target:g} ms" if target else "  (reported)"
        print("  ".join(f"{c:>11}" for c in cells) + judged)
    print(f"written {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
