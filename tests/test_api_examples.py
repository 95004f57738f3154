"""The bundled example catalog through the real loader, served live: validation, library, pages.

`khadamat load` (the real loader) builds the store from examples/catalog; a live server then
answers /validate, /queries, /gaps and the entity pages, compared with the same engines run
in-process (`khadamat validate --format json`, khadamat.querylib) on the same store.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from contextlib import redirect_stdout
from pathlib import Path

import httpx
import pytest
from khadamat.api.testing import free_port, live_server

from khadamat.cli import main
from khadamat.config import Settings
from khadamat.store import open_store

CATALOG = Path(__file__).resolve().parents[1] / "examples" / "catalog"
SHEETS = ("agencies", "laws", "missions", "services", "inquiries", "licenses", "counters")

pytestmark = pytest.mark.skipif(not (CATALOG / "services.csv").exists(), reason="examples/catalog is missing")


def cli_json(*argv: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        main(list(argv))
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    """(url, store dir, base, submission folder) of a server over the loaded example catalog."""
    tmp = tmp_path_factory.mktemp("api-examples")
    folder = tmp / "catalog"
    folder.mkdir()
    for name in SHEETS:  # the submission's sheets (the folder also holds notes for other tests)
        if (CATALOG / f"{name}.csv").exists():
            shutil.copy(CATALOG / f"{name}.csv", folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}/id/"
    store_dir = tmp / "store"
    assert main(["load", "--store", str(store_dir), "--base", base, str(folder)]) == 0
    with live_server(store_dir, base=base, port=port) as url:
        yield url, store_dir, base, folder


def triple_count(store_dir: Path, base: str) -> int:
    store = open_store(Settings(store_dir=store_dir, base=base), read_only=True)
    return len(store.select("SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }"))


def test_validate_an_agency_equals_the_cli(example) -> None:
    url, store_dir, base, _ = example
    served = httpx.get(url + "/validate", params={"agency": "maj"}, timeout=120).json()
    cli = cli_json(
        "validate", "--store", str(store_dir), "--base", base, "--agency", "maj", "--format", "json"
    )
    assert served["findings"] == cli["findings"]
    assert served["scope"] == "agency maj"
    for finding in served["findings"]:
        assert finding["agency"] == "maj"


def test_validate_unknown_agency_is_404(example) -> None:
    url, *_ = example
    response = httpx.get(url + "/validate", params={"agency": "no-such-agency"}, timeout=60)
    assert response.status_code == 404 and response.json()["detail_fa"]


def test_validate_as_html_and_turtle(example) -> None:
    url, *_ = example
    html = httpx.get(
        url + "/validate", params={"agency": "maj"}, headers={"Accept": "text/html"}, timeout=120
    )
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text
    turtle = httpx.get(
        url + "/validate", params={"agency": "maj"}, headers={"Accept": "text/turtle"}, timeout=120
    )
    assert turtle.headers["content-type"].startswith("text/turtle") and "sh:" in turtle.text


def test_upload_is_validated_and_never_written(example) -> None:
    url, store_dir, base, folder = example
    before = triple_count(store_dir, base)
    files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(folder.glob("*.csv"))]
    response = httpx.post(url + "/validate", files=files, timeout=120)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "submission: " + ", ".join(sorted(p.name for p in folder.glob("*.csv")))
    assert isinstance(body["findings"], list)
    assert triple_count(store_dir, base) == before


def test_upload_with_input_errors_lists_them(example) -> None:
    url, *_ = example
    files = [("files", ("services.csv", "کد دستگاه,عنوان خدمت\nnope,خدمتی\n".encode(), "text/csv"))]
    response = httpx.post(url + "/validate", files=files, timeout=60)
    assert response.status_code == 422
    assert any("nope" in e for e in response.json()["errors"])
    wrong = httpx.post(url + "/validate", files=[("files", ("notes.txt", b"hello", "text/plain"))])
    assert wrong.status_code == 415


def test_query_library_endpoints(example) -> None:
    url, store_dir, base, _ = example
    listed = httpx.get(url + "/queries").json()["queries"]
    names = [q["name"] for q in listed]
    assert names and not any(n.startswith("_") for n in names)
    from khadamat import querylib

    spec = querylib.library()[names[0]]
    store = open_store(Settings(store_dir=store_dir, base=base), read_only=True)
    want = len(querylib.run_query(store, spec, {}))
    answer = httpx.get(url + f"/queries/{names[0]}", timeout=60).json()
    assert answer["count"] == want == len(answer["rows"])
    assert httpx.get(url + "/queries/no-such-query").status_code == 404


def test_gaps_run_every_gap_query(example) -> None:
    url, *_ = example
    body = httpx.get(url + "/gaps", timeout=120).json()
    names = {q["name"] for q in body["queries"]}
    assert names and all(n.startswith("gap-") for n in names)
    assert body["total"] == sum(q["count"] for q in body["queries"])


def test_duplicates_run_every_duplicate_query(example) -> None:
    url, store_dir, base, _ = example
    body = httpx.get(url + "/duplicates", timeout=120).json()
    from khadamat import querylib

    store = open_store(Settings(store_dir=store_dir, base=base), read_only=True)
    specs = querylib.library()
    for answer in body["queries"]:
        assert answer["name"].startswith("dup")
        assert answer["count"] == len(querylib.run_query(store, specs[answer["name"]], {}))
    assert {a["name"] for a in body["queries"]} == {
        n for n, s in specs.items() if n.startswith("dup") and not any(p.required for p in s.params)
    }


def test_page_shows_findings_of_the_node(example) -> None:
    url, *_ = example
    report = httpx.get(url + "/validate", params={"agency": "maj"}, timeout=120).json()
    if not report["findings"]:
        pytest.skip("the example catalog has no finding on agency maj")
    finding = report["findings"][0]
    # The first visit starts the agency's validation in the background; a later one shows it.
    for _ in range(120):
        page = httpx.get(finding["focusNode"], headers={"Accept": "text/html"}, timeout=120)
        assert page.status_code == 200
        if 'id="findings-pending"' not in page.text:
            break
        time.sleep(0.5)
    assert finding["messages"]["fa"] in page.text
