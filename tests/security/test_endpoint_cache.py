"""The answer cache had no byte bound: 60 distinct ~11 MiB answers kept +728 MB in the server.

Now it holds at most `cache_bytes` in all (an eighth of that per answer): sixty distinct large
answers leave the serving process's memory within the bound, the oldest answers are evicted,
the newest are still served from the cache.
"""

from __future__ import annotations

import asyncio

import pytest
from khadamat.api.answer_cache import AnswerCache

from tests.security.server_watch import MiB, Server, own_rss, served, watch

CACHE = 8 * MiB
BIG = "SELECT * WHERE { ?s ?p ?o }"  # about 0.8 MB of JSON on the fixture catalog


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    flags = ["--sparql-cache-bytes", str(CACHE), "--sparql-workers", "2"]
    with served(tmp_path_factory.mktemp("cache"), flags) as running:
        yield running


def test_sixty_large_answers_stay_within_the_cache_bound(server: Server) -> None:
    before = own_rss(server.pid)
    sizes = []
    with watch(server, probes=("/health",)) as seen:
        for i in range(60):
            response = server.sparql(f"{BIG} # answer {i}")
            assert response.status_code == 200
            assert response.headers["X-Khadamat-Cache"] == "miss"
            sizes.append(len(response.content))
    seen.report("60 distinct ~0.8 MB answers, 8 MiB cache")
    assert min(sizes) > MiB // 2 and max(sizes) < CACHE // 8  # each answer is large and cacheable
    assert sum(sizes) > 5 * CACHE  # unbounded, the cache would hold far more than its bound
    assert own_rss(server.pid) < before + CACHE + 24 * MiB  # unbounded: +48 MiB at least
    assert seen.worst("/health") < 1.0
    newest = server.sparql(f"{BIG} # answer 59")
    assert newest.headers["X-Khadamat-Cache"] == "hit"
    oldest = server.sparql(f"{BIG} # answer 0")
    assert oldest.headers["X-Khadamat-Cache"] == "miss"


def test_the_cache_never_holds_more_than_its_bytes() -> None:
    asyncio.run(_fill_a_small_cache())


async def _fill_a_small_cache() -> None:
    cache = AnswerCache(max_bytes=1000)
    assert cache.max_entry_bytes == 125
    for i in range(50):
        value, how = await cache.share(i, _answer(b"x" * (60 + i)))
        assert how == "miss" and len(value) == 60 + i
        assert cache.bytes <= 1000
    assert (await cache.share(49, _answer(b"")))[1] == "hit"
    assert (await cache.share(0, _answer(b"y")))[1] == "miss"
    await cache.share("big", _answer(b"z" * 126))  # larger than an entry may be: not kept
    assert (await cache.share("big", _answer(b"z")))[1] == "miss"


def _answer(value: bytes):
    async def compute() -> bytes:
        return value

    return compute
