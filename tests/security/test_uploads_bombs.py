"""Hostile workbooks and RDF files sent to `POST /validate` on a live server: refused, server unharmed.

Two servers over the same store:

* `guarded` — the defaults: the loader's own bounds (loader/limits.py) refuse each bomb by name,
  and the reading runs in a sandboxed child (khadamat/sandbox.py) besides;
* `bare` — the loader's bounds lifted (KHADAMAT_LIMIT_*), so that only the server's isolation
  stands between the bomb and the server: the child is stopped at its memory budget (413) or
  dies of the stack overflow (422), and the server process never feels it.

Each attack is built here, in memory. During each the watcher checks that `/health` and
`/services` answer within 1 s and records the peak resident memory of the server's process tree
(children included); the store folder is the same byte for byte afterwards.
"""

from __future__ import annotations

import functools

import httpx
import pytest
from khadamat.api.testing import free_port, live_server, load_dataset_file

from tests.security import workbook_builders as books
from tests.security.server_watch import MiB, Server, assert_serving, watch
from tests.security.store_support import BASIC, FIXTURE, fingerprint
from tests.security.upload_attacks import basic_files, nested_quoted_triples

BARE_BUDGET = 384 * MiB  # the child's memory budget on the `bare` server
DEFAULT_BUDGET = 1024 * MiB
_LIFTED = [
    *("MAX_FILE_BYTES", "MAX_PART_BYTES", "MAX_UNZIPPED_BYTES", "MAX_CELLS", "MAX_CELL_CHARS"),
    *("MAX_SHARED_STRINGS", "MAX_COLUMNS", "MAX_ROWS", "MAX_ROW_CHARS", "MAX_PARTS"),
    *("MAX_RDF_NESTING", "MAX_LITERAL_CHARS"),
]
BARE_ENV = {f"KHADAMAT_LIMIT_{name}": str(2**40) for name in _LIFTED} | {
    "KHADAMAT_UPLOAD_MEMORY_BYTES": str(BARE_BUDGET)
}
PEAKS: dict[str, int] = {}  # label -> peak tree RSS over the server's resting RSS


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    """(store folder, base, port): one store for both servers (they open it read-only)."""
    folder = tmp_path_factory.mktemp("upload-bombs") / "store"
    port = free_port()
    base = f"http://127.0.0.1:{port}/id/"
    load_dataset_file(folder, base, FIXTURE)
    return folder, base, port


@pytest.fixture(scope="module")
def guarded(store):
    folder, base, port = store
    with live_server(folder, base=base, port=port) as url:
        yield Server.at(url)


@pytest.fixture(scope="module")
def bare(store):
    folder, base, _ = store
    with live_server(folder, base=base, env=BARE_ENV) as url:
        yield Server.at(url)


@pytest.fixture(scope="module", autouse=True)
def unchanged_store(store, guarded, bare):
    """The store folder is the same byte for byte after every attack (once both servers are up:
    `khadamat serve` itself may upgrade the store before it serves). RocksDB's info logs aside:
    a server writes them even when it opens the store read-only."""
    before = fingerprint(store[0], logs=False)
    yield
    assert fingerprint(store[0], logs=False) == before, "the store changed during the attacks"


@functools.cache
def zip_bomb() -> bytes:
    return books.zip_bomb(3.0)


def attack(server: Server, name: str, data: bytes, label: str) -> httpx.Response:
    """Upload one hostile file while watching the server; check it served everyone within 1 s."""
    with watch(server) as seen:
        response = httpx.post(
            server.url + "/validate",
            files=[("files", (name, data, "application/octet-stream"))],
            timeout=120,
        )
    PEAKS[label] = seen.grew
    seen.report(f"{label}: {len(data):,} bytes")
    assert seen.worst() < 1.0, seen.latencies
    assert_serving(server)
    assert seen.grew < DEFAULT_BUDGET + 128 * MiB
    return response


def assert_refused_by_name(response: httpx.Response, name: str) -> None:
    """A 422 whose errors name the file (the loader's message: the part, row and column where it can)."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert "conforms" not in body
    assert body["errors"] and all(e.startswith(name) for e in body["errors"]), body["errors"]


def assert_over_budget(response: httpx.Response, name: str) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == (
        f"the submission ('{name}') needs more than {BARE_BUDGET // MiB} MiB to read and validate; "
        f"the limit is {BARE_BUDGET // MiB} MiB per upload"
    )


BOMBS = {
    "bomb.xlsx": zip_bomb,  # 3.5 MB that inflate to 3 GiB of rows
    "columns.xlsx": books.column_reference_bomb,  # 1.5 KB, one cell in column ZZZZZZ
    "giant.xlsx": books.giant_cell,  # 50 KB, one shared string of 50 MiB
}
# What the loader refuses by name on the default server: the bombs, and besides
REFUSED = BOMBS | {
    "nested.ttl": nested_quoted_triples,  # 100,000 nested `<<( … )>>`: refused before parsing
    "broken.xlsx": books.broken_workbook,  # a sheet that does not decompress (it was a 500)
    # Strict Open XML (Excel's "Save As Strict") without the title column: never "conforms": true
    "strict.xlsx": lambda: books.workbook(
        {"services": books.sheet(books.row(1, books.inline("A1", "کد دستگاه")))}, strict=True
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_hostile_file_is_refused_by_the_loader(guarded, name: str) -> None:
    response = attack(guarded, name, REFUSED[name](), f"guarded {name}")
    assert_refused_by_name(response, name)


@pytest.mark.parametrize("name", list(BOMBS))
def test_bomb_past_the_loader_stops_at_the_memory_budget(bare, name: str) -> None:
    response = attack(bare, name, BOMBS[name](), f"bare {name}")
    assert_over_budget(response, name)
    assert PEAKS[f"bare {name}"] < BARE_BUDGET + 128 * MiB


def test_nested_triple_terms_past_the_loader_crash_only_the_child(bare) -> None:
    """100,000 nested `<<( … )>>` overflow pyoxigraph's parser stack: the child dies, not the server."""
    response = attack(bare, "nested.ttl", nested_quoted_triples(), "bare nested.ttl")
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "the file could not be read safely: 'nested.ttl' is not a well-formed workbook, .csv sheet "
        "or RDF file"
    )


def test_an_upload_with_nothing_in_it_never_conforms(guarded) -> None:
    """A services sheet with its header only: nothing to validate is an input error, not a pass."""
    header = (BASIC / "services.csv").read_bytes().split(b"\n")[0] + b"\n"
    response = attack(guarded, "services.csv", header, "guarded header-only services.csv")
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "nothing could be read from 'services.csv': expected a workbook with the catalog's sheets, "
        "its .csv sheets or RDF files with triples"
    )


def test_a_good_upload_still_validates_after_the_attacks(guarded, bare) -> None:
    for server in (guarded, bare):
        response = httpx.post(server.url + "/validate", files=basic_files(), timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["scope"].startswith("submission: agencies.csv")
