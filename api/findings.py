"""Validation findings on entity pages, computed per agency in the background.

The server's store is read-only, so an agency's validation report cannot change while the worker
lives: it is computed once, reused, and shown on the pages of that agency's nodes. Validating an
agency of a national catalog takes longer than a page may wait, so a page never waits: the first
visit starts the validation (one at a time per worker) and says the findings are on their way;
later visits show them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from khadamat.api.catalog_index import index_of
from khadamat.api.deps import config_of, store_of
from khadamat.api.execution import run_limited

PENDING = "pending"


def validation_module() -> Any | None:
    """khadamat.validation when it offers `validate` (issue 3), else None."""
    try:
        module = importlib.import_module("khadamat.validation")
    except ImportError:
        return None
    return module if hasattr(module, "validate") else None


async def _report(request: Request, module: Any, code: str) -> dict[str, Any]:
    store = store_of(request)
    today = dt.date.today()
    state = request.app.state
    if getattr(state, "validation_turn", None) is None:
        state.validation_turn = asyncio.Semaphore(1)  # one background validation at a time
    async with state.validation_turn:
        report = await run_limited(
            lambda: module.validate(store, agency=code, on_date=today), config_of(request).validate_timeout
        )
    return report.to_json("fa")


async def agency_code_of(request: Request, node: ox.NamedNode) -> str | None:
    """The agency whose graph holds the node: the item's provider, or the agency itself."""
    index = await index_of(request)
    item = index.by_iri.get(node.value)
    agency = index.agencies.get(item.provider or "") if item is not None else index.agencies.get(node.value)
    return agency.code if agency is not None else None


def page_headers(findings: object) -> dict[str, str]:
    """Headers of a page that shows findings. A page made while they are still PENDING tells its
    reader to reload: it says `Cache-Control: no-store`, so that neither the browse cache
    (api/browse_cache.py) nor any HTTP cache keeps it for the rest of the store version."""
    headers = {"Vary": "Accept, Accept-Language"}
    if findings == PENDING:
        headers["Cache-Control"] = "no-store"
    return headers


async def report_for(request: Request, code: str) -> dict[str, Any] | str | None:
    """An agency's validation report (JSON), PENDING while it is being made, None when unavailable.

    One background validation per agency, shared by every page that asks (the item pages and the
    agency page), kept until the server restarts; a page never waits more than a second."""
    module = validation_module()
    if module is None:
        return None
    tasks: dict[str, asyncio.Task] = request.app.state.__dict__.setdefault("finding_tasks", {})
    task = tasks.get(code)
    if task is None or (task.done() and task.exception() is not None):
        task = tasks[code] = asyncio.ensure_future(_report(request, module, code))
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout=1.0)
    except TimeoutError:
        return PENDING
    except Exception:
        return None


async def for_node(request: Request, node: ox.NamedNode) -> list[dict[str, Any]] | str | None:
    """The findings about a node; PENDING while its agency is being validated; None when not applicable."""
    code = await agency_code_of(request, node) if validation_module() is not None else None
    if code is None:
        return None
    report = await report_for(request, code)
    if report is None or report == PENDING:
        return report
    return [f for f in report.get("findings", []) if f.get("focusNode") == node.value]
