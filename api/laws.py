"""Browse API, laws: an instrument or an article, and every mission and service grounded in it."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from khadamat.api import sparql_files
from khadamat.api.deps import select
from khadamat.api.lookup import describe, describe_graph, law_node
from khadamat.api.respond import negotiated
from khadamat.api.views import properties, text

router = APIRouter(tags=["Laws"])


async def law_body(request: Request, node: ox.NamedNode) -> dict[str, Any]:
    parts = await select(request, sparql_files.text("law-parts"), {"_law": node})
    grounded = await select(request, sparql_files.text("grounded-in"), {"_law": node})
    missions: dict[str, dict[str, Any]] = {}
    services: dict[str, dict[str, Any]] = {}
    for row in grounded:
        iri = row["node"].value
        if text(row["kind"]) == "mission":
            missions.setdefault(
                iri, {"iri": iri, "code": text(row.get("code")), "title": text(row.get("title")), "basis": []}
            )["basis"].append(row["basis"].value)
        else:
            entry = services.setdefault(
                iri,
                {
                    "iri": iri,
                    "service_id": text(row.get("serviceId")),
                    "title": text(row.get("title")),
                    "url": f"/services/{text(row['serviceId'])}" if row.get("serviceId") else None,
                    "via": [],
                },
            )
            via = text(row["via"])
            if via not in entry["via"]:
                entry["via"].append(via)
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
        "missions": sorted(missions.values(), key=lambda m: m["iri"]),
        "services": sorted(services.values(), key=lambda s: s["iri"]),
    }


@router.get("/laws/{code}", summary="A legal instrument and everything grounded in it")
async def get_law(request: Request, code: str) -> Response:
    node = await law_node(request, code)
    body = {"code": code, **await law_body(request, node)}
    return await negotiated(request, body, lambda: describe_graph(request, node))


@router.get("/laws/{code}/{article}", summary="An article and everything grounded in it")
async def get_article(request: Request, code: str, article: str) -> Response:
    node = await law_node(request, code, article)
    body = {"code": code, "article": article, **await law_body(request, node)}
    return await negotiated(request, body, lambda: describe_graph(request, node))
