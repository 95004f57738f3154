"""`khadamat token add|list|revoke`: the API tokens of a server (khadamat/accounts.py).

`add` prints what it made on stderr and the token alone on stdout, on the last line, once:
`TOKEN=$(khadamat token add --role editor --agency maj-ppo --name "…")` keeps it and nothing else.
The token is shown nowhere else and kept nowhere (the tokens file holds its HMAC). Tokens live in
the store folder (`tokens.json`) unless `--tokens FILE` (or KHADAMAT_TOKENS) names another file,
the same one `khadamat serve --tokens` reads. An editor token names an agency of the store that is
not a provincial or county unit (a unit's data is its agency's editor's). Exit 0 done, 2 refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from khadamat.accounts import Role, TokenFileError, TokenStore, tokens_file_from_env
from khadamat.config import Settings
from khadamat.loader.resolve import StoreSnapshot, read_agencies
from khadamat.normalize import normalize_key
from khadamat.output import render
from khadamat.store import StoreError, open_store

LIST_COLUMNS = ("id", "name", "role", "agency", "created", "revoked")


def add_parser(subparsers: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "token",
        help="API tokens: add, list, revoke — توکن‌های دسترسی",
        description=(
            "Manage the API tokens of a server: an editor token lets an agency's data officer submit "
            "that agency's data (and its provincial and county units'); auditor and admin tokens read "
            "and manage everything. مدیریت توکن‌های دسترسی به کارگزار."
        ),
    )
    files = argparse.ArgumentParser(add_help=False)
    files.add_argument(
        "--tokens",
        type=Path,
        metavar="FILE",
        help="the tokens file (default: $KHADAMAT_TOKENS, else tokens.json in the store folder)",
    )
    sub = parser.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    add = sub.add_parser(
        "add",
        parents=[parent, files],
        help="make a token; printed once, alone on the last line",
        description="Make a token. It is printed once, alone on the last line (stdout); keep it secret.",
    )
    add.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.PUBLIC])
    add.add_argument("--agency", metavar="CODE", help="the agency of an editor (required for editors only)")
    add.add_argument("--name", required=True, help='who holds it, e.g. "Ministry of Roads data officer"')
    add.set_defaults(run=run_add)
    listing = sub.add_parser("list", parents=[parent, files], help="the tokens, without their secrets")
    listing.add_argument("--format", choices=("table", "json", "csv"), default="table")
    listing.set_defaults(run=run_list)
    revoke = sub.add_parser("revoke", parents=[parent, files], help="revoke a token by its id, at once")
    revoke.add_argument("id", metavar="ID", help="the token's id (see `khadamat token list`)")
    revoke.set_defaults(run=run_revoke)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _tokens(args: argparse.Namespace, settings: Settings) -> TokenStore:
    return TokenStore.for_store(settings.store_dir, args.tokens or tokens_file_from_env())


def _read_agencies(settings: Settings) -> tuple[StoreSnapshot | None, str | None]:
    """The store's agencies (the tokens file lives in the store folder by default), or why not."""
    if not settings.store_dir.is_dir():
        return None, f"no store at {settings.store_dir}: run `khadamat load` first, or give --tokens FILE"
    try:
        store = open_store(settings, read_only=True)
    except (StoreError, OSError) as exc:
        return None, f"cannot open the store at {settings.store_dir}: {exc}"
    try:
        return read_agencies(store), None
    finally:
        store.close()


def _editor_agency(settings: Settings, code: str) -> tuple[str | None, str | None]:
    """(the agency's code as stored, None) or (None, why it cannot have an editor)."""
    snapshot, problem = _read_agencies(settings)
    if snapshot is None:
        return None, problem
    agency = snapshot.agencies.get(normalize_key(code))
    if agency is None:
        return None, (
            f"no agency {code} in the store at {settings.store_dir}; an editor token names an agency "
            "already loaded (khadamat load its agencies sheet first)"
        )
    owner = snapshot.unit_owner(agency.code)
    if owner is not None:
        return None, (
            f"{agency.code} is a provincial or county unit of {owner}; its data is submitted with an "
            f"editor token of {owner}, which covers {owner}'s units"
        )
    return agency.code, None


def run_add(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

    settings = settings_from(args)
    role = Role(args.role)
    agency = args.agency
    if role is Role.EDITOR:
        if not agency:
            return _fail("an editor token needs --agency CODE, the agency whose data it may change")
        agency, problem = _editor_agency(settings, agency)
        if problem:
            return _fail(problem)
    elif agency:
        return _fail(f"an {role.value} token takes no --agency: it is not limited to one agency")
    elif not (args.tokens or tokens_file_from_env()):
        _, problem = _read_agencies(settings)  # never a tokens file in a folder that holds no store
        if problem:
            return _fail(problem)
    try:
        token_id, token = _tokens(args, settings).add(role, args.name, agency)
    except (ValueError, TokenFileError) as exc:
        return _fail(str(exc))
    who = f"editor of {agency}" if agency else role.value
    print(f'token {token_id} added: {who}, "{" ".join(args.name.split())}"', file=sys.stderr)
    print("shown once, kept nowhere: send it as `Authorization: Bearer TOKEN`", file=sys.stderr)
    print(token, flush=True)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

    try:
        rows = _tokens(args, settings_from(args)).list()
    except TokenFileError as exc:
        return _fail(str(exc))
    print(render(rows, args.format, LIST_COLUMNS))
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from khadamat.cli import settings_from

    tokens = _tokens(args, settings_from(args))
    try:
        if tokens.revoke(args.id):
            print(f"token {args.id} revoked; a running server refuses it from its next request")
            return 0
        known = {row["id"]: row for row in tokens.list()}
    except TokenFileError as exc:
        return _fail(str(exc))
    if args.id in known:
        print(f"token {args.id} was already revoked on {known[args.id]['revoked']}")
        return 0
    return _fail(f"no token {args.id} in {tokens.path} (see `khadamat token list`)")
