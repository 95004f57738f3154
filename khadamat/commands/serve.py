"""`khadamat serve`: the SPARQL endpoint, the validation service, the browse API and the pages.

uvicorn runs the app factory `khadamat.api.app:create_app_from_env` in each worker, so the
options are handed over as environment variables (KHADAMAT_STORE, KHADAMAT_BASE and the
KHADAMAT_QUERY_TIMEOUT / _RESULT_LIMIT / _CORS_ORIGINS / _SERVER_READ_WRITE of api/config.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import TYPE_CHECKING

from khadamat.cli import settings_from
from khadamat.config import Settings
from khadamat.store import StoreError, open_store

if TYPE_CHECKING:
    from khadamat.api.config import EndpointLimits


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    from khadamat.api.config import DEFAULT_RESULT_LIMIT, DEFAULT_TIMEOUT, DEFAULT_VALIDATE_TIMEOUT

    p = subparsers.add_parser(
        "serve",
        parents=[parent],
        help="serve the SPARQL endpoint, the browse API, validation and entity pages over HTTP",
        description=(
            "Start the Khadamat web application (uvicorn). The store opens read-only in every "
            "worker: stop the server (or restart it) around `khadamat load`."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--query-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of one query (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "--result-limit",
        type=int,
        default=DEFAULT_RESULT_LIMIT,
        metavar="N",
        help=f"rows or triples at most in one SPARQL answer (default {DEFAULT_RESULT_LIMIT})",
    )
    p.add_argument(
        "--validate-timeout",
        type=float,
        default=DEFAULT_VALIDATE_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of one validation (/validate, pages; default {DEFAULT_VALIDATE_TIMEOUT:g})",
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow cross-origin requests from ORIGIN (repeatable; '*' for any)",
    )
    p.add_argument(
        "--read-write",
        action="store_true",
        help="open the store read-write (creates it if missing; one worker only). The app never writes.",
    )
    _add_sparql_limits(p)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(run=run)


# Flags of the /sparql limits (api/config.py EndpointLimits); each default is the field's.
_SPARQL_FLAGS = {
    "max_query_bytes": ("--sparql-max-query-bytes", "BYTES", "longest query text"),
    "max_depth": ("--sparql-max-depth", "N", "deepest nesting of ( { [ in a query"),
    "max_tokens": ("--sparql-max-tokens", "N", "most tokens in a query"),
    "max_triple_patterns": ("--sparql-max-triple-patterns", "N", "most triple-pattern separators (. ; ,)"),
    "max_answer_bytes": ("--sparql-max-answer-bytes", "BYTES", "largest serialized answer"),
    "workers": ("--sparql-workers", "N", "query worker processes per server worker"),
    "worker_memory_bytes": ("--sparql-worker-memory", "BYTES", "memory of one query worker"),
    "cache_bytes": ("--sparql-cache-bytes", "BYTES", "all answers the answer cache keeps"),
}


def _add_sparql_limits(p: argparse.ArgumentParser) -> None:
    from khadamat.api.config import EndpointLimits

    defaults = EndpointLimits.from_env()  # KHADAMAT_SPARQL_* set the defaults of the flags
    for name, (flag, metavar, text) in _SPARQL_FLAGS.items():
        default = getattr(defaults, name)
        p.add_argument(
            flag,
            dest=f"sparql_{name}",
            type=int,
            default=default,
            metavar=metavar,
            help=f"/sparql: {text} (default {default})",
        )


def _sparql_limits(args: argparse.Namespace) -> EndpointLimits:
    from khadamat.api.config import EndpointLimits

    return EndpointLimits(**{name: getattr(args, f"sparql_{name}") for name in _SPARQL_FLAGS})


def _prepare_store(settings: Settings, read_write: bool) -> str | None:
    """Make sure the reference graphs are in the store before workers open it read-only.

    Returns an error message, or None. A store locked by a running load is served as it is.
    """
    if not read_write and not settings.store_dir.is_dir():
        return (
            f"no store at {settings.store_dir}: load a catalog first "
            f"(khadamat load --store {settings.store_dir} FILES) or pass --read-write"
        )
    if read_write:
        return None
    try:
        store = open_store(settings)
    except (StoreError, OSError) as exc:
        print(f"note: store not upgraded before serving ({exc}); serving it as it is", file=sys.stderr)
        return None
    store.close()
    del store
    gc.collect()
    return None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from khadamat.api.config import ApiConfig, UploadLimits

    settings = settings_from(args)
    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    if args.read_write and args.workers > 1:
        print("--read-write allows one worker only (RocksDB locks the store to one process)", file=sys.stderr)
        return 2
    problem = _prepare_store(settings, args.read_write)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    config = ApiConfig(
        query_timeout=args.query_timeout,
        result_limit=args.result_limit,
        cors_origins=tuple(args.cors_origin),
        read_write=args.read_write,
        validate_timeout=args.validate_timeout,
        uploads=UploadLimits.from_env(),  # KHADAMAT_UPLOAD_* (api/README.md, 'Uploads')
        sparql=_sparql_limits(args),  # --sparql-* / KHADAMAT_SPARQL_* (api/README.md, 'Limits')
    )
    os.environ["KHADAMAT_STORE"] = str(settings.store_dir.resolve())
    os.environ["KHADAMAT_BASE"] = settings.base
    os.environ.update(config.to_env())
    print(
        f"Khadamat on http://{args.host}:{args.port}/ (store {settings.store_dir}, base {settings.base})",
        file=sys.stderr,
    )
    uvicorn.run(
        "khadamat.api.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )
    return 0
