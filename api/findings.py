"""Validation findings for pages and the validation routes, from khadamat.validation.

The server's store is read-only, so the report of the loaded catalog cannot change while the
worker lives: it is computed once, on first use, off the event loop, and reused. Pages show the
findings whose focus node is the page's node.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from khadamat.api.deps import in_thread, store_of

_LOCK = asyncio.Lock()
_FOCUS_KEYS = ("focusNode", "focus", "focus_node", "node")


def validation_module() -> Any | None:
    """khadamat.validation when it offers `validate` (issue 3), else None."""
    try:
        module = importlib.import_module("khadamat.validation")
    except ImportError:
        return None
    return module if hasattr(module, "validate") else None


async def catalog_report(request: Request) -> Any | None:
    """The validation report of the whole loaded catalog (cached per worker), or None."""
    module = validation_module()
    if module is None:
        return None
    state = request.app.state
    async with _LOCK:
        if getattr(state, "catalog_report", None) is None:
            store = store_of(request)
            state.catalog_report = await in_thread(request, lambda: module.validate(store))
    return state.catalog_report


def focus_of(finding: Any) -> str | None:
    for key in _FOCUS_KEYS:
        value = finding.get(key) if isinstance(finding, dict) else getattr(finding, key, None)
        if value is not None:
            return value.value if isinstance(value, ox.NamedNode) else str(value)
    return None


async def for_node(request: Request, node: ox.NamedNode) -> list[dict[str, Any]] | None:
    """The findings about one node as JSON-ready dicts; None when validation is not available."""
    report = await catalog_report(request)
    if report is None:
        return None
    findings = report.to_json("fa").get("findings", [])
    return [f for f in findings if focus_of(f) == node.value]
