"""One client-written SPARQL query as a query worker runs it: request in, serialized bytes out.

`execute(store, job)` is what a query worker process (api/query_workers.py) calls for each
request: parse, plan and evaluate on pyoxigraph, take at most `result_limit` rows or triples,
serialize in the negotiated format, check the size. Everything the parent receives is plain
data (`QueryJob` in, `QueryAnswer` or `EndpointError` out), so nothing of pyoxigraph crosses the
process boundary.

On a remote store (khadamat/remote_store.py) the same function runs in the server process and
the query goes to the SPARQL server (api/query_workers.py, `RemotePool`); its failures map to the
same fixed messages.

Every failure becomes an `EndpointError` with a fixed message: a client sees the parser's
message about its own query text (stripped if it names anything of the machine), never an
OS error, a Rust message, an address or a port.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pyoxigraph as ox
from khadamat.api.execution import QueryTimeout, materialize
from khadamat.api.negotiation import GRAPH_TYPES, RESULT_TYPES
from khadamat.api.results import serialize_results, serialize_triples

from khadamat.remote_store import AnswerTooLarge, RemoteTimeout, RemoteUnavailable
from khadamat.store import Store

SERVICE_REFUSED = "federated queries (SERVICE) are disabled: the server makes no outgoing requests"
TOO_COMPLEX = (
    "the query is too complex to evaluate: simplify it (fewer nested groups, expressions or triple patterns)"
)
NOT_EVALUATED = "the query could not be evaluated on this store; check its functions, types and variables"
STORE_UNAVAILABLE = "the store could not be read; try again later"
# Parser messages are about the query text; one that names anything else is not passed on.
_MACHINE_WORDS = re.compile(
    r"os error|errno|refused|connect|socket|address|port\b|dns|\bhttps?://|\d+\.\d+\.\d+\.\d+|/tmp/|/home/",
    re.IGNORECASE,
)


class EndpointError(Exception):
    """A query the endpoint answers with `status` and a fixed, client-safe `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class QueryJob:
    """Everything a worker needs to answer one /sparql request (picklable)."""

    query: str
    default_graph: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    base_iri: str
    result_media: str | None  # the negotiated type for SELECT/ASK answers, None if none fits
    graph_media: str | None  # the same for CONSTRUCT/DESCRIBE answers
    result_limit: int
    max_answer_bytes: int
    timeout: float  # seconds; the worker stops pulling results past it (the parent kills at it)


@dataclass(frozen=True)
class QueryAnswer:
    body: bytes
    media: str
    truncated: bool


def syntax_message(error: BaseException) -> str:
    """The parser's message about the query text, or a fixed one when it names the machine."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if not text or _MACHINE_WORDS.search(text):
        return "the query is not valid SPARQL 1.1"
    return f"the query is not valid SPARQL 1.1: {text[:300]}"


def _nodes(iris: tuple[str, ...] | None) -> list[ox.NamedNode] | None:
    return None if iris is None else [ox.NamedNode(iri) for iri in iris]


def _answer(store: Store, job: QueryJob) -> QueryAnswer:
    deadline = time.monotonic() + job.timeout
    raw = store.raw_query(
        job.query,
        default_graph=_nodes(job.default_graph),
        named_graphs=_nodes(job.named_graphs),
        base_iri=job.base_iri,
    )
    answer = materialize(raw, job.result_limit, deadline, job.timeout)
    media = job.graph_media if answer.kind == "graph" else job.result_media
    if media is None:
        offered = GRAPH_TYPES if answer.kind == "graph" else RESULT_TYPES
        raise EndpointError(
            406, "none of the accepted media types can carry this answer; use one of " + ", ".join(offered)
        )
    if answer.kind == "graph":
        body = serialize_triples(answer.triples, media)
    else:
        body = serialize_results(answer, media)
    if len(body) > job.max_answer_bytes:
        raise _too_large(job.max_answer_bytes)
    return QueryAnswer(body, media, answer.truncated)


def _too_large(limit: int) -> EndpointError:
    return EndpointError(
        400,
        f"the answer is larger than the limit of {limit} bytes "
        "(setting max_answer_bytes, khadamat serve --sparql-max-answer-bytes); "
        "select fewer variables or add LIMIT",
    )


def execute(store: Store, job: QueryJob) -> QueryAnswer:
    """Answer one job; every failure is an EndpointError with a client-safe message."""
    try:
        return _answer(store, job)
    except EndpointError:
        raise
    except SyntaxError as exc:
        raise EndpointError(400, syntax_message(exc)) from None
    except QueryTimeout as exc:
        raise EndpointError(503, str(exc)) from None
    except RemoteTimeout:  # a remote store (khadamat/remote_store.py) did not answer in time
        raise EndpointError(503, str(QueryTimeout(job.timeout))) from None
    except RemoteUnavailable:
        raise EndpointError(503, STORE_UNAVAILABLE) from None
    except AnswerTooLarge:  # the remote answer, before it is even parsed
        raise _too_large(job.max_answer_bytes) from None
    except PermissionError:  # the seccomp filter refused a socket: a SERVICE the guard let through
        raise EndpointError(403, SERVICE_REFUSED) from None
    except MemoryError:
        raise
    except RecursionError:
        raise EndpointError(400, TOO_COMPLEX) from None
    except OSError:
        raise EndpointError(500, STORE_UNAVAILABLE) from None
    except Exception:
        raise EndpointError(400, NOT_EVALUATED) from None
    except BaseException as exc:  # pyo3's PanicException derives from BaseException
        if type(exc).__name__ == "PanicException":
            raise EndpointError(400, NOT_EVALUATED) from None
        raise
