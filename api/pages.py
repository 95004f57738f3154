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
from khadamat.api import findings, sparql_files
from khadamat.api.app_paths import PACKAGE_DIR
from khadamat.api.context import JSONLD, compact_answer
from khadamat.api.deps import select, settings_of
from khadamat.api.lookup import describe, describe_graph, exists
from khadamat.api.negotiation import GRAPH_ALIASES, GRAPH_TYPES, choose
from khadamat.api.results import serialize_triples
from khadamat.api.schema_org import government_service, script_json
from khadamat.api.trace import trace
from khadamat.api.views import curie, local_name, properties

from khadamat.namespaces import KH

templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
templates.env.filters["fa_digits"] = lambda text: str(text).translate(
    str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
)
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


async def predicate_labels(request: Request, node: ox.NamedNode) -> dict[str, str]:
    rows = await select(request, sparql_files.text("predicate-labels"), {"_node": node})
    return {r["p"].value: r["label"].value for r in rows}


def page_title(props: dict[str, list[Any]]) -> str | None:
    for key in ("dct:title", "skos:prefLabel", "rdfs:label"):
        for item in props.get(key, []):
            if isinstance(item, dict) and item.get("lang") in ("fa", None) and item.get("value"):
                return item["value"]
    return None


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
        context = await page_context(request, node, base, base_path)
        return templates.TemplateResponse(request, "entity.html", context, headers={"Vary": "Accept"})

    return router


async def page_context(request: Request, node: ox.NamedNode, base: str, base_path: str) -> dict[str, Any]:
    """Everything entity.html shows about one node."""
    props = properties(await describe(request, node))
    labels = await predicate_labels(request, node)
    types = [t["iri"] for t in props.get("rdf:type", []) if isinstance(t, dict)]
    rows = []
    for key, values in props.items():
        full = next((p for p in labels if curie(p) == key), None)
        rows.append({"key": key, "label": labels.get(full, key) if full else key, "values": values})
    is_item = any(t in (KH + "Service", KH + "Task") for t in types)
    steps = await trace(request, node) if is_item else []
    markup = government_service(node.value, props, steps) if KH + "Service" in types else None
    return {
        "iri": node.value,
        "title": page_title(props) or local_name(node.value),
        "types": [{"iri": t, "label": local_name(t)} for t in types],
        "rows": rows,
        "trace": steps,
        "findings": await findings.for_node(request, node),
        "link": lambda iri: link(iri, base, base_path),
        "is_item": is_item,
        "schema_org": None if markup is None else script_json(markup),
    }
