"""Settings shared by every command and the server.

One place decides the base IRI, the store directory and, for a remote store, the SPARQL server
(`Endpoint`), so that the CLI, the loader and the API always mint and read the same IRIs in the
same store. With an endpoint the store directory still holds what is the writer's own: the base
it writes under, the history of versions and the write lock (docs/deployment.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE = "https://w3id.org/khadamat/id/"
DEFAULT_STORE = Path("khadamat-store")

# A remote store (khadamat/remote_store.py): the environment variables behind --endpoint & co.
# The password is read from the environment only: a command line shows in `ps` and shell history.
ENDPOINT_ENV = "KHADAMAT_ENDPOINT"
UPDATE_ENDPOINT_ENV = "KHADAMAT_UPDATE_ENDPOINT"
GRAPH_STORE_ENV = "KHADAMAT_GRAPH_STORE"
USER_ENV = "KHADAMAT_ENDPOINT_USER"
PASSWORD_ENV = "KHADAMAT_ENDPOINT_PASSWORD"
AUTH_ENV = "KHADAMAT_ENDPOINT_AUTH"
AUTH_SCHEMES = ("basic", "digest")
WRITE_MODE_ENV = "KHADAMAT_WRITE_MODE"
# How a large write reaches the server (docs/deployment.md, "What each engine guarantees"):
# staged — staging graphs, then short requests that move them in (any engine, any size; readers
#   of the union default graph see the staging triples while they are uploaded);
# single — the whole write in one update request (engines that run a request as one transaction
#   and take its size: Oxigraph server up to its 128 MiB request limit, Fuseki, GraphDB).
WRITE_MODES = ("staged", "single")
DEFAULT_WRITE_MODE = "staged"


@dataclass(frozen=True)
class Endpoint:
    """A SPARQL 1.1 server that holds the graph instead of the embedded store.

    `query` answers SPARQL 1.1 Query; `update` (default: `query`) takes SPARQL 1.1 Update;
    `graph_store` (optional) is a Graph Store Protocol endpoint used to read whole graphs.
    `user`/`password` are sent with HTTP `auth` (basic or digest). The password never appears in
    `repr`, in messages or in logs. `write_mode` (WRITE_MODES) is how a large write is sent.
    """

    query: str
    update: str | None = None
    graph_store: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = "basic"
    write_mode: str = DEFAULT_WRITE_MODE

    @property
    def update_url(self) -> str:
        return self.update or self.query

    @classmethod
    def from_env(
        cls,
        query: str | None = None,
        update: str | None = None,
        graph_store: str | None = None,
        user: str | None = None,
        auth: str | None = None,
        write_mode: str | None = None,
    ) -> Endpoint | None:
        """Explicit values win over the KHADAMAT_ENDPOINT* variables; None without an endpoint."""
        env = os.environ
        url = query or env.get(ENDPOINT_ENV)
        if not url:
            return None
        scheme = (auth or env.get(AUTH_ENV) or "basic").lower()
        if scheme not in AUTH_SCHEMES:
            raise ValueError(f"{AUTH_ENV} must be one of {', '.join(AUTH_SCHEMES)}, not {scheme!r}")
        mode = (write_mode or env.get(WRITE_MODE_ENV) or DEFAULT_WRITE_MODE).lower()
        if mode not in WRITE_MODES:
            raise ValueError(f"{WRITE_MODE_ENV} must be one of {', '.join(WRITE_MODES)}, not {mode!r}")
        return cls(
            query=url,
            update=update or env.get(UPDATE_ENDPOINT_ENV) or None,
            graph_store=graph_store or env.get(GRAPH_STORE_ENV) or None,
            user=user or env.get(USER_ENV) or None,
            password=env.get(PASSWORD_ENV) or None,
            auth=scheme,
            write_mode=mode,
        )

    def to_env(self) -> dict[str, str]:
        """The variables that give this endpoint to a child process (the server's workers);
        the password is not among them: the child inherits it from the environment it came from."""
        out = {ENDPOINT_ENV: self.query, AUTH_ENV: self.auth, WRITE_MODE_ENV: self.write_mode}
        for name, value in (
            (UPDATE_ENDPOINT_ENV, self.update),
            (GRAPH_STORE_ENV, self.graph_store),
            (USER_ENV, self.user),
        ):
            if value:
                out[name] = value
        return out


@dataclass(frozen=True)
class Settings:
    """Where the store lives (a directory, or a SPARQL server) and which base IRI its data nodes use."""

    store_dir: Path = DEFAULT_STORE
    base: str = DEFAULT_BASE
    endpoint: Endpoint | None = None

    @classmethod
    def from_env(
        cls, store_dir: str | Path | None = None, base: str | None = None, endpoint: Endpoint | None = None
    ) -> Settings:
        """Explicit arguments win over KHADAMAT_STORE / KHADAMAT_BASE; then the store's own base.

        A store remembers the base it was first written under (BASE_FILE): every IRI in it was
        minted under that base, so a command that reads or serves it under another one would
        look for nodes that are not there (and used to write a rebased second copy of the
        ontology). Without an explicit base, the store's base is used; an explicit base that
        differs is refused with BaseMismatch. Without an explicit `endpoint`, KHADAMAT_ENDPOINT
        (and its companions, `Endpoint.from_env`) make the store a remote one.
        """
        store = Path(store_dir or os.environ.get("KHADAMAT_STORE") or DEFAULT_STORE)
        asked = base or os.environ.get("KHADAMAT_BASE")
        recorded = stored_base(store)
        if asked:
            asked = _with_separator(asked)
            if recorded is not None and asked != recorded:
                raise BaseMismatch(store, recorded, asked)
        return cls(
            store_dir=store,
            base=asked or recorded or DEFAULT_BASE,
            endpoint=endpoint or Endpoint.from_env(),
        )


# The base a store was first written under, in the store folder (one line, the IRI).
BASE_FILE = "base.txt"


class BaseMismatch(ValueError):
    """A base was asked for a store whose IRIs were minted under another one."""

    def __init__(self, store: Path, recorded: str, asked: str) -> None:
        super().__init__(
            f"the store {store} holds data minted under the base {recorded}, not {asked}: "
            f"leave out --base and KHADAMAT_BASE to use the store's own, or load into a new store "
            f"(--store DIR) to use another base — پایهٔ IRI با پایهٔ انباره یکی نیست"
        )
        self.recorded = recorded
        self.asked = asked


def _with_separator(base: str) -> str:
    return base if base.endswith(("/", "#")) else base + "/"


def stored_base(store_dir: Path) -> str | None:
    """The base recorded in a store folder, or None (a new store, or one written before this)."""
    try:
        text = (Path(store_dir) / BASE_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return text or None


def record_base(store_dir: Path, base: str) -> None:
    """Remember `base` as the store's own, once (atomic: a temporary file renamed into place)."""
    target = Path(store_dir) / BASE_FILE
    if target.exists():
        return
    temporary = target.with_name(f".{BASE_FILE}.{os.getpid()}")
    temporary.write_text(base + "\n", encoding="utf-8")
    os.replace(temporary, target)
