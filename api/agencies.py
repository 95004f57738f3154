"""Browse API, agencies: the tree of ministries, affiliated agencies and units, and one agency.

The tree is also a page: a browser gets it as right-to-left HTML (agencies.html, list_pages.py).
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from khadamat.api import sparql_files
from khadamat.api.catalog_index import Agency, CatalogIndex, index_of
from khadamat.api.deps import select
from khadamat.api.list_pages import entity_href, listed, query_url
from khadamat.api.lookup import agency_node, describe, describe_graph
from khadamat.api.respond import negotiated
from khadamat.api.services import count_for_agency
from khadamat.api.views import properties, text

router = APIRouter(tags=["Agencies"])


def brief(agency: Agency) -> dict[str, Any]:
    return {
        "iri": agency.iri,
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind,
        "url": f"/agencies/{agency.code}",
    }


def tree(index: CatalogIndex) -> list[dict[str, Any]]:
    """Nest each agency under its first loaded parent; agencies without one are roots."""
    nodes = {iri: brief(a) | {"children": []} for iri, a in index.agencies.items()}
    roots = []
    for agency in sorted(index.agencies.values(), key=lambda a: a.code):
        parent = next((p for p in agency.parents if p in nodes), None)
        (nodes[parent]["children"] if parent else roots).append(nodes[agency.iri])
    return roots


def _linked(request: Request, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tree with, on each agency, the links of its page: its own page and its services."""
    return [
        node
        | {
            "href": entity_href(request, node["iri"]),
            "services_href": query_url("/services", {"agency": node["code"]}),
            "children": _linked(request, node["children"]),
        }
        for node in nodes
    ]


@router.get("/agencies", summary="The tree of agencies, affiliated agencies and units")
async def list_agencies(request: Request) -> Response:
    """JSON by default; a right-to-left page of the tree for browsers."""
    body = {"agencies": tree(await index_of(request))}

    def page() -> dict[str, Any]:
        return {"title": "دستگاه‌ها", "agencies": _linked(request, body["agencies"])}

    return await listed(request, body, None, "agencies.html", page)


async def missions_of(request: Request, node: ox.NamedNode) -> list[dict[str, Any]]:
    rows = await select(request, sparql_files.text("agency-missions"), {"_agency": node})
    by_mission: dict[str, dict[str, Any]] = {}
    for m in rows:
        entry = by_mission.setdefault(
            m["mission"].value,
            {
                "iri": m["mission"].value,
                "code": text(m.get("code")),
                "title": text(m.get("title")),
                "legal_basis": [],
            },
        )
        if m.get("legalBasis") is not None and m["legalBasis"].value not in entry["legal_basis"]:
            entry["legal_basis"].append(m["legalBasis"].value)
    return list(by_mission.values())


@router.get("/agencies/{code}", summary="One agency: missions, services, affiliates, units")
async def get_agency(request: Request, code: str) -> Response:
    node = await agency_node(request, code)
    index = await index_of(request)
    me = index.agencies[node.value]
    children = [index.agencies[c] for c in index.children.get(node.value, [])]
    body = {
        **brief(me),
        "properties": properties(await describe(request, node)),
        "parents": [brief(index.agencies[p]) for p in me.parents if p in index.agencies],
        "missions": await missions_of(request, node),
        "affiliates": [brief(a) for a in children if a.unit_of != node.value],
        "units": [brief(a) for a in children if a.unit_of == node.value],
        "services": {
            "own": await count_for_agency(request, node, affiliates=False),
            "with_affiliates_and_units": await count_for_agency(request, node, affiliates=True),
            "url": f"/services?agency={me.code}",
        },
    }

    async def triples() -> list[ox.Triple]:
        return await describe_graph(request, node)

    return await negotiated(request, body, triples)
