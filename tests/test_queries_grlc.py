"""grlc serves queries/ as it is, with the same answers as `khadamat query`.

grlc (https://github.com/CLARIAH/grlc) turns a folder of `.rq` files into a web API: it reads
the `#+` decorators, derives parameters from `?_name…` variables and splices the request's values
into the text. Here the real grlc (its own virtual environment, `make grlc`, since it pins its own
Flask and rdflib) serves the repository's `queries/` folder from the local directory
(`/api-local/`) against a real `khadamat serve` of `examples/catalog`, and each answer is compared
with `khadamat query NAME --param …` on the same store, row for row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from khadamat.api.testing import free_port, live_server
from test_queries_support import fixture_store

from khadamat.output import plain
from khadamat.querylib import columns, library, run_query
from khadamat.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "queries"
CATALOG = ROOT / "examples" / "catalog"
GRLC_PYTHON = Path(os.environ.get("KHADAMAT_GRLC_VENV", ROOT / ".venv-grlc")) / "bin" / "python"
ID = "https://w3id.org/khadamat/id/"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not GRLC_PYTHON.exists(), reason=f"grlc is not installed in {GRLC_PYTHON.parents[1]}: run `make grlc`"
    ),
]

# Calls that exercise every kind of parameter: an xsd:decimal and an xsd:boolean (in queries with
# sub-selects), an xsd:date, an integer, a plain literal and an IRI.
CALLS = [
    *[(name, {}) for name in sorted(library())],
    ("dup-near-titles", {"threshold": "0.5", "acrossFamilies": "true"}),
    ("dup-same-basis-audience", {"threshold": "0.3", "acrossFamilies": "true"}),
    ("dup-same-title", {"acrossFamilies": "true"}),
    ("dup-near-titles", {"agency": ID + "agency/maj"}),
    ("gap-cards-out-of-date", {"onDate": "2030-01-01"}),
    ("gap-electronic-priorities", {"minRecipients": "100000"}),
    ("gap-unit-services-without-id", {"province": "کرمان"}),
]
# grlc's `page` (of 100 rows, its pagination decorator) and the library's `limit`/`offset` (both
# appended as LIMIT and OFFSET): the same rows, asked both ways.
PAGES = [
    ("gap-electronic-priorities", {"page": "1"}, {"limit": "100", "offset": "0"}),
    ("gap-electronic-priorities", {"page": "2"}, {"limit": "100", "offset": "100"}),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store_dir = tmp_path_factory.mktemp("grlc") / "store"
    subprocess.run(
        [sys.executable, "-m", "khadamat", "load", "--store", str(store_dir), str(CATALOG)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return store_dir


@pytest.fixture(scope="module")
def grlc(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """grlc's server (gunicorn, one worker, loopback) on queries/, asking `khadamat serve`."""
    with live_server(store) as khadamat:
        # grlc reads config.ini from its working directory when it starts.
        workdir = tmp_path_factory.mktemp("grlc-config")
        (workdir / "config.ini").write_text(
            f"[defaults]\nsparql_endpoint = {khadamat}/sparql\n[local]\nlocal_sparql_dir = {QUERIES}\n",
            encoding="utf-8",
        )
        port = free_port()
        log = (workdir / "grlc.log").open("w", encoding="utf-8")
        proc = subprocess.Popen(
            [
                str(GRLC_PYTHON),
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "120",
                "grlc.server:app",
            ],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/api-local"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, (workdir / "grlc.log").read_text(encoding="utf-8")
                try:
                    if httpx.get(url + "/swagger", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "grlc did not start in 60 s"
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


def _term(binding: dict[str, str]) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    if binding["type"] == "uri":
        return ox.NamedNode(binding["value"])
    if binding["type"] == "bnode":
        return ox.BlankNode(binding["value"])
    if "xml:lang" in binding:
        return ox.Literal(binding["value"], language=binding["xml:lang"])
    datatype = binding.get("datatype")
    return ox.Literal(binding["value"], datatype=ox.NamedNode(datatype) if datatype else None)


def _grlc_rows(answer: dict) -> list[dict[str, object]]:
    """SPARQL JSON results as `khadamat query --format json` writes rows (plain values, None unbound)."""
    names = answer["head"]["vars"]
    return [{n: plain(_term(b[n])) if n in b else None for n in names} for b in answer["results"]["bindings"]]


def test_grlc_derives_the_same_parameters_as_the_library(grlc: str) -> None:
    paths = httpx.get(grlc + "/swagger", timeout=30).json()["paths"]
    for name, spec in library(include_internal=True).items():
        declared = {
            p["name"]: (p.get("required", False), p.get("format"))
            for p in paths["/" + name]["get"]["parameters"]
            if p["name"] != "endpoint"  # grlc's own parameter: the SPARQL endpoint to ask
        }
        ours = {p.name: (p.required, "iri" if p.kind == "iri" else None) for p in spec.params if not p.paging}
        if spec.decorators.get("pagination"):
            # grlc pages with its own `page` parameter where the library takes `limit` and `offset`.
            assert {p.name for p in spec.params if p.paging} == {"limit", "offset"}, name
            ours["page"] = (False, None)
        assert declared == ours, name


@pytest.mark.parametrize(("name", "params"), CALLS, ids=[f"{n}{sorted(p.items())}" for n, p in CALLS])
def test_grlc_answers_as_the_cli(name: str, params: dict[str, str], grlc: str, store: Path) -> None:
    response = httpx.get(
        f"{grlc}/{name}", params=params, headers={"Accept": "application/sparql-results+json"}, timeout=120
    )
    assert response.status_code == 200, response.text
    assert _grlc_rows(json.loads(response.text)) == _cli_rows(name, params, store)


def _cli_rows(name: str, params: dict[str, str], store: Path) -> list[dict[str, object]]:
    """`khadamat query NAME --param … --format json` on the store the server answers from."""
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "khadamat",
            "query",
            name,
            "--store",
            str(store),
            "--format",
            "json",
            *[f"--param={k}={v}" for k, v in params.items()],
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(cli.stdout)


@pytest.mark.parametrize(("name", "page", "params"), PAGES, ids=[p["page"] for _, p, _ in PAGES])
def test_grlc_pages_as_the_library(
    name: str, page: dict[str, str], params: dict[str, str], grlc: str, store: Path
) -> None:
    response = httpx.get(
        f"{grlc}/{name}", params=page, headers={"Accept": "application/sparql-results+json"}, timeout=120
    )
    assert response.status_code == 200, response.text
    assert _grlc_rows(json.loads(response.text)) == _cli_rows(name, params, store)


# The duplicate fixtures hold pairs across families and scores below 1, which the catalog lacks:
# each parameter changes the answer, so one that grlc bound as a mistyped literal (as it binds
# `?__x_boolean`: `"true"@boolean`) and silently ignored would show.
PARAMETER_EFFECTS = [
    ("dup-near-titles", {"acrossFamilies": "true"}, {"acrossFamilies": "false"}),
    ("dup-same-basis-audience", {"threshold": "0.6"}, {"threshold": "0.9"}),
    ("dup-near-titles", {"threshold": "0.6"}, {"threshold": "0.9"}),
]


def _ours(store: OxigraphStore, name: str, params: dict[str, str]) -> list[dict[str, object]]:
    spec = library()[name]
    return [{c: plain(row.get(c)) for c in columns(spec)} for row in run_query(store, spec, params)]


@pytest.fixture(scope="module")
def duplicates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, list]]]:
    """A second `khadamat serve`, of the duplicate fixtures, and the library's answers on them
    (computed before the server opens the store)."""
    folder = tmp_path_factory.mktemp("grlc-dup")
    store = fixture_store(folder, "duplicates.ttl")
    ours = {
        json.dumps([name, values]): _ours(store, name, values)
        for name, *calls in PARAMETER_EFFECTS
        for values in calls
    }
    store.close()
    with live_server(folder / "store") as url:
        yield url + "/sparql", ours


@pytest.mark.parametrize(("name", "params", "other"), PARAMETER_EFFECTS)
def test_the_parameters_change_grlc_answers_as_they_change_ours(
    name: str,
    params: dict[str, str],
    other: dict[str, str],
    grlc: str,
    duplicates: tuple[str, dict[str, list]],
) -> None:
    endpoint, ours = duplicates

    def answer(values: dict[str, str]) -> list[dict[str, object]]:
        # grlc's standard `endpoint` parameter points it at the second server.
        response = httpx.get(
            f"{grlc}/{name}",
            params={"endpoint": endpoint, **values},
            headers={"Accept": "application/sparql-results+json"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        return _grlc_rows(response.json())

    with_params, without = answer(params), answer(other)
    assert with_params == ours[json.dumps([name, params])]
    assert without == ours[json.dumps([name, other])]
    assert len(with_params) > len(without)
