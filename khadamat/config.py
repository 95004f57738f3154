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
        """Explicit arguments win over KHADAMAT_STORE / KHADAMAT_BASE, which win over defaults."""
        store = store_dir or os.environ.get("KHADAMAT_STORE") or DEFAULT_STORE
        chosen_base = base or os.environ.get("KHADAMAT_BASE") or DEFAULT_BASE
        if not chosen_base.endswith(("/", "#")):
            chosen_base += "/"
        return cls(store_dir=Path(store), base=chosen_base)
