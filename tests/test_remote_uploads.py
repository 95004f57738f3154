"""The API's uploads on a standard SPARQL server: `khadamat serve --endpoint …` validates and
writes submissions as it does on the embedded store.

The sandboxed child that reads an upload has no network, so on a server it only reads and maps
the files, given the store's snapshot as plain data; the serving process completes and validates
the submission against the server and writes it (khadamat/submissions.py). What a data officer
or an operator would check: the same findings as the embedded server gives, the services
readable from the SPARQL server itself and from `/services` after a 201, and not one triple of
the server changed after a refusal (input errors, another agency's data).

The tests of a module share one server with examples/catalog loaded and run in file order: the
accepted submission comes last.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from khadamat.api.testing import live_server

from tests.remote_support import Server, loaded_server
from tests.security.store_support import BASE, CATALOG, KH, copy_store
from tests.submission_support import AGENCY, Tokens, agency_submission, bearer, make_tokens

ENGINES = ["oxigraph", pytest.param("virtuoso", marks=pytest.mark.slow)]
DATE = "1405/04/09"
EXAMPLE = CATALOG.parent / "maj-ppo"  # an agency's workbook as its .csv sheets
DCT_TITLE = "http://purl.org/dc/terms/title"


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    return make_tokens(tmp_path_factory.mktemp("tokens"))


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh server of the engine with examples/catalog loaded by `khadamat load`; its writer's
    store folder (base, history, write lock) is `engine.folder / "store"`."""
    with loaded_server(request.param, tmp_path_factory, CATALOG) as running:
        yield running


@pytest.fixture(scope="module")
def remote(engine: Server, tokens: Tokens) -> Iterator[str]:
    """`khadamat serve --endpoint …` (given by the environment, as an operator would) with tokens."""
    store = engine.folder / "store"
    with live_server(store, extra_args=["--tokens", str(tokens.file)], env=engine.env, timeout=60) as url:
        yield url


@pytest.fixture(scope="module")
def embedded(template: Path, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same catalog served from the embedded store, with the same tokens."""
    store = copy_store(template, tmp_path_factory.mktemp("embedded") / "store")
    with live_server(store, extra_args=["--tokens", str(tokens.file)], timeout=60) as url:
        yield url


def _example_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(EXAMPLE.glob("*.csv"))]


def _post(url: str, route: str, files: list, token: str | None = None, **params: str) -> httpx.Response:
    headers = bearer(token) if token else {}
    return httpx.post(f"{url}/{route}", files=files, headers=headers, params=params, timeout=300)


def _count(engine: Server, where: str) -> int:
    """A COUNT asked of the SPARQL server itself (not through Khadamat): `where` is the pattern."""
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"
    answer = httpx.post(
        engine.endpoint.query,
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=120,
    )
    answer.raise_for_status()
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def _ours(engine: Server) -> int:
    """Every triple in Khadamat's graphs on the server (the engine's own graphs left out)."""
    return _count(engine, f'GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{BASE}graph/"))')


def _titled(engine: Server, marker: str) -> int:
    return _count(engine, f'?s <{DCT_TITLE}> ?t FILTER(CONTAINS(STR(?t), "{marker}"))')


def test_validate_upload_gives_the_embedded_findings(remote: str, embedded: str, engine: Server) -> None:
    before = _ours(engine)
    answers = [_post(url, "validate", _example_files(), date=DATE, lang="en") for url in (remote, embedded)]
    for answer in answers:
        assert answer.status_code == 200, answer.text[:2000]
    on_server, on_embedded = (a.json() for a in answers)
    assert on_server["scope"] == "submission: " + ", ".join(sorted(p.name for p in EXAMPLE.glob("*.csv")))
    assert on_server["findings"] == on_embedded["findings"]
    assert len(on_server["findings"]) > 0  # the example's agency has findings to compare
    assert _ours(engine) == before  # validating writes nothing


def test_validate_upload_with_input_errors_lists_them(remote: str) -> None:
    files = [("files", ("services.csv", "کد دستگاه,عنوان خدمت\nnope,خدمتی\n".encode(), "text/csv"))]
    answer = _post(remote, "validate", files)
    assert answer.status_code == 422, answer.text
    assert any("nope" in e for e in answer.json()["errors"])


def test_submission_with_errors_is_refused_and_changes_nothing(
    remote: str, engine: Server, tokens: Tokens
) -> None:
    files = agency_submission(marker="خطادار")
    header, first, *rest = files[1][1][1].decode("utf-8").splitlines()
    cells = first.split(",")
    cells[2] = "not-an-id"  # شناسه خدمت
    broken = "\n".join([header, ",".join(cells), *rest]).encode("utf-8")
    before = _ours(engine)
    answer = _post(remote, "submissions", [files[0], ("files", ("services.csv", broken))], tokens.editor)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert any(e.startswith("services.csv") and "row 2" in e and "not-an-id" in e for e in errors), errors
    assert _ours(engine) == before
    assert _titled(engine, "خطادار") == 0


def test_an_agency_token_cannot_write_another_agencys_graphs(
    remote: str, engine: Server, tokens: Tokens
) -> None:
    before = _ours(engine)
    answer = _post(remote, "submissions", agency_submission(marker="ممنوع"), tokens.other_editor)
    assert answer.status_code == 403, answer.text
    assert any(AGENCY in error for error in answer.json()["errors"]), answer.json()
    assert _ours(engine) == before
    assert _titled(engine, "ممنوع") == 0


def test_accepted_submission_is_on_the_server_and_browsable(
    remote: str, embedded: str, engine: Server, tokens: Tokens
) -> None:
    files = agency_submission(marker="نسخه‌دور")
    dry = _post(embedded, "submissions", files, tokens.editor, dry_run="true", date=DATE, lang="en")
    assert dry.status_code == 200, dry.text[:2000]
    remote_dry = _post(remote, "submissions", files, tokens.editor, dry_run="true", date=DATE, lang="en")
    assert remote_dry.status_code == 200, remote_dry.text[:2000]
    assert remote_dry.json()["report"]["findings"] == dry.json()["report"]["findings"]
    assert remote_dry.json()["id"] is None and _titled(engine, "نسخه‌دور") == 0
    graph = f"{BASE}graph/agency/{AGENCY}"
    missions = f"GRAPH <{graph}> {{ ?m a <{KH}Mission> }}"
    missions_before = _count(engine, missions)
    answer = _post(remote, "submissions", files, tokens.editor, date=DATE, lang="en")
    assert answer.status_code == 201, answer.text[:2000]
    body = answer.json()
    assert _count(engine, missions) == missions_before > 0  # not sent, so kept as stored
    assert body["graphs"] == [graph]
    assert body["report"]["findings"] == dry.json()["report"]["findings"]  # the embedded's findings
    assert _titled(engine, "نسخه‌دور") == 1
    assert _count(engine, f"GRAPH <{graph}> {{ ?s ?p ?o }}") == body["triples"] > 100
    with httpx.Client(base_url=remote, timeout=60, headers={"Accept": "application/json"}) as client:
        deadline, total = time.monotonic() + 60, 0
        while time.monotonic() < deadline:  # the browse index follows the server's new version
            total = client.get("/services", params={"q": "نسخه‌دور"}).json()["total"]
            if total:
                break
            time.sleep(0.5)
        assert total == 1
        detail = client.get(f"/submissions/{body['id']}", headers=bearer(tokens.editor))
        assert detail.status_code == 200, detail.text
        assert [f["name"] for f in detail.json()["files"]] == ["agencies.csv", "services.csv"]
