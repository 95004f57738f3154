"""Entity pages: every IRI under the base dereferences (issue 5 §5).

The base's path is mounted on the app (base `http://127.0.0.1:8000/id/` → `/id/…`), so an IRI
is also the URL of its page. A browser (Accept: text/html) gets a right-to-left Persian page —
the node's statements with Persian labels, Jalali dates, the legal trace of a service as links
and the validation findings about it; a linked-data client gets Turtle, JSON-LD, N-Triples or
RDF/XML of the node. IRIs keep Persian letters as they are and escape ASCII specials (iris.py):
the request path is turned back into that IRI form before lookup (RFC 3987 §3.2).
"""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from khadamat.api import findings
from khadamat.api.app_paths import PACKAGE_DIR
from khadamat.api.card_page import audit_view, internal_keys, service_context, source_of
from khadamat.api.context import JSONLD, compact_answer
from khadamat.api.deps import settings_of
from khadamat.api.lookup import describe, describe_graph, exists
from khadamat.api.negotiation import GRAPH_ALIASES, GRAPH_TYPES, choose
from khadamat.api.readable import rows
from khadamat.api.results import serialize_triples
from khadamat.api.schema_org import government_service, script_json
from khadamat.api.trace import trace
from khadamat.api.views import local_name, properties

from khadamat import formatting
from khadamat.namespaces import KH

templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
# Values reach people through khadamat.formatting only: the same filters on every page.
templates.env.filters.update(
    fa_digits=formatting.fa_digits,
    number=formatting.number,
    money=formatting.money,
    days=formatting.days,
    yes_no=formatting.yes_no,
    jalali=formatting.jalali_date,
)
templates.env.globals["lang"] = "fa"  # a page's context says "en" when the reader asked for it
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_PAGE_TYPES = [
    "text/html",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
]


def uri_to_iri(path: str) -> str:
    """Decode percent-escaped UTF-8 (Persian letters) and keep escaped ASCII as it is."""

    def decode(match: re.Match[str]) -> str:
        raw = bytes.fromhex(match.group(0).replace("%", ""))
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            return match.group(0)
        return "".join(f"%{ord(c):02X}" if ord(c) < 128 else c for c in decoded)

    return _ESCAPES.sub(decode, path)


# Schemes a page may put in an href. Anything else (`javascript:`, `data:`, `vbscript:` …) would
# run in the reader's browser when clicked, so such an IRI is shown as text, never as a link.
LINKABLE_SCHEMES = ("http://", "https://", "mailto:")


def link(iri: str, base: str, base_path: str) -> str | None:
    """Where a page links an IRI: under the base, to this server's page; elsewhere, as it is.

    None when the IRI's scheme is not one a browser may follow safely (LINKABLE_SCHEMES).
    """
    if iri.startswith(base):
        return base_path + iri[len(base) :]
    return iri if iri.strip().lower().startswith(LINKABLE_SCHEMES) else None


def page_title(props: dict[str, list[Any]], lang: str = "fa") -> str | None:
    """The node's title; an article's is "ماده ۱۰ — قانون حفظ نباتات" (number, then its law)."""
    for key in ("dct:title", "skos:prefLabel", "rdfs:label"):
        for item in props.get(key, []):
            if isinstance(item, dict) and item.get("lang") in ("fa", None) and item.get("value"):
                return item["value"]
    number = next(iter(props.get("kh:articleNumber", [])), None)
    part = next((p.get("value") for p in props.get("kh:partLabel", []) if isinstance(p, dict)), None)
    whole = next((p.get("label") for p in props.get("eli:is_part_of", []) if isinstance(p, dict)), None)
    if number is None and part is None:
        return None
    name = part or ("Article " if lang == "en" else "ماده ") + formatting.number(number, lang)
    return f"{name} — {whole}" if whole else name


def make_router(base_path: str) -> APIRouter:
    """The router that serves pages at `base_path` (the path of the configured base IRI)."""
    router = APIRouter(tags=["Pages"])

    @router.get(base_path + "{rest:path}", summary="Dereference an entity IRI (HTML page or RDF)")
    async def entity(request: Request, rest: str) -> Response:
        base = settings_of(request).base
        raw = request.scope.get("raw_path", request.url.path.encode()).decode("ascii", "replace")
        iri = base + uri_to_iri(raw)[len(base_path) :]
        media = choose(request.headers.get("accept"), _PAGE_TYPES, GRAPH_ALIASES) or "text/html"
        try:
            node: ox.NamedNode | None = ox.NamedNode(iri)
        except ValueError:  # not an IRI at all, so certainly not in the graph
            node = None
        if node is None or not await exists(request, node):
            message = f"{iri} is not in the graph — این شناسه در گراف نیست"
            if media == "text/html":
                return templates.TemplateResponse(
                    request, "missing.html", {"iri": iri, "title": "یافت نشد"}, status_code=404
                )
            return PlainTextResponse(message, status_code=404)
        if media in GRAPH_TYPES:
            graph = await describe_graph(request, node)
            data = compact_answer(graph) if media == JSONLD else serialize_triples(graph, media)
            return Response(data, media_type=media, headers={"Vary": "Accept"})
        return await render_page(request, node, base, base_path)

    return router


async def render_page(request: Request, node: ox.NamedNode, base: str, base_path: str) -> Response:
    """The page of a node in the graph, for a browser."""
    context = await page_context(request, node, base, base_path)
    return templates.TemplateResponse(
        request, context["template"], context, headers=findings.page_headers(context.get("findings"))
    )


async def page_context(request: Request, node: ox.NamedNode, base: str, base_path: str) -> dict[str, Any]:
    """Everything a node's page shows: the service page for a service or task, else its values.

    Values are shown as people read them (khadamat.api.readable); loader internals never, the
    source row only in the auditor's view."""
    lang = formatting.language(request.query_params.get("lang"), request.headers.get("accept-language"))
    auditor = await audit_view(request)
    props = properties(await describe(request, node))
    types = [t["iri"] for t in props.get("rdf:type", []) if isinstance(t, dict)]

    def to(iri: str) -> str | None:
        return link(iri, base, base_path)

    if KH + "ExecutiveAgency" in types:
        from khadamat.api.agencies import agency_context  # agencies.py imports this module

        return await agency_context(request, node, lang, to) | {"template": "agency.html"}
    grounding: dict[str, Any] = {}
    if any(t in (KH + "LegalInstrument", KH + "Article", KH + "ArticlePart") for t in types):
        from khadamat.api.laws import grounded_context  # laws.py imports this module

        grounding = await grounded_context(request, node, to)
    is_item = any(t in (KH + "Service", KH + "Task") for t in types)
    steps = await trace(request, node) if is_item else []
    markup = government_service(node.value, props, steps) if KH + "Service" in types else None
    context: dict[str, Any] = {
        "lang": lang,
        "iri": node.value,
        "title": page_title(props, lang) or local_name(node.value),
        "types": [{"iri": t, "label": formatting.label(t, lang) or local_name(t)} for t in types],
        "rows": rows(props, lang, to, skip=internal_keys()),
        "trace": steps,
        "findings": await findings.for_node(request, node),
        "link_of": to,
        "is_item": is_item,
        "schema_org": None if markup is None else script_json(markup),
        "auditor": auditor is not None,
        "source": [source_of(s) for s in props.get("kh:sourceRow", [])] if auditor else [],
        "template": "entity.html",
        "grounding": grounding,
    }
    if is_item:
        context |= await service_context(request, node, props, steps, lang, to, auditor)
        context["template"] = "service.html"
    return context
