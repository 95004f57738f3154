"""Live reads: readers follow the active generation, old generations outlive their readers only,
the browse index refreshes incrementally, a `khadamat load` beside a running server is seen at
once, and a server killed (SIGKILL) in the middle of a submission serves a whole version after
a restart.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from khadamat.api import catalog_index

from khadamat import generations
from khadamat.config import Settings
from khadamat.live_store import LiveStore
from khadamat.store import open_store
from tests.security.store_support import BASE, copy_store, fingerprint
from tests.submission_support import (
    AGENCY,
    agency_rows,
    agency_submission,
    bearer,
    kill,
    load_beside,
    make_tokens,
    on_every_worker,
    running_server,
    sparql_count,
    titles_with,
)

G = ox.NamedNode(BASE + "graph/agency/test")
P = ox.NamedNode("http://purl.org/dc/terms/title")


def _title(text: str) -> list[ox.Triple]:
    return [ox.Triple(ox.NamedNode(BASE + "agency/test"), P, ox.Literal(text))]


def _titles(store) -> list[str]:
    return [q.object.value for q in store.quads(G)]


def _generations(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.name.startswith(generations.PREFIX)}


def test_a_reader_keeps_its_generation_until_it_lets_go(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", base=BASE)
    writer = open_store(settings)
    writer.replace_graphs({G: _title("one")})
    live = LiveStore(settings)
    reader = live.current()
    first = reader.generation
    assert _titles(reader) == ["one"]

    writer.replace_graphs({G: _title("two")}, version="v000002")
    assert (settings.store_dir / first).is_dir()  # still read: not removed under the reader
    assert _titles(reader) == ["one"]  # a request that began before the write reads on, unmixed
    assert _titles(live.current()) == ["two"]  # the next request reads the new generation
    changes = generations.generation_changes(settings.store_dir)
    assert changes is not None and changes["graphs"] == [G.value] and changes["version"] == "v000002"

    del reader  # the last request using the old generation ends: its reader lock goes
    writer.replace_graphs({G: _title("three")})
    assert not (settings.store_dir / first).exists()  # free now: removed by the next write
    assert _titles(live.current()) == ["three"]
    assert len(_generations(settings.store_dir)) <= 2  # the active one and the one `live` read last
    live.close()
    writer.close()


def test_the_browse_index_refreshes_only_the_changed_agency(template: Path, tmp_path: Path) -> None:
    store_dir = copy_store(template, tmp_path / "store")
    settings = Settings(store_dir=store_dir, base=BASE)
    live = LiveStore(settings)
    before = catalog_index.build(live.current())
    writer = open_store(settings)
    services = agency_rows("services.csv", AGENCY).splitlines()
    folder = tmp_path / "submission"
    folder.mkdir()
    for _, (name, data) in agency_submission(marker="تازه"):
        (folder / name).write_bytes(data)
    from khadamat.loader.submission import build_submission

    submission = build_submission([folder], writer)
    writer.replace_graphs(submission.graphs)
    after = live.current()
    changed = catalog_index.changed_agency_graphs(before, after)
    assert changed == [ox.NamedNode(BASE + f"graph/agency/{AGENCY}")]
    refreshed = catalog_index.refresh(before, after, changed)
    full = catalog_index.build(after)
    assert [(i.iri, i.title, i.provider, i.service_id) for i in refreshed.items] == [
        (i.iri, i.title, i.provider, i.service_id) for i in full.items
    ]
    assert refreshed.agencies.keys() == full.agencies.keys()
    assert sum("تازه" in i.title for i in refreshed.items) == 1 and len(services) > 2
    writer.close()
    live.close()


@pytest.mark.slow
def test_a_load_beside_a_running_server_is_seen_by_every_worker(template: Path, tmp_path: Path) -> None:
    store = copy_store(template, tmp_path / "store")
    folder = tmp_path / "submission"
    folder.mkdir()
    for _, (name, data) in agency_submission(marker="خط‌فرمان"):
        (folder / name).write_bytes(data)
    with running_server(store, workers=2) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert titles_with(client, "خط‌فرمان") == 0
        load_beside(folder, store)

        def sees_it(client: httpx.Client) -> None:
            assert titles_with(client, "خط‌فرمان") == 1
            assert sparql_count(client, "خط‌فرمان") == 1

        assert len(on_every_worker(server.url, 2, sees_it)) == 2


@pytest.mark.slow
def test_sigkill_during_a_submission_leaves_a_whole_version(template: Path, tmp_path: Path) -> None:
    """A few kills at random moments of a submission (upload, sandboxed check, write, switch):
    after a restart the server serves the previous version or the new one, whole, and the history
    lists the new version exactly when its data is what is served."""
    store = copy_store(template, tmp_path / "store")
    tokens = make_tokens(tmp_path)
    args = ["--tokens", str(tokens.file)]
    rng = random.Random(9)
    seen = set()
    for attempt in range(4):
        marker = f"کشته{attempt}"
        with running_server(store, args) as server:
            before = _versions(server.url, tokens.auditor)
            started = time.monotonic()
            thread = threading.Thread(
                target=_post_quietly, args=(server.url, tokens.editor, agency_submission(marker=marker))
            )
            thread.start()
            time.sleep(rng.uniform(0.2, 2.5))
            kill(server)
            thread.join()
            killed_after = time.monotonic() - started
        with running_server(store, args) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            served = titles_with(client, marker)
            assert served in (0, 1)  # the whole new version or none of it
            assert sparql_count(client, marker) == served
            assert titles_with(client, agency_rows("services.csv", AGENCY).splitlines()[2].split(",")[1]) >= 1
            after = _versions(server.url, tokens.auditor)
            assert len(after) - len(before) == served, (killed_after, after[:1])  # a version iff visible
            seen.add(served)
    print("outcomes seen (0 = previous version, 1 = new):", sorted(seen))
    assert fingerprint(store)  # the store folder is still there and readable


def _versions(url: str, token: str) -> list[dict]:
    answer = httpx.get(url + "/submissions", headers=bearer(token), timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["submissions"]


def _post_quietly(url: str, token: str, files: list) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server is killed under the request
        httpx.post(url + "/submissions", files=files, headers=bearer(token), timeout=60)
