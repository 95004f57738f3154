"""Server settings that the core Settings do not hold: limits and CORS.

They come from the environment so that every uvicorn worker (a separate process when
`--workers` > 1) reads the same values that `khadamat serve` was given on its command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

ENV_TIMEOUT = "KHADAMAT_QUERY_TIMEOUT"
ENV_RESULT_LIMIT = "KHADAMAT_RESULT_LIMIT"
ENV_CORS = "KHADAMAT_CORS_ORIGINS"
ENV_READ_WRITE = "KHADAMAT_SERVER_READ_WRITE"
ENV_VALIDATE_TIMEOUT = "KHADAMAT_VALIDATE_TIMEOUT"

DEFAULT_TIMEOUT = 30.0
DEFAULT_RESULT_LIMIT = 10_000
DEFAULT_VALIDATE_TIMEOUT = 600.0


@dataclass(frozen=True)
class ApiConfig:
    """Limits of the SPARQL endpoint and the browse API, and the origins allowed by CORS."""

    query_timeout: float = DEFAULT_TIMEOUT  # seconds before a query is answered with 503
    result_limit: int = DEFAULT_RESULT_LIMIT  # rows / triples at most in one answer
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    read_write: bool = False  # open the store read-write (one worker only); never writes anyway
    validate_timeout: float = DEFAULT_VALIDATE_TIMEOUT  # seconds for one validation (/validate, pages)

    @classmethod
    def from_env(cls) -> ApiConfig:
        origins = tuple(o.strip() for o in os.environ.get(ENV_CORS, "").split(",") if o.strip())
        return cls(
            query_timeout=float(os.environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT),
            result_limit=int(os.environ.get(ENV_RESULT_LIMIT) or DEFAULT_RESULT_LIMIT),
            cors_origins=origins,
            read_write=os.environ.get(ENV_READ_WRITE, "") in {"1", "true", "yes"},
            validate_timeout=float(os.environ.get(ENV_VALIDATE_TIMEOUT) or DEFAULT_VALIDATE_TIMEOUT),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return this config in a worker process."""
        return {
            ENV_TIMEOUT: str(self.query_timeout),
            ENV_RESULT_LIMIT: str(self.result_limit),
            ENV_CORS: ",".join(self.cors_origins),
            ENV_READ_WRITE: "1" if self.read_write else "",
            ENV_VALIDATE_TIMEOUT: str(self.validate_timeout),
        }
