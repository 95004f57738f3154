"""`khadamat serve`: the SPARQL endpoint, the validation service, the browse API and the pages.

uvicorn runs the app factory `khadamat.api.app:create_app_from_env` in each worker, so the
options are handed over as environment variables (KHADAMAT_STORE, KHADAMAT_BASE and the
KHADAMAT_QUERY_TIMEOUT / _RESULT_LIMIT / _CORS_ORIGINS / _SERVER_READ_WRITE of api/config.py, and
the KHADAMAT_SPARQL_* / KHADAMAT_UPLOAD_* limits that the --sparql-* / --upload-* flags set).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from khadamat.accounts import ENV_TOKENS
from khadamat.cli import settings_from
from khadamat.config import Settings
from khadamat.store import StoreError, open_store

if TYPE_CHECKING:
    from khadamat.limits import EnvLimits


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    from khadamat.api.config import DEFAULT_RESULT_LIMIT, DEFAULT_TIMEOUT, DEFAULT_VALIDATE_TIMEOUT

    p = subparsers.add_parser(
        "serve",
        parents=[parent],
        help="serve the SPARQL endpoint, the browse API, validation and entity pages over HTTP",
        description=(
            "Start the Khadamat web application (uvicorn). Every worker reads the store read-only "
            "and follows its writes (`khadamat load`, POST /submissions) without a restart."
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
    p.add_argument(
        "--tokens",
        type=Path,
        default=None,
        metavar="FILE",
        help="the tokens file (khadamat token add --tokens FILE); default tokens.json in the store "
        "folder. A server with no tokens is read-only: POST /submissions answers 403",
    )
    p.add_argument(
        "--refuse-violations",
        action="store_true",
        help="refuse submissions whose validation finds Violations (default: accept and report them)",
    )
    _add_limit_flags(p)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(run=run)


# Limits with a flag each, by flag prefix: `--sparql-max-depth` sets EndpointLimits.max_depth,
# `--upload-max-files` UploadLimits.max_files. Flags, types, help and defaults all come from the
# dataclass fields (khadamat/limits.py `limit`); the default of each flag is its environment
# variable when set (KHADAMAT_SPARQL_*, KHADAMAT_UPLOAD_*), else the field's default.
def _limit_classes() -> dict[str, tuple[type[EnvLimits], str]]:
    """Flag prefix → (the limits' dataclass, the route they bound)."""
    from khadamat.api.config import BrowseLimits, EndpointLimits, SubmitLimits, UploadLimits

    return {
        "sparql": (EndpointLimits, "/sparql"),
        "upload": (UploadLimits, "/validate"),
        "submit": (SubmitLimits, "/submissions"),
        "browse": (BrowseLimits, "the browse routes' answer cache"),
    }


def _metavar(name: str, kind: type) -> str:
    if name.endswith("_bytes"):
        return "BYTES"
    return "SECONDS" if kind is float else "N"


def _shown(value: int | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _add_limit_flags(p: argparse.ArgumentParser) -> None:
    for prefix, (limits, route) in _limit_classes().items():
        defaults = limits.from_env()
        kinds = limits.field_types()
        for item in limits.limit_fields():
            flag = item.metadata.get("flag") or item.name.replace("_", "-")
            default = getattr(defaults, item.name)
            p.add_argument(
                f"--{prefix}-{flag}",
                dest=f"{prefix}_{item.name}",
                type=kinds[item.name],
                default=default,
                metavar=_metavar(item.name, kinds[item.name]),
                help=f"{route}: {item.metadata.get('help', item.name)}; default {_shown(default)}, "
                f"env {limits.env_name(item.name)}",
            )


def _limits_from(args: argparse.Namespace, prefix: str) -> EnvLimits:
    """The limits of one group as the flags (or their environment defaults) set them."""
    limits, _ = _limit_classes()[prefix]
    return limits(**{f.name: getattr(args, f"{prefix}_{f.name}") for f in limits.limit_fields()})


def _prepare_store(settings: Settings, read_write: bool) -> str | None:
    """Check that there is a store to serve; an error message, or None. Serving never writes.

    The store's reference graphs (ontology, corpus) are written by `khadamat load`; a server
    that wrote them itself would race a load and, under another base, add a second copy.
    """
    if read_write:
        return None
    if settings.endpoint is None and not settings.store_dir.is_dir():
        return (
            f"no store at {settings.store_dir}: load a catalog first "
            f"(khadamat load --store {settings.store_dir} FILES) or pass --read-write"
        )
    try:
        store = open_store(settings, read_only=True)
    except (StoreError, OSError) as exc:
        return f"cannot open the store at {settings.store_dir}: {exc}"
    try:
        if not store.ask("ASK { GRAPH ?g { ?s ?p ?o } }"):
            print(
                f"note: the store at {settings.store_dir} is empty; load a catalog into it", file=sys.stderr
            )
    finally:
        store.close()
        del store
        gc.collect()
    return None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from khadamat.api.config import ApiConfig

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
        uploads=_limits_from(args, "upload"),  # --upload-* / KHADAMAT_UPLOAD_* (api/README.md, 'Uploads')
        sparql=_limits_from(args, "sparql"),  # --sparql-* / KHADAMAT_SPARQL_* (api/README.md, 'Limits')
        submit=_limits_from(args, "submit"),  # --submit-* / KHADAMAT_SUBMIT_* (api/README.md, 'Submissions')
        browse=_limits_from(args, "browse"),  # --browse-* / KHADAMAT_BROWSE_* (api/README.md, 'Browse cache')
        refuse_violations=args.refuse_violations,
    )
    if args.tokens is not None:
        os.environ[ENV_TOKENS] = str(args.tokens.resolve())
    os.environ["KHADAMAT_STORE"] = str(settings.store_dir.resolve())
    os.environ["KHADAMAT_BASE"] = settings.base
    if settings.endpoint is not None:  # the workers read it back (the password stays in the environment)
        os.environ.update(settings.endpoint.to_env())
    os.environ.update(config.to_env())
    where = settings.endpoint.query if settings.endpoint else settings.store_dir
    print(
        f"Khadamat on http://{args.host}:{args.port}/ (store {where}, base {settings.base})",
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
