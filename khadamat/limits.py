"""Named limits with safe defaults, each overridable by one environment variable.

The loader (loader/limits.py `LoaderLimits`), the uploads (api/config.py `UploadLimits`) and the
SPARQL endpoint (api/config.py `EndpointLimits`) each hold their bounds in a frozen dataclass.
They share one rule, kept here: field `max_cells` of a class whose `ENV_PREFIX` is
`KHADAMAT_LIMIT_` is read from `KHADAMAT_LIMIT_MAX_CELLS`. The environment is the one channel
every process sees: `khadamat serve` hands its limits to each uvicorn worker and each sandboxed
child through it (`to_env`), and an operator sets a loader bound the same way.

A field may carry a `help` text and a `flag` name (see `limit`): `khadamat serve` builds its
command-line flags from them, so that a new field gets its flag without another table.
"""

from __future__ import annotations

import os
from dataclasses import Field, field, fields
from typing import Any, ClassVar, Self, get_type_hints


def limit(default: int | float, help: str, flag: str | None = None) -> Any:
    """A dataclass field holding one bound: its default, what it bounds (for `--help`), and the
    flag's name after its prefix when it is not the field's name with dashes."""
    return field(default=default, metadata={"help": help, "flag": flag})


class EnvLimits:
    """Base of a frozen dataclass of int/float limits read from `<ENV_PREFIX><FIELD IN CAPITALS>`."""

    ENV_PREFIX: ClassVar[str] = ""

    @classmethod
    def env_name(cls, name: str) -> str:
        """The environment variable that overrides field `name`."""
        return cls.ENV_PREFIX + name.upper()

    @classmethod
    def field_types(cls) -> dict[str, type]:
        """Field name → int or float, as annotated (the annotations are strings here)."""
        hints = get_type_hints(cls)
        return {item.name: hints[item.name] for item in cls.limit_fields()}

    @classmethod
    def limit_fields(cls) -> tuple[Field[Any], ...]:
        return fields(cls)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Self:
        """The defaults, each overridden by its environment variable when that is set and not empty.

        A value that is not a number is refused naming the variable (the server or the load does
        not start with a limit nobody meant)."""
        values: dict[str, int | float] = {}
        for name, kind in cls.field_types().items():
            variable = cls.env_name(name)
            raw = os.environ.get(variable, "").strip()
            if not raw:
                continue
            try:
                values[name] = kind(raw)
            except ValueError:
                expected = "an integer" if kind is int else "a number"
                raise ValueError(f"{variable}={raw!r}: expected {expected}") from None
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return these limits in another process."""
        return {self.env_name(item.name): str(getattr(self, item.name)) for item in self.limit_fields()}
