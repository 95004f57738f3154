"""Accounts: who acts (roles, principals), how a server knows it (API tokens), and what each may write.

Circular 29168 (art. 4, 8, 10) has each executive agency register and keep its own service cards,
reviewed by the supervising organization; the roadmap (art. 14 note 3) asks for "defined access
levels". So the server knows four roles:

- **public** — no token: browse, read-only SPARQL, validation of an uploaded file;
- **editor** of one agency — submits, replaces and withdraws the data of that agency and of its
  provincial and county units, nothing else (not its affiliates: they are agencies of their own);
- **auditor** — reads everything, the full history and who did what included;
- **admin** — manages accounts, may load the whole catalog and laws.

Tokens. `khadamat token add` makes a token `kh_<id>_<secret>`: the id is public (it names the token
in lists, logs and the history), the secret is 256 random bits shown once. The tokens file
(`tokens.json` in the store folder, or any file given with `--tokens` / KHADAMAT_TOKENS) keeps per
token its id, name, role, agency, dates and HMAC-SHA256(key, secret), the key being 32 random bytes
in a file beside it (`tokens.json.key`), both 0600 and written atomically (temporary file, fsync,
rename), under a lock so that two `token add` never lose one another's token.

Why HMAC under a kept key rather than scrypt: a slow password hash protects *guessable* secrets
against someone who stole the file. These secrets are 256 random bits, beyond any search however
fast the hash, so scrypt would only add its cost (tens of milliseconds and megabytes) to every
request with a token — an amplifier for anyone who sends bad tokens to a two-core server. The HMAC
costs microseconds; the key kept beside the file means a copy of the tokens file alone (a backup, a
`cat` in a log) does not even let one check a candidate token. Comparison is constant-time
(`hmac.compare_digest`).

Revocation is immediate: `verify` looks at the file's inode, mtime and size on every call (one
`stat`) and re-reads it when they change, so a running server refuses a revoked token on its next
request, in every worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from khadamat.normalize import normalize_key

if TYPE_CHECKING:
    from khadamat.loader.errors import InputError

TOKENS_FILE = "tokens.json"  # in the store folder unless a file is given
ENV_TOKENS = "KHADAMAT_TOKENS"  # the tokens file, for `khadamat serve --tokens` and its workers
TOKEN_PREFIX = "kh"
SECRET_BYTES = 32  # 256 bits
KEY_BYTES = 32
_HASH_SCHEME = "hmac-sha256"
_TOKEN = re.compile(r"^kh_([0-9a-f]{12})_([0-9a-f]{64})$")
MAX_NAME = 200


class Role(StrEnum):
    PUBLIC = "public"
    EDITOR = "editor"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who acts: a token's holder, the public, or the operator on the machine. Never a secret."""

    name: str  # token name ("Ministry of Roads data officer"), "public", or "local:<os user>"
    role: Role
    agency: str | None  # the agency code of an editor, else None
    token_id: str | None  # the public id of the token (never the secret), None for public/local


PUBLIC = Principal("public", Role.PUBLIC, None, None)


def local_operator() -> Principal:
    """The CLI run on the server machine (`khadamat load`): whoever can write the store folder
    can write anything already, so the CLI acts as an admin, named after the OS user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        user = f"uid-{os.getuid()}"
    return Principal(f"local:{user}", Role.ADMIN, None, None)


class TokenFileError(RuntimeError):
    """The tokens file cannot be read or written (its message names the file, never a secret)."""


def tokens_file_from_env() -> Path | None:
    raw = os.environ.get(ENV_TOKENS)
    return Path(raw) if raw else None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_private(path: Path, data: bytes) -> None:
    """Write `path` atomically with mode 0600: a temporary file beside it, fsync, rename, fsync dir."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class TokenStore:
    """The tokens of one server: a JSON file of hashed secrets and the HMAC key beside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.key_path = self.path.with_name(self.path.name + ".key")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._mutex = threading.Lock()  # a server's threads share one cache
        self._stamp: tuple[int, int, int] | None = None
        self._records: dict[str, dict[str, Any]] = {}
        self._key: bytes | None = None

    @classmethod
    def for_store(cls, store_dir: Path, tokens_file: Path | None = None) -> TokenStore:
        """`tokens_file` when given, else `tokens.json` in the store folder."""
        return cls(Path(tokens_file) if tokens_file else Path(store_dir) / TOKENS_FILE)

    # reading ---------------------------------------------------------------------------------
    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read_file(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_bytes())
            records = {r["id"]: r for r in data["tokens"]}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TokenFileError(f"cannot read the tokens file {self.path}: {type(exc).__name__}") from None
        return records

    def _read_key(self) -> bytes | None:
        try:
            key = self.key_path.read_bytes()
        except FileNotFoundError:
            return None
        if len(key) != KEY_BYTES:
            raise TokenFileError(f"the token key file {self.key_path} is not {KEY_BYTES} bytes long")
        return key

    def _current(self) -> tuple[dict[str, dict[str, Any]], bytes | None]:
        """The records and key, re-read when the file changed since the last look (revocation)."""
        with self._mutex:
            stamp = self._file_stamp()
            if stamp != self._stamp or stamp is None:
                self._records = self._read_file() if stamp is not None else {}
                self._key = self._read_key() if self._records else None
                self._stamp = stamp
            return self._records, self._key

    def list(self) -> list[dict[str, Any]]:
        """Every token, revoked ones included, without its hash: id, name, role, agency, dates."""
        records, _ = self._current()
        shown = ("id", "name", "role", "agency", "created", "revoked")
        return sorted(({k: r.get(k) for k in shown} for r in records.values()), key=lambda r: r["created"])

    def is_empty(self) -> bool:
        """No token that is not revoked: a server then runs read-only."""
        records, _ = self._current()
        return not any(r.get("revoked") is None for r in records.values())

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid token; None for a malformed, unknown or revoked one."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        token_id, secret = match.groups()
        records, key = self._current()
        record = records.get(token_id)
        if record is None or key is None:
            return None
        expected = str(record.get("hash", ""))
        if not hmac.compare_digest(_hash(key, secret), expected) or record.get("revoked") is not None:
            return None
        return Principal(record["name"], Role(record["role"]), record.get("agency"), token_id)

    # writing -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        """The records, read under the file's lock, written back atomically when the block ends."""
        if not self.path.parent.is_dir():
            raise TokenFileError(f"no folder {self.path.parent} for the tokens file")
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records = self._read_file()
            before = json.dumps(records, sort_keys=True)
            yield records
            if json.dumps(records, sort_keys=True) != before:
                body = {"version": 1, "hash": _HASH_SCHEME, "tokens": list(records.values())}
                _write_private(self.path, json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"))
        finally:
            os.close(fd)

    def _key_for_writing(self) -> bytes:
        key = self._read_key()
        if key is None:
            key = secrets.token_bytes(KEY_BYTES)
            _write_private(self.key_path, key)
        return key

    def add(self, role: Role, name: str, agency: str | None = None) -> tuple[str, str]:
        """Make a token; returns (its public id, the token text). The text is not kept anywhere."""
        role = Role(role)
        name = " ".join(name.split())
        if role is Role.PUBLIC:
            raise ValueError("the public needs no token; choose editor, auditor or admin")
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise ValueError(f"a name of 1 to {MAX_NAME} printable characters (who holds the token)")
        if (role is Role.EDITOR) != bool(agency):
            raise ValueError("an editor token names its agency (--agency CODE); auditor and admin take none")
        with self._locked() as records:
            key = self._key_for_writing()
            token_id = secrets.token_hex(6)
            while token_id in records:
                token_id = secrets.token_hex(6)
            secret = secrets.token_hex(SECRET_BYTES)
            records[token_id] = {
                "id": token_id,
                "name": name,
                "role": role.value,
                "agency": agency if role is Role.EDITOR else None,
                "created": _now(),
                "revoked": None,
                "hash": _hash(key, secret),
            }
        return token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}"

    def revoke(self, token_id: str) -> bool:
        """Revoke a token (kept in the file, for the history); False when no active token has that id."""
        with self._locked() as records:
            record = records.get(token_id)
            if record is None or record.get("revoked") is not None:
                return False
            record["revoked"] = _now()
        return True


def _hash(key: bytes, secret: str) -> str:
    return f"{_HASH_SCHEME}:{hmac.new(key, secret.encode('ascii'), hashlib.sha256).hexdigest()}"


# Write scope -----------------------------------------------------------------------------------
SCOPE_EXPECTED = "data within the write scope of the editor"  # every scope refusal starts so


@dataclass(frozen=True)
class Scope:
    """What a principal may write.

    `agencies` holds normalized agency codes (`normalize_key`): the editor's agency (`root`) and
    its provincial and county units in the store. New units of the submission itself are judged by
    the loader (resolve.Ownership) against `root`, since the store does not know them yet.
    """

    agencies: frozenset[str] | None  # agency codes it may replace/withdraw; None = any (admin)
    laws: bool  # may it submit laws (graph/law/*)? admin only
    root: str | None = None  # the editor's own agency (normalized), None for an admin

    def allows(self, agency: str) -> bool:
        """May it replace or withdraw the data of this (stored) agency?"""
        return self.agencies is None or normalize_key(agency) in self.agencies


ANY = Scope(None, True)


class AgencyTree(Protocol):
    """What write_scope needs of a store snapshot (loader.resolve.StoreSnapshot)."""

    def units_of(self, code: str) -> frozenset[str]: ...
    def unit_owner(self, code: str) -> str | None: ...


def write_scope(principal: Principal, snapshot: AgencyTree) -> Scope:
    """Editor: its agency and its provincial/county units (not affiliates); admin: everything.

    Raises PermissionError for the public and auditors (they write nothing), and for an editor
    whose agency has become a unit of another agency (its data is then its owner's editor's)."""
    if principal.role is Role.ADMIN:
        return ANY
    if principal.role is not Role.EDITOR or not principal.agency:
        raise PermissionError(f"a {principal.role.value} may not write data; an editor or admin token may")
    owner = snapshot.unit_owner(principal.agency)
    if owner is not None:
        raise PermissionError(
            f"agency {principal.agency} is now a unit of {owner}; "
            f"its data is submitted with a token of {owner}"
        )
    root = normalize_key(principal.agency)
    return Scope(frozenset({root}) | snapshot.units_of(principal.agency), laws=False, root=root)


def is_scope_error(error: InputError) -> bool:
    """True when an input error is a refusal for scope (the API's 403) rather than a bad input (422)."""
    return error.expected.startswith(SCOPE_EXPECTED)
