"""The whole query library, the compiled validation SPARQL and the commands on a generated
catalog of 2,000 card items, on each SPARQL server against the embedded store.

The catalog (benchmarks/generate.py, seed 1: 97 agencies, planted defects) is loaded by
`khadamat load` into an embedded store and into each server; then every `.rq` of queries/ (with
its defaults, and with an agency where it takes one), the CPSV-AP export mappings and every query
the shapes compile to must give the same rows, and the commands the same output. Ties of an ORDER
BY may come in another order on another engine, so rows are compared as multisets.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal

from khadamat.config import Settings
from khadamat.namespaces import XSD
from khadamat.querylib import PROFILES, library, profile_specs, run_construct, run_query
from khadamat.store import open_store
from khadamat.validation.engine import DATE_VARIABLE, Validator, date_literal
from tests.remote_support import Server, loaded_server
from tests.security.store_support import khadamat

pytestmark = pytest.mark.slow
ENGINES = ["oxigraph", "virtuoso"]
SIZE = 2000
DATE = "1405/04/09"
# Values for parameters whose absence leaves a comparison with nothing (an error in an aggregate,
# which engines may count differently): the dates a report is made for.
PARAMS = {"report-figures": {"onDate": DATE, "validSince": "1404/04/09"}}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the generated submission, an embedded store with it loaded)."""
    folder = tmp_path_factory.mktemp("generated")
    subprocess.run(
        [sys.executable, "-m", "benchmarks.generate", "--services", str(SIZE), "--out", str(folder / "gen")],
        check=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    submission = folder / "gen" / "submission"
    loaded = khadamat("load", str(submission), "--store", str(folder / "store"), "-q")
    assert loaded.returncode == 0, loaded.stderr
    return submission, folder / "store"


@pytest.fixture(scope="module", params=ENGINES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, generated: tuple[Path, Path]
) -> Iterator[Server]:
    with loaded_server(request.param, tmp_path_factory, generated[0]) as running:
        yield running


@pytest.fixture(scope="module")
def stores(server: Server, generated: tuple[Path, Path]) -> Iterator[tuple[object, object]]:
    embedded = open_store(Settings(store_dir=generated[1]), read_only=True)
    remote = open_store(Settings(store_dir=server.folder / "store", endpoint=server.endpoint), read_only=True)
    yield embedded, remote
    remote.close()
    embedded.close()


_BLANK = re.compile(r"_:[A-Za-z0-9]+")
_NUMERIC = {XSD + "decimal", XSD + "double", XSD + "float"}


def _plain(value: object) -> str:
    """A term as text; decimals and doubles by value to 12 digits (engines keep 15 to 18)."""
    if isinstance(value, Literal) and value.datatype.value in _NUMERIC:
        return f"{float(value.value):.12g}"
    return _BLANK.sub("_:b", str(value))


def multiset(rows: list[dict], leave_out: frozenset[str] | set[str] = frozenset()) -> Counter:
    return Counter(
        json.dumps({k: _plain(v) for k, v in sorted(r.items()) if k not in leave_out}, ensure_ascii=False)
        for r in rows
    )


def _cases() -> list[tuple[str, dict[str, str]]]:
    cases = []
    for name, spec in library(include_internal=True).items():
        cases.append((name, PARAMS.get(name, {})))
        if any(p.name == "agency" for p in spec.params):
            cases.append((name, {**PARAMS.get(name, {}), "agency": "agency/mefa"}))
    return cases


def test_every_library_query_gives_the_same_rows(server: Server, stores: tuple) -> None:
    embedded, remote = stores
    specs = library(include_internal=True)
    compared = 0
    for name, params in _cases():
        want = run_query(embedded, specs[name], params)
        got = run_query(remote, specs[name], params)
        assert multiset(got) == multiset(want), (name, params)
        compared += bool(want)
    assert compared >= 15  # most queries find rows in a catalog with planted defects


def test_the_profile_mappings_give_the_same_triples(stores: tuple) -> None:
    """Every triple, doubles (the costs' cv:hasValue) and Persian titles built by CONCAT included."""
    embedded, remote = stores
    differ = []
    for profile in PROFILES:
        for spec in profile_specs(profile, "export"):
            want = Counter(_BLANK.sub("_:b", str(t)) for t in run_construct(embedded, spec))
            got = Counter(_BLANK.sub("_:b", str(t)) for t in run_construct(remote, spec))
            assert want, spec.path.name
            if got != want:
                differ.append(spec.path.name)
    assert not differ


def test_every_compiled_validation_query_gives_the_same_rows(stores: tuple) -> None:
    embedded, remote = stores
    day = date_literal(dt.date(2026, 6, 30))
    queries = Validator(embedded).compile(None, day)
    assert len(queries) > 30
    found = 0
    for query in queries:
        bindings = {DATE_VARIABLE: day} if query.uses_date else None
        want = embedded.select(query.text, bindings)
        assert multiset(remote.select(query.text, bindings)) == multiset(want), query.shape.node
        found += len(want)
    assert found > 400  # the planted defects


def test_commands_give_the_same_output(server: Server, generated: tuple[Path, Path]) -> None:
    for args in (
        ("stats", "--format", "json"),
        ("gaps", "--format", "json"),
        ("duplicates", "--format", "json"),
    ):
        want = khadamat(*args, "--store", str(generated[1]))
        got = khadamat(*args, "--store", str(server.folder / "store"), env=server.env)
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout), args
    args = ("validate", "--date", DATE, "--lang", "en", "--format", "json")
    want = khadamat(*args, "--store", str(generated[1]))
    got = khadamat(*args, "--store", str(server.folder / "store"), env=server.env)
    assert got.returncode == want.returncode == 1

    def findings(text: str) -> Counter:
        return Counter(
            json.dumps(f, sort_keys=True, ensure_ascii=False) for f in json.loads(text)["findings"]
        )

    assert findings(got.stdout) == findings(want.stdout)
    assert sum(findings(want.stdout).values()) > 400
