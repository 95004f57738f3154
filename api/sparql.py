"""The SPARQL 1.1 Protocol endpoint `/sparql` (query operation only: the endpoint is read-only).

Query by GET, by POST form (application/x-www-form-urlencoded) and by POST direct
(application/sparql-query), with `default-graph-uri` / `named-graph-uri` passed to the store as
the RDF dataset. Answers are negotiated (results: JSON, XML, CSV, TSV; graphs: Turtle,
N-Triples, JSON-LD, RDF/XML, TriG), capped at the configured number of rows or triples (the
header `X-Khadamat-Truncated` says when, `X-Khadamat-Result-Limit` always states the cap) and
limited in time (503 with a message), and shared and cached per worker (api/answer_cache.py).
Updates are refused with 403: nothing is written here; so are federated queries (SERVICE), which
would make the server send requests anywhere (api/guard.py).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from khadamat.api.answer_cache import AnswerCache
from khadamat.api.deps import config_of, store_of
from khadamat.api.execution import QueryTimeout, materialize
from khadamat.api.guard import uses_service
from khadamat.api.negotiation import (
    GRAPH_ALIASES,
    GRAPH_TYPES,
    RESULT_ALIASES,
    RESULT_TYPES,
    choose,
    wants_html,
)
from khadamat.api.results import serialize_results, serialize_triples
from pyoxigraph import NamedNode

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


class ProtocolError(Exception):
    """A request the SPARQL protocol does not allow; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status)


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise ProtocolError(400, f"the request holds {len(values)} '{name}' parameters; send exactly one")
    return values[0] if values else None


def _graphs(params: dict[str, list[str]], name: str) -> list[NamedNode] | None:
    values = params.get(name)
    if not values:
        return None
    try:
        return [NamedNode(v) for v in values]
    except ValueError as exc:
        raise ProtocolError(400, f"'{name}' must be an absolute IRI: {exc}") from exc


def _media_and_charset(content_type: str) -> tuple[str, str | None]:
    pieces = [p.strip() for p in content_type.split(";")]
    charset = None
    for param in pieces[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return pieces[0].lower(), charset


def _decode(body: bytes, charset: str | None) -> str:
    if charset not in (None, "utf-8", "utf8"):
        raise ProtocolError(
            415, f"the body must be UTF-8 (the SPARQL protocol allows no other); got charset={charset}"
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the body is not valid UTF-8: {exc}") from exc


async def _protocol_params(request: Request) -> tuple[str, dict[str, list[str]]]:
    """(query text, all protocol parameters) from a GET or POST request, or ProtocolError."""
    params = parse_qs(request.url.query, keep_blank_values=True)
    if request.method == "GET":
        if "update" in params:
            raise ProtocolError(400, "SPARQL Update is not allowed by GET (and this endpoint is read-only)")
        query = _one(params, "query")
        if query is None:
            raise ProtocolError(400, "missing the 'query' parameter")
        return query, params
    media, charset = _media_and_charset(request.headers.get("content-type", ""))
    body = await request.body()
    if media == FORM:
        form = parse_qs(_decode(body, charset), keep_blank_values=True)
        if "update" in form:
            _one(form, "update")
            raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is not accepted")
        for key, values in form.items():
            params.setdefault(key, []).extend(values)
        query = _one(params, "query")
        if query is None:
            raise ProtocolError(400, "missing the 'query' field in the form body")
        return query, params
    if media == DIRECT:
        if "query" in params:
            raise ProtocolError(
                400, "a direct POST carries the query in its body, not in a 'query' parameter"
            )
        return _decode(body, charset), params
    if media == UPDATE:
        raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is not accepted")
    raise ProtocolError(
        415,
        f"unsupported content type '{media or '(none)'}': POST the query as {FORM} (field 'query') "
        f"or as {DIRECT}",
    )


def _iris(graphs: list[NamedNode] | None) -> tuple[str, ...] | None:
    return None if graphs is None else tuple(g.value for g in graphs)


def answers_of(request: Request) -> AnswerCache:
    """The worker's answer cache (sound because the server's store is read-only)."""
    state = request.app.state
    if getattr(state, "answer_cache", None) is None:
        state.answer_cache = AnswerCache()
    return state.answer_cache


def _negotiate(accept: str | None) -> tuple[str | None, str | None]:
    return (
        choose(accept, list(RESULT_TYPES), RESULT_ALIASES),
        choose(accept, list(GRAPH_TYPES), GRAPH_ALIASES),
    )


_DATASET_PARAMS = [
    {
        "name": "default-graph-uri",
        "in": "query",
        "required": False,
        "description": "a graph of the default graph",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
    {
        "name": "named-graph-uri",
        "in": "query",
        "required": False,
        "description": "a named graph of the dataset",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
]
_GET_DOC = {
    "parameters": [
        {
            "name": "query",
            "in": "query",
            "required": True,
            "description": "the SPARQL 1.1 query",
            "schema": {"type": "string"},
        },
        *_DATASET_PARAMS,
    ]
}
_POST_DOC = {
    "parameters": _DATASET_PARAMS,
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                }
            },
            DIRECT: {"schema": {"type": "string"}},
        },
    },
}


@router.get(
    "/sparql",
    summary="SPARQL 1.1 query by GET (read-only)",
    operation_id="sparql_get",
    openapi_extra=_GET_DOC,
)
@router.post(
    "/sparql",
    summary="SPARQL 1.1 query by POST: form or application/sparql-query (read-only)",
    operation_id="sparql_post",
    openapi_extra=_POST_DOC,
)
@router.api_route("/sparql/", methods=["GET", "POST"], include_in_schema=False)
async def sparql(request: Request) -> Response:
    """Run a SPARQL query (SPARQL 1.1 Protocol). Without a query, a browser is sent to the query UI."""
    if request.method == "GET" and not request.url.query and wants_html(request.headers.get("accept")):
        return RedirectResponse("/query", status_code=303)
    try:
        query, params = await _protocol_params(request)
        default_graph = _graphs(params, "default-graph-uri")
        named_graphs = _graphs(params, "named-graph-uri")
        if uses_service(query):
            raise ProtocolError(
                403, "federated queries (SERVICE) are disabled: the server makes no outgoing requests"
            )
    except ProtocolError as exc:
        return _error(exc.status, str(exc))
    result_media, graph_media = _negotiate(request.headers.get("accept"))
    config = config_of(request)
    store = store_of(request)
    endpoint_iri = str(request.url.replace(query=""))  # the service-defined BASE of relative IRIs

    def job() -> tuple[bytes, str, bool]:
        deadline = time.monotonic() + config.query_timeout
        raw = store.raw_query(
            query, default_graph=default_graph, named_graphs=named_graphs, base_iri=endpoint_iri
        )
        answer = materialize(raw, config.result_limit, deadline, config.query_timeout)
        media = graph_media if answer.kind == "graph" else result_media
        if media is None:
            offered = GRAPH_TYPES if answer.kind == "graph" else RESULT_TYPES
            raise ProtocolError(
                406,
                "none of the accepted media types can carry this answer; use one of " + ", ".join(offered),
            )
        if answer.kind == "graph":
            return serialize_triples(answer.triples, media), media, answer.truncated
        return serialize_results(answer, media), media, answer.truncated

    key = (query, _iris(default_graph), _iris(named_graphs), result_media, graph_media, endpoint_iri)
    try:
        (body, media, truncated), how = await answers_of(request).get(key, job, config.query_timeout)
    except SyntaxError as exc:
        return _error(400, f"the query is not valid SPARQL 1.1: {exc}")
    except ProtocolError as exc:
        return _error(exc.status, str(exc))
    except QueryTimeout as exc:
        return _error(503, str(exc))
    except (OSError, RuntimeError, ValueError) as exc:
        return _error(500, f"the query failed while it ran: {exc}")
    headers = {"Vary": "Accept", "X-Khadamat-Result-Limit": str(config.result_limit), "X-Khadamat-Cache": how}
    if truncated:
        headers["X-Khadamat-Truncated"] = (
            f"true; the answer holds the first {config.result_limit} results only"
        )
    charset = "; charset=utf-8" if media.startswith("text/") or "json" in media else ""
    return Response(body, media_type=media + charset, headers=headers)
