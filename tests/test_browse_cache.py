"""The browse answer cache (api/browse_cache.py) on a real server: a repeated card is answered
from the cache byte for byte, nobody's private answer is kept, a load beside the running server
is seen at once (a new generation starts an empty cache), and the bounds hold."""

from __future__ import annotations

from pathlib import Path

import httpx
from khadamat.api.testing import live_server

from tests.security.store_support import copy_store
from tests.submission_support import agency_submission, load_beside, running_server, titles_with

CARD = "/services/14230200300"  # a service of maj-ppo in examples/catalog
TURTLE = {"Accept": "text/turtle"}


def test_a_repeated_card_is_served_from_the_cache_unchanged(template: Path) -> None:
    with live_server(template) as url, httpx.Client(base_url=url, timeout=30) as client:
        first = client.get(CARD)
        again = client.get(CARD)
        page = client.get(CARD, headers=TURTLE)
        assert (first.status_code, again.status_code) == (200, 200)
        assert (first.headers["x-khadamat-cache"], again.headers["x-khadamat-cache"]) == ("miss", "hit")
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        # Another representation of the same URL is another answer, not the cached JSON.
        assert page.headers["x-khadamat-cache"] == "miss"
        assert page.headers["content-type"].startswith("text/turtle")


def test_requests_with_credentials_are_neither_cached_nor_served_from_it(template: Path) -> None:
    with live_server(template) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.get(CARD)  # now kept for anonymous readers
        for private in ({"Authorization": "Bearer not-a-token"}, {"Cookie": "session=x"}):
            answer = client.get(CARD, headers=private)
            assert answer.status_code in (200, 401)
            assert "x-khadamat-cache" not in answer.headers
        assert client.get("/sparql", params={"query": "ASK {}"}).headers.get("x-khadamat-cache") != "hit"


def test_a_load_beside_the_server_is_seen_through_the_cache(template: Path, tmp_path: Path) -> None:
    """The attack on a cache: read an answer, change the data, read again. The second read must
    be the new data, not the kept answer."""
    store = copy_store(template, tmp_path / "store")
    folder = tmp_path / "submission"
    folder.mkdir()
    for _, (name, data) in agency_submission(marker="کش‌تازه"):
        (folder / name).write_bytes(data)
    with running_server(store) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert titles_with(client, "کش‌تازه") == 0
        assert titles_with(client, "کش‌تازه") == 0  # the second time from the cache
        load_beside(folder, store)
        assert titles_with(client, "کش‌تازه") == 1


def test_the_bounds_hold(template: Path) -> None:
    tiny = {"KHADAMAT_BROWSE_MAX_ENTRY_BYTES": "200"}
    with live_server(template, env=tiny) as url, httpx.Client(base_url=url, timeout=30) as client:
        sizes = [len(client.get(CARD).content) for _ in range(2)]
        assert min(sizes) > 200
        assert client.get(CARD).headers["x-khadamat-cache"] == "miss"  # too large to keep
    off = {"KHADAMAT_BROWSE_CACHE_BYTES": "0"}
    with live_server(template, env=off) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.get(CARD)
        assert "x-khadamat-cache" not in client.get(CARD).headers


def test_an_answer_its_route_marks_no_store_is_not_kept() -> None:
    """The middleware alone, on a two-route app: a page made while its findings were pending
    says `Cache-Control: no-store` (api/findings.py page_headers) and must be computed again."""
    from types import SimpleNamespace

    from khadamat.api.browse_cache import BrowseCache
    from khadamat.api.config import BrowseLimits
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    served = {"/services/kept": 0, "/services/pending": 0}

    def answer(request) -> PlainTextResponse:
        served[request.url.path] += 1
        private = {"Cache-Control": "no-store"} if request.url.path.endswith("pending") else {}
        return PlainTextResponse(f"answer {served[request.url.path]}", headers=private)

    app = Starlette(routes=[Route(path, answer) for path in served])
    app.state.store, app.state.live = SimpleNamespace(generation="g1"), None
    app.add_middleware(BrowseCache, prefixes=("/services",), limits=BrowseLimits())
    with TestClient(app) as client:
        assert [client.get("/services/kept").text for _ in range(3)] == ["answer 1"] * 3
        pending = [client.get("/services/pending") for _ in range(3)]
    assert [r.text for r in pending] == ["answer 1", "answer 2", "answer 3"]
    assert {r.headers["x-khadamat-cache"] for r in pending} == {"miss"}
    assert served == {"/services/kept": 1, "/services/pending": 3}
