"""What every route needs from the application: the store, the settings, the limits.

Each worker process follows the store's active generation (app.py, khadamat/live_store.py);
routes reach it through these small accessors so that no module opens a store of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from fastapi import Request
from khadamat.api.config import ApiConfig
from khadamat.api.execution import run_limited

from khadamat.config import Settings
from khadamat.store import Store, Term

T = TypeVar("T")


def store_of(request: Request) -> Store:
    """The store this request reads: the active generation when the request first asks for it,
    kept for the rest of the request (one readlink per request; see khadamat/live_store.py)."""
    store = getattr(request.state, "store", None)
    if store is None:
        live = getattr(request.app.state, "live", None)
        store = request.app.state.store if live is None else live.current()
        request.state.store = store
    return store


def generation_of(request: Request) -> str | None:
    """The generation the request reads: what answer caches and the browse index are keyed on."""
    return getattr(store_of(request), "generation", None)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def config_of(request: Request) -> ApiConfig:
    return request.app.state.config


async def in_thread(request: Request, func: Callable[[], T]) -> T:
    """Run blocking store work in the worker pool within the configured time limit."""
    return await run_limited(func, config_of(request).query_timeout)


async def select(
    request: Request, query: str, bindings: Mapping[str, Term] | None = None
) -> list[dict[str, Term]]:
    """A SELECT with bound parameters, off the event loop."""
    store = store_of(request)
    return await in_thread(request, lambda: store.select(query, dict(bindings or {})))
