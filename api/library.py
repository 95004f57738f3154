"""The query library as endpoints: `/queries`, `/queries/{name}`, `/gaps`, `/duplicates`.

Every queries/*.rq (khadamat.querylib) is an endpoint whose parameters come from its grlc
header; values are bound by querylib.run_query, never spliced. `/gaps` runs every `gap-*`
query and `/duplicates` every `dup*` query, each answer with its rows and count.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from khadamat.api.deps import in_thread, store_of
from khadamat.api.negotiation import choose
from khadamat.api.respond import ApiError

from khadamat.output import plain, render

router = APIRouter(tags=["Query library"])


def _querylib() -> Any:
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
    specs = _public(_querylib().library())
    return JSONResponse({"queries": [_describe(s) for s in specs.values()]})


async def _run(request: Request, spec: Any, params: dict[str, str]) -> dict[str, Any]:
    querylib = _querylib()
    store = store_of(request)
    try:
        rows = await in_thread(request, lambda: querylib.run_query(store, spec, params))
    except (querylib.QueryError, ValueError) as exc:  # ValueError: a value that is no IRI / literal
        raise ApiError(422, str(exc), "پارامترهای پرس‌وجو درست نیستند") from exc
    columns = querylib.columns(spec) or list(dict.fromkeys(k for r in rows for k in r))
    return {
        "name": spec.name,
        "summary": spec.summary,
        "columns": columns,
        "count": len(rows),
        "rows": [{c: plain(r.get(c)) for c in columns} for r in rows],
    }


@router.get("/queries/{name}", summary="Run one library query; parameters as ?name=value")
async def run_named(request: Request, name: str) -> Response:
    specs = _public(_querylib().library())
    spec = specs.get(name)
    if spec is None:
        raise ApiError(
            404,
            f"no query named '{name}' in the library",
            f"پرس‌وجویی با نام «{name}» نیست",
            available=sorted(specs),
        )
    answer = await _run(request, spec, dict(request.query_params))
    media = choose(request.headers.get("accept"), ["application/json", "text/csv"]) or "application/json"
    if media == "text/csv":
        return PlainTextResponse(render(answer["rows"], "csv", answer["columns"]), media_type="text/csv")
    return JSONResponse(answer)


async def _family(request: Request, prefix: str) -> JSONResponse:
    specs = _public(_querylib().library())
    chosen = [
        s for name, s in specs.items() if name.startswith(prefix) and not any(p.required for p in s.params)
    ]
    results = [await _run(request, spec, {}) for spec in chosen]
    return JSONResponse({"queries": results, "total": sum(r["count"] for r in results)})


@router.get("/gaps", summary="Run every gap query (gap-*.rq) of the library")
async def gaps(request: Request) -> JSONResponse:
    return await _family(request, "gap-")


@router.get("/duplicates", summary="Run every duplicate query (dup*.rq) of the library")
async def duplicates(request: Request) -> JSONResponse:
    return await _family(request, "dup")
