"""Finding the node a URL names: a service by ID, an agency, law or article by code.

IRIs are minted from codes by khadamat.iris (the same Minter the loader uses), so a code in a
URL maps to exactly one IRI; these functions only check that the node is loaded, and answer
404 in English and Persian when it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from khadamat.api import sparql_files
from khadamat.api.deps import in_thread, select, store_of
from khadamat.api.respond import ApiError

from khadamat.normalize import normalize_text


async def exists(request: Request, node: ox.NamedNode) -> bool:
    store = store_of(request)
    return await in_thread(request, lambda: store.ask(sparql_files.text("exists"), {"_node": node}))


async def describe(request: Request, node: ox.NamedNode) -> list[dict[str, Any]]:
    return await select(request, sparql_files.text("describe"), {"_node": node})


async def describe_graph(request: Request, node: ox.NamedNode) -> list[ox.Triple]:
    store = store_of(request)
    return await in_thread(
        request, lambda: store.construct(sparql_files.text("describe-graph"), {"_node": node})
    )


def _mint(make: Callable[[], ox.NamedNode]) -> ox.NamedNode | None:
    """The IRI a code names, or None when the code cannot be part of an IRI at all."""
    try:
        return make()
    except ValueError:
        return None


async def agency_node(request: Request, code: str) -> ox.NamedNode:
    node = _mint(lambda: store_of(request).minter.agency(code))
    if node is None or not await exists(request, node):
        raise ApiError(
            404, f"no agency with code '{code}' is loaded", f"دستگاهی با کد «{code}» بارگذاری نشده است"
        )
    return node


async def law_node(request: Request, code: str, article: str | None = None) -> ox.NamedNode:
    minter = store_of(request).minter
    node = _mint(lambda: minter.article(code, article) if article else minter.law(code))
    if node is None or not await exists(request, node):
        if article:
            raise ApiError(
                404,
                f"article {article} of law '{code}' is not in the graph",
                f"ماده {article} از مقرره «{code}» در گراف نیست",
            )
        raise ApiError(
            404, f"no law with code '{code}' is in the graph", f"مقرره‌ای با کد «{code}» در گراف نیست"
        )
    return node


async def item_by_id(request: Request, service_id: str, agency: str | None = None) -> dict[str, Any]:
    """The one card item with that service ID (narrowed by agency code); 404 or 300 otherwise."""
    wanted = normalize_text(service_id)
    rows = await select(request, sparql_files.text("items-by-id"), {"_id": ox.Literal(wanted)})
    if agency is not None:
        rows = [
            r
            for r in rows
            if r.get("agencyCode") is not None
            and normalize_text(r["agencyCode"].value) == normalize_text(agency)
        ]
    if not rows:
        where = f" for agency '{agency}'" if agency else ""
        raise ApiError(
            404,
            f"no service or task with ID '{service_id}'{where} is loaded",
            f"خدمت یا وظیفه‌ای با شناسه «{service_id}» بارگذاری نشده است",
        )
    if len(rows) > 1:
        choices = [
            {
                "iri": r["item"].value,
                "agency": r["agencyCode"].value if r.get("agencyCode") else None,
                "title": r["title"].value if r.get("title") else None,
                "url": f"/services/{wanted}?agency={r['agencyCode'].value}" if r.get("agencyCode") else None,
            }
            for r in rows
        ]
        raise ApiError(
            300,
            f"service ID '{service_id}' is carried by {len(rows)} agencies' services; choose one "
            "with ?agency=CODE",
            f"شناسه «{service_id}» در چند دستگاه آمده است؛ با ?agency= یکی را برگزینید",
            choices=choices,
        )
    return rows[0]
