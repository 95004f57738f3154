"""The query library as endpoints: `/queries`, `/queries/{name}`, `/gaps`, `/duplicates`.

Every queries/*.rq (khadamat.querylib) is an endpoint whose parameters come from its grlc
header; values are bound by querylib.run_query, never spliced. `/gaps` runs every `gap-*`
query and `/duplicates` every `dup*` query, each answer with its rows and count. Answers are
shared and cached like those of /sparql (api/answer_cache.py), per store generation.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from khadamat.api.deps import config_of, store_of
from khadamat.api.negotiation import choose
from khadamat.api.respond import ApiError
from khadamat.api.sparql import answers_of

from khadamat.output import plain, render

router = APIRouter(tags=["Query library"])


def query_library() -> Any:
    """khadamat.querylib, or a 501 when this build was made without it (the routes stay)."""
    try:
        from khadamat import querylib
    except ImportError as exc:
        raise ApiError(
            501,
            "the query library is not available in this build",
            "کتابخانهٔ پرس‌وجو در این نسخه در دسترس نیست",
        ) from exc
    return querylib


def _describe(spec: Any) -> dict[str, Any]:
    return {
        "name": spec.name,
        "summary": spec.summary,
        "description": spec.description,
        "tags": spec.tags,
        "url": f"/queries/{spec.name}",
        "parameters": [
            {
                "name": p.name,
                "required": p.required,
                "kind": p.kind,
                "datatype": p.datatype,
                "lang": p.lang,
                "default": p.default,
                "enum": list(p.enum),
            }
            for p in spec.params
        ],
    }


def _public(specs: dict[str, Any]) -> dict[str, Any]:
    return {name: spec for name, spec in sorted(specs.items()) if not name.startswith("_")}


@router.get("/queries", summary="The query library: every .rq with its parameters")
async def list_queries() -> JSONResponse:
    specs = _public(query_library().library())
    return JSONResponse({"queries": [_describe(s) for s in specs.values()]})


def _answer(querylib: Any, store: Any, spec: Any, params: dict[str, str]) -> bytes:
    """Run one library query (blocking) and write its answer as JSON bytes (what the cache keeps)."""
    rows = querylib.run_query(store, spec, params)
    columns = querylib.columns(spec) or list(dict.fromkeys(k for r in rows for k in r))
    answer = {
        "name": spec.name,
        "summary": spec.summary,
        "columns": columns,
        "count": len(rows),
        "rows": [{c: plain(r.get(c)) for c in columns} for r in rows],
    }
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


async def run_library_query(request: Request, spec: Any, params: dict[str, str]) -> bytes:
    """The answer of one library query, shared and cached like /sparql answers (per store generation)."""
    querylib = query_library()
    store = store_of(request)
    key = ("library", spec.name, tuple(sorted(params.items())))
    try:
        body, _ = await answers_of(request).get(
            key, lambda: _answer(querylib, store, spec, params), config_of(request).query_timeout
        )
    except querylib.QueryError as exc:  # our own message: names the parameter and what it expects
        raise ApiError(422, str(exc), "پارامترهای پرس‌وجو درست نیستند") from exc
    except ValueError as exc:  # pyoxigraph refused a value; its text is the engine's, not for clients
        raise ApiError(
            422,
            f"a parameter of query {spec.name} is not a valid IRI or literal: "
            + ", ".join(f"{k}={v!r}" for k, v in sorted(params.items())),
            "پارامترهای پرس‌وجو درست نیستند",
        ) from exc
    return body


@router.get("/queries/{name}", summary="Run one library query; parameters as ?name=value")
async def run_named(request: Request, name: str) -> Response:
    specs = _public(query_library().library())
    spec = specs.get(name)
    if spec is None:
        raise ApiError(
            404,
            f"no query named '{name}' in the library",
            f"پرس‌وجویی با نام «{name}» نیست",
            available=sorted(specs),
        )
    body = await run_library_query(request, spec, dict(request.query_params))
    media = choose(request.headers.get("accept"), ["application/json", "text/csv"]) or "application/json"
    if media == "text/csv":
        answer = json.loads(body)
        return PlainTextResponse(render(answer["rows"], "csv", answer["columns"]), media_type="text/csv")
    return Response(body, media_type="application/json")


async def _family(request: Request, prefix: str) -> JSONResponse:
    """Every query of a family at once (each shared and cached), with the total of their rows."""
    specs = _public(query_library().library())
    chosen = [
        s for name, s in specs.items() if name.startswith(prefix) and not any(p.required for p in s.params)
    ]
    bodies = await asyncio.gather(*(run_library_query(request, spec, {}) for spec in chosen))
    results = [json.loads(b) for b in bodies]
    return JSONResponse({"queries": results, "total": sum(r["count"] for r in results)})


@router.get("/gaps", summary="Run every gap query (gap-*.rq) of the library")
async def gaps(request: Request) -> JSONResponse:
    return await _family(request, "gap-")


@router.get("/duplicates", summary="Run every duplicate query (dup*.rq) of the library")
async def duplicates(request: Request) -> JSONResponse:
    return await _family(request, "dup")
