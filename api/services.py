"""Browse API, services: the list with filters, the whole card, the legal trace.

The list is also the citizen's search page: a browser gets it as right-to-left HTML
(services.html, by content negotiation in list_pages.py), an API client as JSON.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from khadamat.api.catalog_index import CatalogIndex, Item, agency_json, index_of
from khadamat.api.list_pages import entity_href, listed, paging
from khadamat.api.lookup import agency_node, describe, describe_graph, item_by_id
from khadamat.api.respond import ApiError, negotiated
from khadamat.api.trace import trace, trace_triples
from khadamat.api.views import properties, text, value

from khadamat.jalali import DateFormatError, parse_date
from khadamat.namespaces import DCT, KH, XSD
from khadamat.normalize import normalize_text

router = APIRouter(tags=["Services"])

# A service ID is unique only within its agency; both service endpoints take the same hint.
OwnerCode = Annotated[str | None, Query(description="agency code, when several agencies carry the ID")]


class Audience(StrEnum):
    G2C = "G2C"
    G2B = "G2B"
    G2G = "G2G"
    B2C = "B2C"


class ELevel(StrEnum):
    none = "none"
    information = "information"
    online = "online"


def _since(verified_since: str | None) -> str | None:
    if not verified_since:
        return None
    try:
        return parse_date(verified_since).isoformat()
    except DateFormatError as exc:
        raise ApiError(422, str(exc), f"تاریخ «{verified_since}» معتبر نیست") from exc


def _a_year_ago() -> str:
    """The oldest verification date of a card that is still valid (valid for one year)."""
    today = dt.date.today()
    try:
        return today.replace(year=today.year - 1).isoformat()
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28).isoformat()


def _summary(index: CatalogIndex, item: Item) -> dict[str, Any]:
    verified = item.verified_on
    return {
        "iri": item.iri,
        "kind": item.kind,
        "service_id": item.service_id,
        "title": item.title,
        "agency": agency_json(index, item.provider),
        "e_level": item.e_level,
        "verified_on": None
        if verified is None
        else value(ox.Literal(verified, datatype=ox.NamedNode(XSD + "date"))),
        "url": f"/services/{item.service_id}" if item.service_id else None,
    }


def _triples(items: list[Item]) -> list[ox.Triple]:
    out = []
    for item in items:
        node = ox.NamedNode(item.iri)
        out.append(ox.Triple(node, ox.NamedNode(DCT + "title"), ox.Literal(item.title, language="fa")))
        if item.service_id:
            out.append(ox.Triple(node, ox.NamedNode(KH + "serviceId"), ox.Literal(item.service_id)))
        if item.provider:
            out.append(ox.Triple(node, ox.NamedNode(KH + "provider"), ox.NamedNode(item.provider)))
    return out


def _page(request: Request, body: dict[str, Any], q: str | None) -> dict[str, Any]:
    """What services.html shows: the search box (with the other filters kept), the rows, paging."""
    params = {k: v for k, v in request.query_params.items() if k != "page"}
    rows = [
        item
        | {
            "href": entity_href(request, item["iri"]),
            "agency_href": entity_href(request, item["agency"]["iri"]),
        }
        for item in body["items"]
    ]
    return {
        "title": f"جستجوی «{q}»" if q else "خدمات",
        "q": q or "",
        "kept": {k: v for k, v in params.items() if k != "q"},
        "total": body["total"],
        "items": rows,
        "paging": paging("/services", params, body["total"], body["page"], body["size"]),
    }


@router.get("/services", summary="List services and tasks, filtered and paged")
async def list_services(
    request: Request,
    agency: Annotated[
        str | None, Query(description="agency code (its affiliates and units too, see affiliates)")
    ] = None,
    affiliates: Annotated[
        bool, Query(description="include affiliated agencies and units of the agency")
    ] = True,
    audience: Annotated[Audience | None, Query(description="audience: G2C, G2B, G2G, B2C")] = None,
    e_level: Annotated[
        ELevel | None, Query(description="electronic level: none, information, online")
    ] = None,
    verified_since: Annotated[
        str | None, Query(description="card verified on or after (Jalali 1403/01/01 or ISO)", max_length=20)
    ] = None,
    valid: Annotated[
        bool | None,
        Query(description="card still valid: verified within the last year (circular 29168 art. 4 note 3)"),
    ] = None,
    q: Annotated[
        str | None,
        Query(description="title search, Persian-normalized (ي/ی, ك/ک, digits, ZWNJ)", max_length=200),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Card items with their ID, title, provider and electronic level; `total` counts all matches.

    JSON by default; Turtle or JSON-LD by Accept; a right-to-left search page for browsers."""
    node = await agency_node(request, agency) if agency else None
    index = await index_of(request)
    text = normalize_text(q) if q else None
    items = index.select(
        agency=node.value if node else None,
        affiliates=affiliates,
        audience=audience.value if audience else None,
        e_level=e_level.value if e_level else None,
        since=_since(verified_since),
        text=text or None,
        valid=valid,
        valid_since=_a_year_ago(),
    )
    window = items[(page - 1) * size : page * size]
    body = {"total": len(items), "page": page, "size": size, "items": [_summary(index, i) for i in window]}

    async def triples() -> list[ox.Triple]:
        return _triples(window)

    return await listed(request, body, triples, "services.html", lambda: _page(request, body, q))


async def card(request: Request, item: ox.NamedNode) -> dict[str, Any]:
    """The whole card: the item's statements, and those of its evidence, inquiries, delegations."""
    graph = await describe_graph(request, item)
    parts = sorted(
        {t.subject.value for t in graph if t.subject != item and isinstance(t.subject, ox.NamedNode)}
    )
    body: dict[str, Any] = {"iri": item.value, "properties": properties(await describe(request, item))}
    body["parts"] = [
        {"iri": iri, "properties": properties(await describe(request, ox.NamedNode(iri)))} for iri in parts
    ]
    return body


@router.get("/services/{service_id}", summary="The whole card of a service or task")
async def get_service(
    request: Request,
    service_id: str,
    agency: OwnerCode = None,
) -> Response:
    row = await item_by_id(request, service_id, agency)
    item = row["item"]
    body = await card(request, item)
    body["service_id"] = normalize_text(service_id)
    body["legal_basis_url"] = f"/services/{normalize_text(service_id)}/legal-basis"
    return await negotiated(request, body, lambda: describe_graph(request, item))


@router.get("/services/{service_id}/legal-basis", summary="Trace a service to its legal basis")
async def get_legal_basis(
    request: Request,
    service_id: str,
    agency: OwnerCode = None,
) -> Response:
    """service → missions → articles (with text) → instruments, and the direct legal bases."""
    row = await item_by_id(request, service_id, agency)
    item = row["item"]
    steps = await trace(request, item)
    body = {
        "service": {
            "iri": item.value,
            "service_id": normalize_text(service_id),
            "title": text(row.get("title")),
        },
        "grounded": any(s["node"] is not None for s in steps),
        "steps": steps,
    }

    async def triples() -> list[ox.Triple]:
        return trace_triples(item, steps)

    return await negotiated(request, body, triples)


async def count_for_agency(request: Request, agency: ox.NamedNode, affiliates: bool) -> int:
    index = await index_of(request)
    return len(index.select(agency=agency.value, affiliates=affiliates))
