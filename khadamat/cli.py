"""The `khadamat` command: finds its sub-commands in khadamat/commands/.

Each sub-command is a module with `add_parser(subparsers)` and `run(args) -> int`, so features
arrive as files and this dispatcher never changes. Exit codes: 0 success, 1 findings (validate),
2 usage or input error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from khadamat import __version__, commands
from khadamat.config import (
    AUTH_SCHEMES,
    DEFAULT_WRITE_MODE,
    PASSWORD_ENV,
    WRITE_MODE_ENV,
    WRITE_MODES,
    BaseMismatch,
    Endpoint,
    Settings,
)


def _reconfigure_output() -> None:
    # Persian text must print on any terminal or pipe, whatever its locale says.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")


def common_options() -> argparse.ArgumentParser:
    """Options every sub-command takes."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--store",
        metavar="DIR",
        help="store directory (default: $KHADAMAT_STORE or ./khadamat-store)",
    )
    parent.add_argument(
        "--base",
        metavar="IRI",
        help="base IRI of data nodes (default: $KHADAMAT_BASE or https://w3id.org/khadamat/id/)",
    )
    remote = parent.add_argument_group(
        "remote store", "a SPARQL 1.1 server instead of the embedded store (docs/deployment.md)"
    )
    remote.add_argument(
        "--endpoint",
        metavar="URL",
        help="SPARQL 1.1 query endpoint of the server holding the graph (default: $KHADAMAT_ENDPOINT)",
    )
    remote.add_argument(
        "--update-endpoint",
        metavar="URL",
        help="SPARQL 1.1 update endpoint, when the server splits it (default: $KHADAMAT_UPDATE_ENDPOINT)",
    )
    remote.add_argument(
        "--graph-store",
        metavar="URL",
        help="Graph Store Protocol endpoint, to read whole graphs (default: $KHADAMAT_GRAPH_STORE)",
    )
    remote.add_argument(
        "--user",
        metavar="NAME",
        help=f"user for the server (default: $KHADAMAT_ENDPOINT_USER; password: ${PASSWORD_ENV})",
    )
    remote.add_argument(
        "--auth",
        choices=AUTH_SCHEMES,
        help="HTTP authentication scheme (default: $KHADAMAT_ENDPOINT_AUTH or basic)",
    )
    remote.add_argument(
        "--write-mode",
        choices=WRITE_MODES,
        help=(
            "how a large write reaches the server: staged (staging graphs, then requests that move "
            "them in, 150 graphs each: any engine) or single (one update request: engines that run it "
            "as one transaction); "
            f"default: ${WRITE_MODE_ENV} or {DEFAULT_WRITE_MODE} (docs/deployment.md)"
        ),
    )
    return parent


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings of a command line: its options over the environment (one helper for every command)."""
    endpoint = Endpoint.from_env(
        query=getattr(args, "endpoint", None),
        update=getattr(args, "update_endpoint", None),
        graph_store=getattr(args, "graph_store", None),
        user=getattr(args, "user", None),
        auth=getattr(args, "auth", None),
        write_mode=getattr(args, "write_mode", None),
    )
    return Settings.from_env(
        store_dir=getattr(args, "store", None), base=getattr(args, "base", None), endpoint=endpoint
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="khadamat",
        description=(
            "Khadamat (خدمات): the service architecture of Iran's executive agencies as a knowledge "
            "graph — load service cards, validate them against the law, find gaps and duplicates."
        ),
    )
    parser.add_argument("--version", action="version", version=f"khadamat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parent = common_options()
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"khadamat.commands.{info.name}")
        module.add_parser(sub, parent)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _reconfigure_output()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except BaseMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `khadamat … | head` closed the pipe: not an error of ours; keep Python from complaining.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0


if __name__ == "__main__":
    sys.exit(main())
