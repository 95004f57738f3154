"""The pages of the list routes: `/services` and `/agencies` in a browser (issue 11, newcomer path).

One URL, two readers: an API client (no Accept, `*/*`, `application/json`) keeps the JSON it
always had, a linked-data client its Turtle or JSON-LD, and a browser, whose Accept prefers
`text/html`, gets a right-to-left Persian page built from the same JSON body — so the page can
never show something the API does not say. Content negotiation is khadamat.api.negotiation's;
text/html is offered last, so that it is chosen only when the client ranks it above JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response
from khadamat.api.deps import settings_of
from khadamat.api.negotiation import choose
from khadamat.api.pages import link, templates
from khadamat.api.respond import API_TYPES, negotiated

HTML = "text/html"
Triples = Callable[[], Awaitable[list[ox.Triple]]]


def wants_page(request: Request, with_rdf: bool) -> bool:
    """Whether the client prefers the HTML page over every format the route answers in."""
    offered = [*(API_TYPES if with_rdf else API_TYPES[:1]), HTML]
    return choose(request.headers.get("accept"), offered) == HTML


async def listed(
    request: Request,
    body: dict[str, Any],
    triples: Triples | None,
    template: str,
    page: Callable[[], dict[str, Any]],
) -> Response:
    """`template` filled with `page()` for a browser; otherwise what `negotiated` answers."""
    if not wants_page(request, triples is not None):
        return await negotiated(request, body, triples)
    return templates.TemplateResponse(request, template, page(), headers={"Vary": "Accept"})


def entity_href(request: Request, iri: str | None) -> str | None:
    """Where a page links an entity IRI: its page on this server when it is under the base."""
    if not iri:
        return None
    from khadamat.api.app import base_path  # the app module includes the routers that call this

    base = settings_of(request).base
    return link(iri, base, base_path(base))


def query_url(path: str, params: Mapping[str, Any]) -> str:
    """`path?…` with the parameters that have a value, for the page's own links (paging)."""
    kept = {k: v for k, v in params.items() if v is not None and v != ""}
    return path + ("?" + urlencode(kept) if kept else "")


def paging(path: str, params: Mapping[str, Any], total: int, page: int, size: int) -> dict[str, Any]:
    """Page number, page count and the links to the pages before and after (None at the ends)."""
    pages = max(1, -(-total // size))
    return {
        "page": page,
        "pages": pages,
        "first": (page - 1) * size + 1 if total else 0,
        "last": min(page * size, total),
        "previous": query_url(path, {**params, "page": page - 1}) if page > 1 else None,
        "next": query_url(path, {**params, "page": page + 1}) if page < pages else None,
    }
