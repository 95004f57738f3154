"""Browse API, agencies: the tree of ministries, affiliated agencies and units, and one agency."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from khadamat.api import sparql_files
from khadamat.api.deps import select
from khadamat.api.lookup import agency_node, describe, describe_graph
from khadamat.api.respond import negotiated
from khadamat.api.services import count_for_agency
from khadamat.api.views import local_name, properties, text

router = APIRouter(tags=["Agencies"])


def _kind(row: dict[str, Any]) -> str | None:
    return local_name(row["kind"].value).removeprefix("agency-kind-") if row.get("kind") else None


def fold(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """agencies.rq rows → one entry per agency IRI with its parents and its unit-of link."""
    agencies: dict[str, dict[str, Any]] = {}
    for row in rows:
        iri = row["agency"].value
        entry = agencies.setdefault(
            iri,
            {
                "iri": iri,
                "code": text(row["code"]),
                "name": text(row.get("name")),
                "kind": _kind(row),
                "url": f"/agencies/{text(row['code'])}",
                "parents": [],
                "unit_of": text(row.get("unitOf")),
            },
        )
        parent = text(row.get("parent"))
        if parent and parent not in entry["parents"]:
            entry["parents"].append(parent)
    return agencies


def tree(agencies: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Nest each agency under its first loaded parent; agencies without one are roots."""
    nodes = {
        iri: {k: v for k, v in a.items() if k not in ("parents", "unit_of")} | {"children": []}
        for iri, a in agencies.items()
    }
    roots = []
    for iri, agency in sorted(agencies.items(), key=lambda kv: kv[1]["code"]):
        parent = next((p for p in agency["parents"] if p in nodes and p != iri), None)
        (nodes[parent]["children"] if parent else roots).append(nodes[iri])
    return roots


@router.get("/agencies", summary="The tree of agencies, affiliated agencies and units")
async def list_agencies(request: Request) -> Response:
    rows = await select(request, sparql_files.text("agencies"))
    return await negotiated(request, {"agencies": tree(fold(rows))})


@router.get("/agencies/{code}", summary="One agency: missions, services, affiliates, units")
async def get_agency(request: Request, code: str) -> Response:
    node = await agency_node(request, code)
    agencies = fold(await select(request, sparql_files.text("agencies")))
    me = agencies[node.value]
    children = [a for a in agencies.values() if node.value in a["parents"]]
    missions = await select(request, sparql_files.text("agency-missions"), {"_agency": node})
    by_mission: dict[str, dict[str, Any]] = {}
    for m in missions:
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

    def brief(a: dict[str, Any]) -> dict[str, Any]:
        return {k: a[k] for k in ("iri", "code", "name", "kind", "url")}

    body = {
        **brief(me),
        "properties": properties(await describe(request, node)),
        "parents": [brief(agencies[p]) for p in me["parents"] if p in agencies],
        "missions": list(by_mission.values()),
        "affiliates": [brief(a) for a in children if a["unit_of"] != node.value],
        "units": [brief(a) for a in children if a["unit_of"] == node.value],
        "services": {
            "own": await count_for_agency(request, node, affiliates=False),
            "with_affiliates_and_units": await count_for_agency(request, node, affiliates=True),
            "url": f"/services?agency={me['code']}",
        },
    }

    async def triples() -> list[ox.Triple]:
        return await describe_graph(request, node)

    return await negotiated(request, body, triples)
