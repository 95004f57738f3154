"""Browse API, agencies: the tree of ministries, affiliated agencies and units, and one agency.

The tree is also a page: a browser gets it as right-to-left HTML (agencies.html, list_pages.py).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from khadamat.api import sparql_files
from khadamat.api.card_page import internal_keys
from khadamat.api.catalog_index import Agency, CatalogIndex, index_of
from khadamat.api.deps import select
from khadamat.api.findings import PENDING, page_headers, report_for
from khadamat.api.library import query_library, run_library_query  # cached, shared with /gaps
from khadamat.api.list_pages import entity_href, listed, query_url, wants_page
from khadamat.api.lookup import agency_node, describe, describe_graph
from khadamat.api.pages import templates
from khadamat.api.readable import rows
from khadamat.api.respond import negotiated
from khadamat.api.services import count_for_agency
from khadamat.api.views import local_name, properties, text

from khadamat import formatting
from khadamat.namespaces import KH

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

    if wants_page(request, True):
        lang = formatting.language(request.query_params.get("lang"), request.headers.get("accept-language"))
        context = await agency_context(request, node, lang, lambda iri: entity_href(request, iri))
        return templates.TemplateResponse(
            request, "agency.html", context, headers=page_headers(context["findings"])
        )
    return await negotiated(request, body, triples)


Link = Callable[[str], str | None]
SERVICES_SHOWN = 50  # the rest are one link away, on the search page filtered to the agency


async def _missions_with_bases(request: Request, node: ox.NamedNode, link: Link) -> list[dict[str, Any]]:
    """The agency's missions, each with the articles and instruments it rests on (one query)."""
    rows = await select(request, sparql_files.text("agency-missions-bases"), {"_agency": node})
    missions: dict[str, dict[str, Any]] = {}
    for r in rows:
        mission = missions.setdefault(
            r["mission"].value,
            {
                "href": link(r["mission"].value),
                "code": text(r.get("code")),
                "title": text(r.get("title")),
                "bases": [],
            },
        )
        basis = r.get("basis")
        if basis is not None and basis.value not in {b["iri"] for b in mission["bases"]}:
            law = r.get("law")
            mission["bases"].append(
                {
                    "iri": basis.value,
                    "href": link(basis.value),
                    "number": text(r.get("number")),
                    "part": text(r.get("part")),
                    "text": text(r.get("text")),
                    "law": None
                    if law is None
                    else {"href": link(law.value), "text": text(r.get("lawTitle")) or local_name(law.value)},
                }
            )
    return list(missions.values())


async def _gaps(request: Request, agency: str, link: Link, lang: str) -> list[dict[str, Any]]:
    """The library's gap queries (queries/gap-*.rq) that take an agency, run for this one (cached)."""
    specs = [
        s
        for name, s in sorted(query_library().library().items())
        if name.startswith("gap-")
        and s.param("agency") is not None
        and not any(p.required for p in s.params if p.name != "agency")
    ]
    bodies = await asyncio.gather(*(run_library_query(request, s, {"agency": agency}) for s in specs))
    out = []
    for spec, body in zip(specs, bodies, strict=True):
        answer = json.loads(body)
        shown = [c for c in answer["columns"] if c != "agency"]
        out.append(
            {
                "name": spec.name,
                "summary": spec.summary,
                "count": answer["count"],
                "columns": [formatting.label(KH + c, lang) or c for c in shown],
                "rows": [
                    [_gap_cell(row.get(c), link, lang) for c in shown]
                    for row in answer["rows"][:SERVICES_SHOWN]
                ],
            }
        )
    return out


def _gap_cell(value: Any, link: Link, lang: str) -> dict[str, Any]:
    """A gap query's cell: a concept by its label, another IRI as a link, a value formatted."""
    if isinstance(value, str) and (concept := formatting.label(value, lang)):
        return {"text": concept}
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return {"text": local_name(value), "href": link(value)}
    return {"text": formatting.display(value, lang)}


def _findings_summary(report: dict[str, Any] | str | None) -> dict[str, Any] | str | None:
    """Open findings of the agency's report: the total, by severity and by rule."""
    if report is None or report == PENDING:
        return report
    findings = report.get("findings", [])
    return {
        "total": len(findings),
        "by_severity": dict(Counter(f.get("severity") for f in findings).most_common()),
        "by_rule": dict(Counter(f.get("rule") for f in findings).most_common()),
    }


# What the agency page already shows above its details (name, code, kind, place in the tree).
_SHOWN_ABOVE = {
    "rdf:type",
    "skos:prefLabel",
    "kh:agencyCode",
    "kh:agencyKind",
    "kh:affiliateOf",
    "org:subOrganizationOf",
    "org:unitOf",
}


async def agency_context(request: Request, node: ox.NamedNode, lang: str, link: Link) -> dict[str, Any]:
    """What agency.html shows: the agency, its missions with their legal basis, its services,
    a summary of its open findings and its gaps. Every list comes from one query or the index."""
    index = await index_of(request)
    me = index.agencies[node.value]
    children = [index.agencies[c] for c in index.children.get(node.value, [])]

    def named(agency: Agency) -> dict[str, Any]:
        return {"text": agency.name or agency.code, "href": link(agency.iri), "code": agency.code}

    own = index.by_provider.get(node.value, [])
    return {
        "lang": lang,
        "title": me.name or me.code,
        "code": me.code,
        "kind": formatting.label(f"https://w3id.org/khadamat/code/agency-kind-{me.kind}", lang)
        if me.kind
        else None,
        "parents": [named(index.agencies[p]) for p in me.parents if p in index.agencies],
        "affiliates": [named(a) for a in children if a.unit_of != node.value],
        "units": [named(a) for a in children if a.unit_of == node.value],
        "missions": await _missions_with_bases(request, node, link),
        "services": [
            {"title": i.title, "service_id": i.service_id, "href": link(i.iri), "kind": i.kind}
            for i in own[:SERVICES_SHOWN]
        ],
        "services_total": len(own),
        "services_all": len(index.select(agency=node.value, affiliates=True)),
        "services_href": query_url("/services", {"agency": me.code}),
        "findings": _findings_summary(await report_for(request, me.code)),
        "validate_href": query_url("/validate", {"agency": me.code}),
        "gaps": await _gaps(request, node.value, link, lang),
        # Everything else said of the agency (its website, province, county…), loader internals
        # and the source row left out as on every public page.
        "other": rows(
            properties(await describe(request, node)), lang, link, skip=internal_keys() | _SHOWN_ABOVE
        ),
    }
