"""The browse routes' answers, kept per store generation in each server worker.

A card, a legal trace, a list page or an entity page is a pure function of the request and the
store generation it reads: a generation never changes once written (khadamat/generations.py),
so an answer stays right for as long as requests read that generation, and a load or submission
(a new generation) starts an empty cache — no invalidation to get wrong. This is what keeps the
browse p99 low when many readers ask for the same popular cards (benchmarks/bench_api.py); a
miss costs what the route costs.

Only what is the same for everyone is kept: GET and HEAD of the browse prefixes, from requests
with no `Authorization` or `Cookie` header, answered 200 without `Set-Cookie` and without
`Cache-Control: no-store` or `private` (a page whose findings were still pending says so). The key is the
method, path, query string, `Accept`, `Accept-Language` and `Host` (pages may build absolute
links from it). Bounds are BrowseLimits (api/config.py): bytes and entries per worker, and the
largest answer kept. `X-Khadamat-Cache: hit|miss` tells which case it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from khadamat.api.answer_cache import AnswerCache, GenerationCaches
from khadamat.api.config import BrowseLimits
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Request headers that make an answer someone's own: never kept, never served from the cache.
_PRIVATE = (b"authorization", b"cookie")
_KEYED = (b"accept", b"accept-language", b"host")
# No Accept header means the same as `*/*` (RFC 9110 §12.5.1): one answer kept for both.
_UNSAID = {b"accept": b"*/*"}
_MARK_HIT = (b"x-khadamat-cache", b"hit")
_MARK_MISS = (b"x-khadamat-cache", b"miss")


class BrowseCache:
    """ASGI middleware: answers the browse prefixes from the generation's cache when it can."""

    def __init__(self, app: ASGIApp, prefixes: Sequence[str], limits: BrowseLimits) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.enabled = limits.cache_bytes > 0
        self.caches = GenerationCaches(
            lambda: AnswerCache(limits.cache_bytes, limits.cache_entries, limits.max_entry_bytes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or ()) if scope["type"] == "http" else {}
        if not (self.enabled and self._public_browse(scope, headers)):
            await self.app(scope, receive, send)
            return
        store = _pin_store(scope)
        cache = self.caches.of(getattr(store, "generation", None))
        key = (
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            *(headers.get(name, _UNSAID.get(name, b"")) for name in _KEYED),
        )
        found, answer = cache.lookup(key)
        if found:
            await _replay(answer, send)
            return
        recorded: list[Message] = []

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), _MARK_MISS]}
            recorded.append(message)
            await send(message)

        await self.app(scope, receive, record)
        answer = _answer(recorded)
        if answer is not None:
            cache.put(key, answer)

    def _public_browse(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] in {"GET", "HEAD"}
            and scope["path"].startswith(self.prefixes)
            and not any(name in headers for name in _PRIVATE)
        )


def _pin_store(scope: Scope) -> Any:
    """Choose the generation the whole request reads (api/deps.py store_of reads it from the
    request state), so the answer is kept under the generation it was computed from."""
    app = scope["app"]
    live = getattr(app.state, "live", None)
    store = app.state.store if live is None else live.current()
    scope.setdefault("state", {})["store"] = store
    return store


def _answer(messages: list[Message]) -> tuple[int, tuple[tuple[bytes, bytes], ...], bytes] | None:
    """(status, headers, body) of a finished 200 answer that anyone may be given, else None."""
    if not messages or messages[0]["type"] != "http.response.start" or messages[0]["status"] != 200:
        return None
    headers = tuple(
        (name, value) for name, value in messages[0].get("headers", ()) if name.lower() != b"x-khadamat-cache"
    )
    if any(name.lower() == b"set-cookie" or _not_to_keep(name, value) for name, value in headers):
        return None
    if messages[-1].get("more_body", False):
        return None
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return 200, headers, body


def _not_to_keep(name: bytes, value: bytes) -> bool:
    """`Cache-Control: no-store` or `private` (RFC 9111 §5.2.2): an answer the route says is not
    for keeping — a page made while its findings were still being computed, for one."""
    if name.lower() != b"cache-control":
        return False
    directives = {d.strip().split(b"=", 1)[0].lower() for d in value.split(b",")}
    return bool(directives & {b"no-store", b"private"})


async def _replay(answer: tuple[int, tuple[tuple[bytes, bytes], ...], bytes], send: Send) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": [*headers, _MARK_HIT]})
    await send({"type": "http.response.body", "body": body})


def browse_prefixes(base_path: str) -> tuple[str, ...]:
    """The routes whose answers are the same for every anonymous reader of a generation: the
    browse API and, when the base has a path of its own (`/id/`), the entity pages under it."""
    prefixes = ("/services", "/agencies", "/laws")
    return prefixes + ((base_path,) if base_path.strip("/") else ())
