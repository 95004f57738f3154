"""Browse API, services: the list with filters, the whole card, the legal trace."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from khadamat.api import sparql_files
from khadamat.api.deps import in_thread, select, store_of
from khadamat.api.lookup import agency_node, describe, describe_graph, item_by_id
from khadamat.api.respond import ApiError, negotiated
from khadamat.api.views import local_name, properties, text, value

from khadamat.jalali import DateFormatError, parse_date
from khadamat.namespaces import DCT, KH, XSD, khc
from khadamat.normalize import normalize_text
from khadamat.store import Term

router = APIRouter(tags=["Services"])


class Audience(StrEnum):
    G2C = "G2C"
    G2B = "G2B"
    G2G = "G2G"
    B2C = "B2C"


class ELevel(StrEnum):
    none = "none"
    information = "information"
    online = "online"


def _bindings(
    agency: ox.NamedNode | None,
    affiliates: bool,
    audience: Audience | None,
    e_level: ELevel | None,
    verified_since: str | None,
    q: str | None,
) -> dict[str, Term]:
    bindings: dict[str, Any] = {}
    if agency is not None:
        bindings["_tree" if affiliates else "_agency"] = agency
    if audience is not None:
        bindings["_audience"] = khc(f"audience-{audience.value}")
    if e_level is not None:
        bindings["_eLevel"] = khc(f"e-level-{e_level.value}")
    if verified_since:
        try:
            since = parse_date(verified_since)
        except DateFormatError as exc:
            raise ApiError(422, str(exc), f"تاریخ «{verified_since}» معتبر نیست") from exc
        bindings["_since"] = ox.Literal(since.isoformat(), datatype=ox.NamedNode(XSD + "date"))
    if q and normalize_text(q):
        bindings["_q"] = ox.Literal(normalize_text(q))
    return bindings


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    service_id = text(row.get("serviceId"))
    return {
        "iri": row["item"].value,
        "kind": "task" if row["class"].value == KH + "Task" else "service",
        "service_id": service_id,
        "title": text(row.get("title")),
        "agency": {
            "code": text(row.get("agencyCode")),
            "iri": text(row.get("provider")),
            "name": text(row.get("agencyName")),
        },
        "e_level": local_name(row["eLevel"].value).removeprefix("e-level-") if row.get("eLevel") else None,
        "verified_on": value(row.get("verifiedOn")),
        "url": f"/services/{service_id}" if service_id else None,
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
    q: Annotated[
        str | None,
        Query(description="title search, Persian-normalized (ي/ی, ك/ک, digits, ZWNJ)", max_length=200),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Card items with their ID, title, provider and electronic level; `total` counts all matches."""
    node = await agency_node(request, agency) if agency else None
    bindings = _bindings(node, affiliates, audience, e_level, verified_since, q)
    rows = await select(request, sparql_files.text("services"), bindings)
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:  # an item with two labels of its provider appears twice: keep the first
        seen.setdefault(row["item"].value, row)
    items = list(seen.values())
    window = items[(page - 1) * size : page * size]
    body = {"total": len(items), "page": page, "size": size, "items": [_summary(r) for r in window]}

    async def triples() -> list[ox.Triple]:
        out = []
        for r in window:
            out.append(ox.Triple(r["item"], ox.NamedNode(DCT + "title"), r["title"]))
            if r.get("serviceId"):
                out.append(ox.Triple(r["item"], ox.NamedNode(KH + "serviceId"), r["serviceId"]))
            if r.get("provider"):
                out.append(ox.Triple(r["item"], ox.NamedNode(KH + "provider"), r["provider"]))
        return out

    return await negotiated(request, body, triples)


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
    agency: Annotated[
        str | None, Query(description="agency code, when several agencies carry the ID")
    ] = None,
) -> Response:
    row = await item_by_id(request, service_id, agency)
    item = row["item"]
    body = await card(request, item)
    body["service_id"] = normalize_text(service_id)
    body["legal_basis_url"] = f"/services/{normalize_text(service_id)}/legal-basis"
    return await negotiated(request, body, lambda: describe_graph(request, item))


def _step(row: dict[str, Any]) -> dict[str, Any]:
    node = row.get("node")
    return {
        "via": text(row.get("via")),
        "mission": None
        if row.get("mission") is None
        else {
            "iri": row["mission"].value,
            "code": text(row.get("missionCode")),
            "title": text(row.get("missionTitle")),
        },
        "node": None
        if node is None
        else {
            "iri": node.value,
            "kind": local_name(row["nodeClass"].value) if row.get("nodeClass") else None,
            "article_number": text(row.get("articleNumber")),
            "part_label": text(row.get("partLabel")),
            "text": text(row.get("text")),
        },
        "article": None
        if row.get("article") is None
        else {"iri": row["article"].value, "number": text(row.get("articleNumberOfPart"))},
        "instrument": None
        if row.get("instrument") is None
        else {
            "iri": row["instrument"].value,
            "code": text(row.get("legalCode")),
            "title": text(row.get("instrumentTitle")),
            "url": f"/laws/{text(row.get('legalCode'))}",
        },
    }


async def trace_rows(request: Request, item: ox.NamedNode) -> list[dict[str, Any]]:
    return await select(request, sparql_files.text("legal-trace"), {"_item": item})


def trace_triples(item: ox.NamedNode, rows: list[dict[str, Any]]) -> list[ox.Triple]:
    """The trace as RDF: the links the JSON follows, in the vocabulary of the graph."""
    out: set[ox.Triple] = set()
    for r in rows:
        node = r.get("node")
        if r.get("mission") is not None:
            out.add(ox.Triple(item, ox.NamedNode(KH + "realizesMission"), r["mission"]))
            if node is not None:
                out.add(ox.Triple(r["mission"], ox.NamedNode(KH + "legalBasis"), node))
        elif node is not None:
            out.add(ox.Triple(item, ox.NamedNode(KH + "legalBasis"), node))
        if node is not None and r.get("text") is not None:
            out.add(ox.Triple(node, ox.NamedNode(KH + "text"), r["text"]))
        if node is not None and r.get("instrument") is not None and r["instrument"] != node:
            out.add(
                ox.Triple(
                    node, ox.NamedNode("http://data.europa.eu/eli/ontology#is_part_of"), r["instrument"]
                )
            )
    return sorted(out, key=str)


@router.get("/services/{service_id}/legal-basis", summary="Trace a service to its legal basis")
async def get_legal_basis(
    request: Request,
    service_id: str,
    agency: Annotated[
        str | None, Query(description="agency code, when several agencies carry the ID")
    ] = None,
) -> Response:
    """service → missions → articles (with text) → instruments, and the direct legal bases."""
    row = await item_by_id(request, service_id, agency)
    item = row["item"]
    rows = await trace_rows(request, item)
    body = {
        "service": {
            "iri": item.value,
            "service_id": normalize_text(service_id),
            "title": text(row.get("title")),
        },
        "grounded": any(r.get("node") is not None for r in rows),
        "steps": [_step(r) for r in rows],
    }

    async def triples() -> list[ox.Triple]:
        return trace_triples(item, rows)

    return await negotiated(request, body, triples)


async def count_for_agency(request: Request, agency: ox.NamedNode, affiliates: bool) -> int:
    store = store_of(request)
    key = "_tree" if affiliates else "_agency"
    rows = await in_thread(request, lambda: store.select(sparql_files.text("services"), {key: agency}))
    return len({r["item"].value for r in rows})
