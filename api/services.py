"""Browse API, services: the list with filters, the whole card, the legal trace.

The list is also the citizen's search page: a browser gets it as right-to-left HTML
(services.html, by content negotiation in list_pages.py), an API client as JSON.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from khadamat.api.catalog_index import CatalogIndex, Item, agency_json, index_of
from khadamat.api.list_pages import entity_href, listed, paging, wants_page
from khadamat.api.lookup import agency_node, describe, describe_graph, item_by_id
from khadamat.api.respond import ApiError, negotiated
from khadamat.api.service_facets import Facets, facets_of
from khadamat.api.trace import trace, trace_triples
from khadamat.api.views import properties, text, value

from khadamat import formatting
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


# The search form's fields: the page keeps every other query parameter as a hidden field.
FILTERS = ("q", "agency", "family", "audience", "channel", "e_level", "province")
# Concept IRIs of the enumerated filters, for their labels (ontology/schemes.ttl).
_CODE = "https://w3id.org/khadamat/code/"


def _filters(index: CatalogIndex, facets: Facets, lang: str) -> list[dict[str, Any]]:
    """The search form's select boxes: name, label, and the options with the reader's labels."""

    def concept(prefix: str, notation: str) -> str:
        return formatting.label(_CODE + prefix + notation, lang) or notation

    agencies = sorted(index.agencies.values(), key=lambda a: a.code)
    everything = index.items
    word = {"fa": 0, "en": 1}[lang]
    return [
        {
            "name": "agency",
            "label": ("دستگاه", "Agency")[word],
            "options": [{"value": a.code, "label": a.name or a.code} for a in agencies],
        },
        {
            "name": "family",
            "label": ("رویداد زندگی", "Life event")[word],
            "options": facets.options("family", everything, lang),
        },
        {
            "name": "audience",
            "label": ("مخاطب", "Audience")[word],
            "options": [{"value": a.value, "label": concept("audience-", a.value)} for a in Audience],
        },
        {
            "name": "channel",
            "label": ("کانال ارائه", "Channel")[word],
            "options": facets.options("channel", everything, lang),
        },
        {
            "name": "e_level",
            "label": ("سطح الکترونیکی", "Electronic level")[word],
            "options": [{"value": e.value, "label": concept("e-level-", e.value)} for e in ELevel],
        },
        {
            "name": "province",
            "label": ("استان", "Province")[word],
            "options": facets.options("province", everything, lang),
        },
    ]


def _page(
    request: Request, body: dict[str, Any], q: str | None, filters: list[dict[str, Any]], lang: str
) -> dict[str, Any]:
    """What services.html shows: the search box and filters (others kept), the rows, paging."""
    params = {k: v for k, v in request.query_params.items() if k != "page"}
    rows = [
        item
        | {
            "href": entity_href(request, item["iri"]),
            "agency_href": entity_href(request, item["agency"]["iri"]),
        }
        for item in body["items"]
    ]
    chosen = {f["name"]: params.get(f["name"], "") for f in filters}
    return {
        "title": f"جستجوی «{q}»" if q else "خدمات",
        "lang": lang,
        "q": q or "",
        "filters": filters,
        "chosen": chosen,
        "kept": {k: v for k, v in params.items() if k not in FILTERS},
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
    audience: Annotated[
        Audience | Literal[""] | None, Query(description="audience: G2C, G2B, G2G, B2C")
    ] = None,
    e_level: Annotated[
        ELevel | Literal[""] | None, Query(description="electronic level: none, information, online")
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
    family: Annotated[
        str | None,
        Query(description="life event (service family), e.g. business, agriculture", max_length=60),
    ] = None,
    channel: Annotated[
        str | None, Query(description="delivery channel, e.g. counter, in-person, web", max_length=60)
    ] = None,
    province: Annotated[
        str | None,
        Query(description="province of the provider or of a counter office (Persian name)", max_length=60),
    ] = None,
    lang: Annotated[str | None, Query(description="language of the page's labels: fa or en")] = None,
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
        audience=audience or None,  # "" is the search form's "all"
        e_level=e_level or None,
        since=_since(verified_since),
        text=text or None,
        valid=valid,
        valid_since=_a_year_ago(),
    )
    narrowing = bool(family or channel or province)
    facets = await facets_of(request, index) if narrowing or wants_page(request, True) else Facets()
    if narrowing:
        items = facets.narrow(items, {"family": family, "channel": channel, "province": province})
    window = items[(page - 1) * size : page * size]
    body = {"total": len(items), "page": page, "size": size, "items": [_summary(index, i) for i in window]}

    async def triples() -> list[ox.Triple]:
        return _triples(window)

    reader = formatting.language(lang, request.headers.get("accept-language"))

    def page_context() -> dict[str, Any]:
        return _page(request, body, q, _filters(index, facets, reader), reader)

    return await listed(request, body, triples, "services.html", page_context)


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
