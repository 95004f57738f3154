"""Settings shared by every command and the server.

One place decides the base IRI and the store directory, so that the CLI, the loader and the
API always mint and read the same IRIs in the same store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE = "https://w3id.org/khadamat/id/"
DEFAULT_STORE = Path("khadamat-store")


@dataclass(frozen=True)
class Settings:
    """Where the store lives and which base IRI its data nodes use."""

    store_dir: Path = DEFAULT_STORE
    base: str = DEFAULT_BASE

    @classmethod
    def from_env(cls, store_dir: str | Path | None = None, base: str | None = None) -> Settings:
        """Explicit arguments win over KHADAMAT_STORE / KHADAMAT_BASE; then the store's own base.

        A store remembers the base it was first written under (BASE_FILE): every IRI in it was
        minted under that base, so a command that reads or serves it under another one would
        look for nodes that are not there (and used to write a rebased second copy of the
        ontology). Without an explicit base, the store's base is used; an explicit base that
        differs is refused with BaseMismatch.
        """
        store = Path(store_dir or os.environ.get("KHADAMAT_STORE") or DEFAULT_STORE)
        asked = base or os.environ.get("KHADAMAT_BASE")
        recorded = stored_base(store)
        if asked:
            asked = _with_separator(asked)
            if recorded is not None and asked != recorded:
                raise BaseMismatch(store, recorded, asked)
        return cls(store_dir=store, base=asked or recorded or DEFAULT_BASE)


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
