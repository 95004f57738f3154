"""The application factory: one FastAPI app over one store per worker process.

Every worker reads the store's active generation read-only (RocksDB lets many processes open a
database read-only, one read-write) and follows it: writes (`khadamat load`, `POST /submissions`)
never change a generation that is read, they make a new one and switch `active` to it, and each
request looks at `active` first (khadamat/live_store.py, docs/architecture.md "Live reads and
writes"). So the server sees every accepted write at once, without a restart.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from khadamat.api import (
    auth,
    browse,
    catalog_index,
    context,
    history,
    library,
    pages,
    reports,
    sparql,
    submissions,
    ui,
    validate,
)
from khadamat.api.app_paths import PACKAGE_DIR
from khadamat.api.browse_cache import BrowseCache, browse_prefixes
from khadamat.api.config import ApiConfig
from khadamat.api.deps import generation_of
from khadamat.api.execution import QueryTimeout
from khadamat.api.query_workers import QueryWorkerPool
from khadamat.api.respond import ApiError, error_response, unexpected_error

from khadamat import __version__
from khadamat.config import Settings
from khadamat.live_store import LiveStore
from khadamat.store import Store, StoreError, open_store

DESCRIPTION = """
Khadamat (خدمات) — the service architecture of Iran's executive agencies as a knowledge graph.

* **Architects**: the SPARQL 1.1 endpoint `/sparql` and the query editor `/query`.
* **Auditors**: `/validate` (upload a workbook, or check a loaded agency), `/gaps`, `/duplicates`.
* **Citizens and developers**: `/services`, `/agencies`, `/laws` — every service traced to its legal basis.
  Entity IRIs under the base dereference to pages (browsers) or Turtle / JSON-LD (linked-data clients).
"""


def open_server_store(settings: Settings, config: ApiConfig) -> LiveStore:
    """The worker's store: the active generation read-only, followed as writes switch it
    (khadamat/live_store.py). `--read-write` creates an empty store first when there is none."""
    if config.read_write:
        open_store(settings).close()
    elif settings.endpoint is None and (
        not settings.store_dir.is_dir() or not any(settings.store_dir.iterdir())
    ):
        raise StoreError(
            f"no store at {settings.store_dir}: load a catalog first (khadamat load --store "
            f"{settings.store_dir} …) or start with --read-write to create an empty one"
        )
    return LiveStore(settings)


def base_path(base: str) -> str:
    """The path part of the base IRI, where entity pages are served (`/id/` for `http://h/id/`)."""
    path = urlsplit(base).path or "/"
    return path if path.endswith("/") else path + "/"


def create_app(
    settings: Settings | None = None, config: ApiConfig | None = None, store: Store | None = None
) -> FastAPI:
    """Build the app. Without `store`, each worker opens the configured store at start-up."""
    settings = settings or Settings.from_env()
    config = config or ApiConfig.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        if own:  # followed per request (api/deps.py store_of); no generation held here
            app.state.live = open_server_store(settings, config)
        app.state.store = store
        catalog_index.start(app, app.state.live.current() if own else store)  # built in the background
        # Client-written SPARQL runs in these processes, never in this one (api/query_workers.py).
        limits = config.sparql
        app.state.query_pool = QueryWorkerPool(settings, limits.workers, limits.worker_memory_bytes)
        await app.state.query_pool.start()
        try:
            yield
        finally:
            await app.state.query_pool.close()
            if own:
                app.state.live.close()
                app.state.store = app.state.live = None
                gc.collect()  # drop pyoxigraph's handle now, so the store directory is free

    app = FastAPI(
        title="Khadamat",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from the package: the machines have no internet for a CDN
    )
    app.state.settings = settings
    app.state.config = config
    if store is not None:
        app.state.store = store
    # Inside CORS (added after it, so outer): cached answers get the same CORS headers.
    app.add_middleware(BrowseCache, prefixes=browse_prefixes(base_path(settings.base)), limits=config.browse)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type"],
            expose_headers=["X-Khadamat-Truncated", "X-Khadamat-Result-Limit"],
        )
    _include_routers(app)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI (swagger-ui-dist from the npm registry, Apache-2.0, in static/swagger/)."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Khadamat API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    @app.get("/health", include_in_schema=False)
    async def health(request: Request) -> dict[str, object]:
        pool = request.app.state.query_pool  # busy: slots running a query or being replaced
        workers = {"size": pool.size, "busy": pool.busy}
        # generation: the store version this worker now reads (khadamat/generations.py)
        live = {"generation": generation_of(request), "worker": os.getpid()}
        return {"status": "ok", "version": __version__, "query_workers": workers, **live}

    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    # Last: with a base like http://host/ the pages cover every path the app does not serve.
    app.include_router(pages.make_router(base_path(settings.base)))
    return app


def _include_routers(app: FastAPI) -> None:
    app.include_router(sparql.router)
    app.include_router(browse.router)
    app.include_router(validate.router)
    app.include_router(library.router)
    app.include_router(ui.router)
    app.include_router(context.router)
    app.include_router(auth.router)
    app.include_router(reports.router)
    app.include_router(history.router)
    app.include_router(submissions.router)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(QueryTimeout, _timeout)
    app.add_exception_handler(Exception, unexpected_error)  # a fixed 500, details only in the log


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _timeout(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"detail": str(exc), "detail_fa": "پرسش از زمان مجاز بیشتر طول کشید و متوقف شد"}, status_code=503
    )


def create_app_from_env() -> FastAPI:
    """uvicorn factory for `khadamat serve`: every worker builds its app from the environment."""
    return create_app(Settings.from_env(), ApiConfig.from_env())
