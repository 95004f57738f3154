"""The browse answer cache (api/browse_cache.py) on a real server: a repeated card is answered
from the cache byte for byte, nobody's private answer is kept, a load beside the running server
is seen at once (a new generation starts an empty cache), and the bounds hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from khadamat.api.testing import live_server

from tests.security.store_support import copy_store
from tests.submission_support import agency_submission, running_server, titles_with

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
        loaded = subprocess.run(
            [sys.executable, "-m", "khadamat", "load", str(folder), "--store", str(store), "-q"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert loaded.returncode == 0, loaded.stderr
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
