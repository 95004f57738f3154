"""The SPARQL 1.1 Protocol endpoint `/sparql` (query operation only: the endpoint is read-only).

Query by GET, by POST form (application/x-www-form-urlencoded) and by POST direct
(application/sparql-query), with `default-graph-uri` / `named-graph-uri` passed to the store as
the RDF dataset. Answers are negotiated (results: JSON, XML, CSV, TSV; graphs: Turtle,
N-Triples, JSON-LD, RDF/XML, TriG), capped at the configured number of rows or triples (the
header `X-Khadamat-Truncated` says when, `X-Khadamat-Result-Limit` always states the cap) and
limited in time (503 with a message), and shared and cached per worker (api/answer_cache.py).
Updates are refused with 403: nothing is written here; so are federated queries (SERVICE), which
would make the server send requests anywhere.

A client's query never runs in the serving process: it is measured first (api/guard.py: size,
nesting, tokens, SERVICE, in linear time) and then answered by a query worker process
(api/query_workers.py) that has no network, a memory budget and is killed at the time limit.
Every answer other than 200 carries a fixed message (api/query_job.py): no internal error text.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from khadamat.api.answer_cache import AnswerCache, GenerationCaches
from khadamat.api.config import ApiConfig
from khadamat.api.deps import config_of, generation_of
from khadamat.api.guard import check_query_async
from khadamat.api.negotiation import (
    GRAPH_ALIASES,
    GRAPH_TYPES,
    RESULT_ALIASES,
    RESULT_TYPES,
    choose,
    wants_html,
)
from khadamat.api.query_job import EndpointError, QueryAnswer, QueryJob
from khadamat.api.query_workers import QueryWorkerPool
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


def body_limit(config: ApiConfig) -> int:
    """The largest /sparql request body: the longest query, percent-encoded, plus parameters."""
    return 3 * config.sparql.max_query_bytes + 8192


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The request body, read as it streams and refused (413) as soon as it passes `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"the request body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(413, f"the request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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
    body = await _bounded_body(request, body_limit(config_of(request)))
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
    """The worker's answer cache for the store generation this request reads (a write starts a
    new one: api/answer_cache.py GenerationCaches)."""
    state = request.app.state
    if getattr(state, "answer_caches", None) is None:
        size = config_of(request).sparql.cache_bytes
        state.answer_caches = GenerationCaches(lambda: AnswerCache(max_bytes=size))
    return state.answer_caches.of(generation_of(request))


def pool_of(request: Request) -> QueryWorkerPool:
    """The query worker processes, started with the app (api/app.py)."""
    return request.app.state.query_pool


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
    config = config_of(request)
    try:
        query, params = await _protocol_params(request)
        default_graph = _graphs(params, "default-graph-uri")
        named_graphs = _graphs(params, "named-graph-uri")
        await check_query_async(query, config.sparql)
    except ProtocolError as exc:
        return _error(exc.status, str(exc))
    except EndpointError as exc:
        return _error(exc.status, exc.message)
    result_media, graph_media = _negotiate(request.headers.get("accept"))
    job = QueryJob(
        query=query,
        default_graph=_iris(default_graph),
        named_graphs=_iris(named_graphs),
        base_iri=str(request.url.replace(query="")),  # the service-defined BASE of relative IRIs
        result_media=result_media,
        graph_media=graph_media,
        result_limit=config.result_limit,
        max_answer_bytes=config.sparql.max_answer_bytes,
        timeout=config.query_timeout,
    )
    pool = pool_of(request)
    key = (query, job.default_graph, job.named_graphs, result_media, graph_media, job.base_iri)
    try:
        answer, how = await answers_of(request).share(key, lambda: pool.run(job))
    except EndpointError as exc:
        return _error(exc.status, exc.message)
    assert isinstance(answer, QueryAnswer)
    headers = {"Vary": "Accept", "X-Khadamat-Result-Limit": str(config.result_limit), "X-Khadamat-Cache": how}
    if answer.truncated:
        headers["X-Khadamat-Truncated"] = (
            f"true; the answer holds the first {config.result_limit} results only"
        )
    media = answer.media
    charset = "; charset=utf-8" if media.startswith("text/") or "json" in media else ""
    return Response(answer.body, media_type=media + charset, headers=headers)
