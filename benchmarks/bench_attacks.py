"""Peak server memory while it is attacked: the figures of the README's "Security" section.

`python -m benchmarks.bench_attacks [--json]` loads the bundled example (examples/catalog) into
a temporary store, starts the real `khadamat serve` on a loopback port with its default limits,
and sends each attack of issue 8 to it one after the other, the way a client would. During each
it samples the resident memory of the server's whole process tree (query workers and upload
children included) and the latency of `/health`, and it prints, per attack, the answers' status
codes, the peak memory over the resting server, and the slowest `/health`.

The attacks are the ones the security tests build (tests/security/), so the benchmark and the
tests measure the same inputs. All traffic goes to 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the attack builders live with the tests

from khadamat.api.testing import live_server  # noqa: E402

from benchmarks.generate import generate, write_catalog  # noqa: E402
from khadamat.cli import main as khadamat  # noqa: E402
from khadamat.namespaces import sparql_prologue  # noqa: E402
from tests.security import workbook_builders as books  # noqa: E402
from tests.security.server_watch import HEALTH, Server, watch  # noqa: E402
from tests.security.upload_attacks import nested_quoted_triples  # noqa: E402

MiB = 2**20
SPARQL = "/sparql"
Attack = Callable[[httpx.Client, str], list[int]]


def _post_query(client: httpx.Client, url: str, query: str) -> int:
    return client.post(
        url + SPARQL, content=query, headers={"Content-Type": "application/sparql-query"}
    ).status_code


def _upload(client: httpx.Client, url: str, name: str, data: bytes, media: str) -> int:
    return client.post(url + "/validate", files=[("files", (name, data, media))]).status_code


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attacks() -> dict[str, Attack]:
    """Name → a function that runs the attack against a server and returns the status codes seen."""
    nested = "SELECT * WHERE { FILTER(" + "(" * 5_000 + "1" + ")" * 5_000 + ") }"
    patterns = "SELECT * WHERE { " + "".join(f"?a{i} ?b ?a{i + 1}." for i in range(5_000)) + " }"
    service = sparql_prologue() + "SELECT * WHERE { ?s ex:a\\# SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
    product = "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f } ORDER BY ?f ?d ?b"
    path_order = "SELECT * WHERE { ?a (<http://x/p>|!<http://x/q>)* ?b } ORDER BY ?b ?a"
    escapes = "SELECT * WHERE { ?s ?p '" + "'\\" * 40_000 + "' }"

    def slow_queries(client: httpx.Client, url: str) -> list[int]:
        queries = [product.replace("?f ?d ?b", f"?f ?d ?b LIMIT {n}") for n in range(1, 9)] + [path_order]
        with ThreadPoolExecutor(len(queries)) as pool:
            return list(pool.map(lambda q: _post_query(client, url, q), queries))

    def concurrent_uploads(client: httpx.Client, url: str) -> list[int]:
        with tempfile.TemporaryDirectory(prefix="khadamat-2k-") as tmp:
            folder = write_catalog(generate(2_000, seed=1), Path(tmp))
            files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(folder.glob("*.csv"))]

        def one(_: int) -> int:
            return client.post(url + "/validate", files=files).status_code

        with ThreadPoolExecutor(10) as pool:
            return list(pool.map(one, range(10)))

    return {
        "query with 5,000 nested parentheses": lambda c, u: [_post_query(c, u, nested)],
        "query with 5,000 triple patterns": lambda c, u: [_post_query(c, u, patterns)],
        "SERVICE hidden behind an escaped local name": lambda c, u: [_post_query(c, u, service)],
        "80 KB of quote-backslash pairs": lambda c, u: [_post_query(c, u, escapes)],
        "8 slow sorts and an ORDER BY over a path at once": slow_queries,
        "xlsx zip bomb (3 GiB unpacked)": lambda c, u: [_upload(c, u, "bomb.xlsx", books.zip_bomb(), XLSX)],
        "xlsx with a 6-letter column reference": lambda c, u: [
            _upload(c, u, "columns.xlsx", books.column_reference_bomb(), XLSX)
        ],
        "xlsx with a 50 MiB cell": lambda c, u: [_upload(c, u, "cell.xlsx", books.giant_cell(), XLSX)],
        "Turtle with 100,000 nested quoted triples": lambda c, u: [
            _upload(c, u, "nested.ttl", nested_quoted_triples(), "text/turtle")
        ],
        "10 concurrent 2,000-service uploads": concurrent_uploads,
    }


def run(store: Path) -> list[dict[str, object]]:
    rows = []
    with live_server(store) as url:
        server = Server.at(url)
        time.sleep(1.0)  # let the query workers settle before the resting figure
        with httpx.Client(timeout=300.0) as client:
            for name, attack in attacks().items():
                with watch(server, probes=(HEALTH,)) as seen:
                    started = time.monotonic()
                    codes = attack(client, url)
                    took = time.monotonic() - started
                rows.append(
                    {
                        "attack": name,
                        "status": sorted(set(codes)),
                        "resting_mib": round(seen.first_rss / MiB),
                        "peak_over_resting_mib": round(max(0, seen.grew) / MiB),
                        "slowest_health_s": round(seen.worst(HEALTH), 3),
                        "seconds": round(took, 1),
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="khadamat-attacks-") as tmp:
        store = Path(tmp) / "store"
        if khadamat(["load", "--store", str(store), "--quiet", str(ROOT / "examples" / "catalog")]) != 0:
            return 1
        rows = run(store)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print("| attack | answers | server at rest | peak over rest | slowest /health |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['attack']} | {', '.join(map(str, r['status']))} | {r['resting_mib']} MiB "
            f"| +{r['peak_over_resting_mib']} MiB | {r['slowest_health_s']} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
