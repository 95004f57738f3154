"""Browse API, laws: an instrument or an article, and every mission and service grounded in it.

The grounding is found in small lookups (the law's parts, the nodes citing each part, the
services of each mission) rather than one join: pyoxigraph 0.5 plans joins around a bound
parameter poorly (one query took ~2 s on 50k services, the lookups take milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from khadamat.api import sparql_files
from khadamat.api.catalog_index import CatalogIndex, index_of
from khadamat.api.deps import select, settings_of
from khadamat.api.list_pages import wants_page
from khadamat.api.lookup import describe, describe_graph, law_node
from khadamat.api.pages import render_page
from khadamat.api.respond import negotiated
from khadamat.api.views import first_text, properties, text

router = APIRouter(tags=["Laws"])
Page = Annotated[int, Query(ge=1, le=100_000, description="page of the grounded services")]
Size = Annotated[int, Query(ge=1, le=1000, description="grounded services per page")]


def _service(index: CatalogIndex, iri: str) -> dict[str, Any]:
    item = index.by_iri[iri]
    return {
        "iri": iri,
        "service_id": item.service_id,
        "title": item.title,
        "url": f"/services/{item.service_id}" if item.service_id else None,
        "via": [],
    }


async def grounded(request: Request, node: ox.NamedNode) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(missions, services) whose legal basis is the node or a part of it, services also via missions."""
    index = await index_of(request)
    missions: dict[str, dict[str, Any]] = {}
    services: dict[str, dict[str, Any]] = {}
    for part in await select(request, sparql_files.text("subdivisions"), {"_law": node}):
        basis = part["part"].value
        for row in await select(request, sparql_files.text("citing"), {"_basis": part["part"]}):
            iri = row["node"].value
            if iri in index.by_iri:
                entry = services.setdefault(iri, _service(index, iri))
                if "direct" not in entry["via"]:
                    entry["via"].append("direct")
            else:
                missions.setdefault(iri, {"iri": iri, "basis": []})["basis"].append(basis)
    for iri, mission in missions.items():
        props = properties(await describe(request, ox.NamedNode(iri)))
        mission["code"] = first_text(props, "kh:missionCode")
        mission["title"] = first_text(props, "dct:title")
        rows = await select(request, sparql_files.text("mission-services"), {"_mission": ox.NamedNode(iri)})
        for row in rows:
            if row["node"].value in index.by_iri:
                entry = services.setdefault(row["node"].value, _service(index, row["node"].value))
                if iri not in entry["via"]:
                    entry["via"].append(iri)
    ordered_missions = sorted(missions.values(), key=lambda m: m["iri"])
    return ordered_missions, sorted(services.values(), key=lambda s: s["iri"])


async def law_body(request: Request, node: ox.NamedNode, page: int, size: int) -> dict[str, Any]:
    parts = await select(request, sparql_files.text("law-parts"), {"_law": node})
    missions, services = await grounded(request, node)
    return {
        "iri": node.value,
        "properties": properties(await describe(request, node)),
        "parts": [
            {
                "iri": p["part"].value,
                "article_number": text(p.get("articleNumber")),
                "part_label": text(p.get("partLabel")),
                "text": text(p.get("text")),
            }
            for p in parts
        ],
        "missions": missions,
        "services_total": len(services),
        "page": page,
        "size": size,
        "services": services[(page - 1) * size : page * size],
    }


async def grounded_context(
    request: Request, node: ox.NamedNode, link: Callable[[str], str | None]
) -> dict[str, Any]:
    """What a law's or an article's page lists: the missions and the services grounded on it."""
    missions, services = await grounded(request, node)
    return {
        "missions": [
            {"text": m["title"] or m["code"] or m["iri"], "href": link(m["iri"]), "code": m["code"]}
            for m in missions
        ],
        "services": [
            {
                "text": s["title"],
                "href": link(s["iri"]),
                "service_id": s["service_id"],
                "direct": "direct" in s["via"],
            }
            for s in services
        ],
    }


async def _page_or(request: Request, node: ox.NamedNode) -> Response | None:
    """The node's HTML page when a browser asks (the same page as its IRI), else None."""
    if not wants_page(request, True):
        return None
    from khadamat.api.app import base_path  # the app module includes this router

    base = settings_of(request).base
    return await render_page(request, node, base, base_path(base))


@router.get("/laws/{code}", summary="A legal instrument and everything grounded in it")
async def get_law(request: Request, code: str, page: Page = 1, size: Size = 100) -> Response:
    node = await law_node(request, code)
    if (html := await _page_or(request, node)) is not None:
        return html
    body = {"code": code, **await law_body(request, node, page, size)}
    return await negotiated(request, body, lambda: describe_graph(request, node))


@router.get("/laws/{code}/{article}", summary="An article and everything grounded in it")
async def get_article(
    request: Request, code: str, article: str, page: Page = 1, size: Size = 100
) -> Response:
    node = await law_node(request, code, article)
    if (html := await _page_or(request, node)) is not None:
        return html
    body = {"code": code, "article": article, **await law_body(request, node, page, size)}
    return await negotiated(request, body, lambda: describe_graph(request, node))
