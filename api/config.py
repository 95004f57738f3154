"""Server settings that the core Settings do not hold: limits and CORS.

They come from the environment so that every uvicorn worker (a separate process when
`--workers` > 1) reads the same values that `khadamat serve` was given on its command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import ClassVar, Self

ENV_TIMEOUT = "KHADAMAT_QUERY_TIMEOUT"
ENV_RESULT_LIMIT = "KHADAMAT_RESULT_LIMIT"
ENV_CORS = "KHADAMAT_CORS_ORIGINS"
ENV_READ_WRITE = "KHADAMAT_SERVER_READ_WRITE"
ENV_VALIDATE_TIMEOUT = "KHADAMAT_VALIDATE_TIMEOUT"

DEFAULT_TIMEOUT = 30.0
DEFAULT_RESULT_LIMIT = 10_000
DEFAULT_VALIDATE_TIMEOUT = 600.0


class EnvLimits:
    """Limits read from `<ENV_PREFIX><FIELD IN CAPITALS>` environment variables (for every worker)."""

    ENV_PREFIX: ClassVar[str] = ""

    @classmethod
    def from_env(cls) -> Self:
        values: dict[str, int | float] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            raw = os.environ.get(cls.ENV_PREFIX + item.name.upper())
            if raw:
                values[item.name] = float(raw) if item.type == "float" else int(raw)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        return {self.ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class UploadLimits(EnvLimits):
    """Bounds on one `POST /validate` and on how many run at once (api/uploads.py, api/validate.py).

    The request is counted while it streams to a temporary folder, never held in memory; the
    submission is then read and validated in a child process under `memory_bytes` and the
    validate timeout. Each field is overridden by `KHADAMAT_UPLOAD_<FIELD IN CAPITALS>`.
    """

    ENV_PREFIX: ClassVar[str] = "KHADAMAT_UPLOAD_"

    max_request_bytes: int = 64 * 2**20  # the whole multipart body (413 past it)
    max_files: int = 20  # files in one upload (a workbook, or up to 7 sheets, or RDF files)
    max_file_bytes: int = 50 * 2**20  # one uploaded file as sent (compressed, for a workbook)
    memory_bytes: int = 1024 * 2**20  # memory of the child that reads and validates it
    concurrent: int = 2  # validations of uploads at once per worker; past it 503 + Retry-After
    read_timeout: float = 120.0  # seconds for the whole body to arrive (408 past it)


@dataclass(frozen=True)
class EndpointLimits(EnvLimits):
    """Bounds on one client-written SPARQL query (/sparql): checked before it runs (api/guard.py)
    and enforced while it runs in a query worker process (api/query_workers.py).

    Each field is overridden by `KHADAMAT_SPARQL_<FIELD IN CAPITALS>`; `khadamat serve` has a
    flag for each. The time and row limits are ApiConfig.query_timeout and .result_limit.
    """

    ENV_PREFIX: ClassVar[str] = "KHADAMAT_SPARQL_"

    max_query_bytes: int = 64 * 2**10  # UTF-8 length of the query text (the POST body: 3x, encoded)
    max_depth: int = 64  # nesting of ( { [ << in the query
    max_tokens: int = 10_000  # words, names, literals and punctuation of the query
    max_triple_patterns: int = 400  # triple-pattern separators ( . ; , ) in the query
    max_answer_bytes: int = 64 * 2**20  # one serialized answer
    workers: int = 4  # query worker processes per server worker; more queries wait for a free one
    worker_memory_bytes: int = 512 * 2**20  # memory of one query worker (resident and data segment)
    cache_bytes: int = 256 * 2**20  # all answers kept by the answer cache together


@dataclass(frozen=True)
class ApiConfig:
    """Limits of the SPARQL endpoint and the browse API, and the origins allowed by CORS."""

    query_timeout: float = DEFAULT_TIMEOUT  # seconds before a query is answered with 503
    result_limit: int = DEFAULT_RESULT_LIMIT  # rows / triples at most in one answer
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    read_write: bool = False  # open the store read-write (one worker only); never writes anyway
    validate_timeout: float = DEFAULT_VALIDATE_TIMEOUT  # seconds for one validation (/validate, pages)
    uploads: UploadLimits = field(default_factory=UploadLimits)  # POST /validate bounds
    sparql: EndpointLimits = field(default_factory=EndpointLimits)  # /sparql bounds

    @classmethod
    def from_env(cls) -> ApiConfig:
        origins = tuple(o.strip() for o in os.environ.get(ENV_CORS, "").split(",") if o.strip())
        return cls(
            query_timeout=float(os.environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT),
            result_limit=int(os.environ.get(ENV_RESULT_LIMIT) or DEFAULT_RESULT_LIMIT),
            cors_origins=origins,
            read_write=os.environ.get(ENV_READ_WRITE, "") in {"1", "true", "yes"},
            validate_timeout=float(os.environ.get(ENV_VALIDATE_TIMEOUT) or DEFAULT_VALIDATE_TIMEOUT),
            uploads=UploadLimits.from_env(),
            sparql=EndpointLimits.from_env(),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return this config in a worker process."""
        return {
            ENV_TIMEOUT: str(self.query_timeout),
            ENV_RESULT_LIMIT: str(self.result_limit),
            ENV_CORS: ",".join(self.cors_origins),
            ENV_READ_WRITE: "1" if self.read_write else "",
            ENV_VALIDATE_TIMEOUT: str(self.validate_timeout),
            **self.uploads.to_env(),
            **self.sparql.to_env(),
        }
