"""Server settings that the core Settings do not hold: limits and CORS.

They come from the environment so that every uvicorn worker (a separate process when
`--workers` > 1) reads the same values that `khadamat serve` was given on its command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

from khadamat.limits import EnvLimits, limit

ENV_TIMEOUT = "KHADAMAT_QUERY_TIMEOUT"
ENV_RESULT_LIMIT = "KHADAMAT_RESULT_LIMIT"
ENV_CORS = "KHADAMAT_CORS_ORIGINS"
ENV_READ_WRITE = "KHADAMAT_SERVER_READ_WRITE"
ENV_VALIDATE_TIMEOUT = "KHADAMAT_VALIDATE_TIMEOUT"
ENV_REFUSE_VIOLATIONS = "KHADAMAT_REFUSE_VIOLATIONS"

DEFAULT_TIMEOUT = 30.0
DEFAULT_RESULT_LIMIT = 10_000
DEFAULT_VALIDATE_TIMEOUT = 600.0


@dataclass(frozen=True)
class UploadLimits(EnvLimits):
    """Bounds on one `POST /validate` and on how many run at once (api/uploads.py, api/validate.py).

    The request is counted while it streams to a temporary folder, never held in memory; the
    submission is then read and validated in a child process under `memory_bytes` and the
    validate timeout. Each field is overridden by `KHADAMAT_UPLOAD_<FIELD IN CAPITALS>`;
    `khadamat serve` has a flag `--upload-<field-with-dashes>` for each.
    """

    ENV_PREFIX: ClassVar[str] = "KHADAMAT_UPLOAD_"

    max_request_bytes: int = limit(64 * 2**20, "the whole multipart body, 413 past it")
    # a workbook, or up to 7 sheets, or RDF files
    max_files: int = limit(20, "files in one upload, 413 past it")
    max_file_bytes: int = limit(50 * 2**20, "one file as sent (compressed, for a workbook), 413 past it")
    # Validating an agency's submission loads its context from the store: 1.3-1.8 GB measured on
    # a 10k-service catalog, under 4 GiB on the 50k one (benchmarks/bench_submissions.py).
    memory_bytes: int = limit(4 * 2**30, "memory of the child that reads and validates an upload")
    concurrent: int = limit(2, "uploads validated at once per worker, 503 with Retry-After past it")
    read_timeout: float = limit(120.0, "seconds for the whole body to arrive, 408 past it")


@dataclass(frozen=True)
class EndpointLimits(EnvLimits):
    """Bounds on one client-written SPARQL query (/sparql): checked before it runs (api/guard.py)
    and enforced while it runs in a query worker process (api/query_workers.py).

    Each field is overridden by `KHADAMAT_SPARQL_<FIELD IN CAPITALS>`; `khadamat serve` has a
    flag `--sparql-<field-with-dashes>` for each (`--sparql-worker-memory` for worker_memory_bytes).
    The time and row limits are ApiConfig.query_timeout and .result_limit.
    """

    ENV_PREFIX: ClassVar[str] = "KHADAMAT_SPARQL_"

    # UTF-8 length of the query text (the POST body: 3x, encoded)
    max_query_bytes: int = limit(64 * 2**10, "longest query text")
    max_depth: int = limit(64, "deepest nesting of ( { [ << in a query")
    max_tokens: int = limit(10_000, "most tokens (words, names, literals, punctuation) in a query")
    max_triple_patterns: int = limit(400, "most triple-pattern separators (. ; ,) in a query")
    max_answer_bytes: int = limit(64 * 2**20, "largest serialized answer")
    # more queries than workers wait for a free one
    workers: int = limit(4, "query worker processes per server worker")
    # resident set and data segment
    worker_memory_bytes: int = limit(512 * 2**20, "memory of one query worker", flag="worker-memory")
    cache_bytes: int = limit(256 * 2**20, "all answers the answer cache keeps")


@dataclass(frozen=True)
class SubmitLimits(EnvLimits):
    """Bounds on `POST /submissions` and `DELETE /agencies/{code}/data` beyond those of an upload
    (which are UploadLimits'). Each field is overridden by `KHADAMAT_SUBMIT_<FIELD IN CAPITALS>`;
    `khadamat serve` has a flag `--submit-<field-with-dashes>` for each."""

    ENV_PREFIX: ClassVar[str] = "KHADAMAT_SUBMIT_"

    wait: float = limit(10.0, "seconds a write waits for another one to finish, 503 with Retry-After past it")
    retry_after: int = limit(5, "seconds a client told 503 (store busy) should wait (Retry-After)")


@dataclass(frozen=True)
class BrowseLimits(EnvLimits):
    """The browse answer cache of each server worker (api/browse_cache.py). Each field is
    overridden by `KHADAMAT_BROWSE_<FIELD IN CAPITALS>`; `khadamat serve` has a flag
    `--browse-<field-with-dashes>` for each. 0 bytes turns the cache off."""

    ENV_PREFIX: ClassVar[str] = "KHADAMAT_BROWSE_"

    cache_bytes: int = limit(128 * 2**20, "browse answers (cards, traces, lists, pages) kept per worker")
    cache_entries: int = limit(50_000, "most browse answers kept per worker")
    max_entry_bytes: int = limit(2 * 2**20, "largest browse answer kept")


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
    submit: SubmitLimits = field(default_factory=SubmitLimits)  # POST /submissions bounds
    browse: BrowseLimits = field(default_factory=BrowseLimits)  # the browse answer cache
    refuse_violations: bool = False  # refuse submissions whose validation finds Violations

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
            submit=SubmitLimits.from_env(),
            browse=BrowseLimits.from_env(),
            refuse_violations=os.environ.get(ENV_REFUSE_VIOLATIONS, "") in {"1", "true", "yes"},
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
            **self.submit.to_env(),
            **self.browse.to_env(),
            ENV_REFUSE_VIOLATIONS: "1" if self.refuse_violations else "",
        }
