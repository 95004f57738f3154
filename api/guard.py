"""The checks a client's SPARQL query passes before any engine sees it: size, shape and SERVICE.

Two layers keep the public endpoint safe, and this is the first, for clean answers:

* here, the query is measured by a linear-time SPARQL tokenizer (api/sparql_lexer.py): its size
  in bytes, its nesting depth, its number of tokens and of triple-pattern separators against the
  budgets of EndpointLimits (400 naming the limit and its setting), and whether it holds the
  SERVICE keyword (403: the server makes no outgoing requests). The tokenizer reads strings,
  IRIs, escaped local names (`ex:a\\#`) and comments as the parser does, and `\\u` escapes;
* the hard guarantee is the query worker (api/query_workers.py): whatever passes here still runs
  in a process that cannot open a socket, is killed at its time limit and memory budget, and
  whose crash the server survives. The budgets only turn what would be a crash or a timeout into
  a message that says what to change.

The check is linear and stops counting at the token budget, so it costs at most a few
milliseconds; longer queries are checked in a worker thread, never on the event loop.
"""

from __future__ import annotations

import anyio.to_thread
from khadamat.api.config import EndpointLimits
from khadamat.api.query_job import SERVICE_REFUSED, EndpointError
from khadamat.api.sparql_lexer import LexicalError, measure

# Queries up to this many characters are checked on the event loop (well under a millisecond).
INLINE_CHARS = 2048


def _over(what: str, limit: int, setting: str) -> EndpointError:
    flag = "--sparql-" + setting.replace("_", "-")
    return EndpointError(
        400,
        f"the query {what}, over the limit of {limit} (setting {setting}, khadamat serve {flag}); "
        "simplify it or split it into smaller queries",
    )


def check_query(query: str, limits: EndpointLimits) -> None:
    """Raise EndpointError (400 over a budget or not tokenizable, 403 SERVICE) or return."""
    size = len(query.encode("utf-8"))
    if size > limits.max_query_bytes:
        raise _over(f"is {size} bytes long", limits.max_query_bytes, "max_query_bytes")
    try:
        shape = measure(query, token_budget=limits.max_tokens)
    except LexicalError as exc:
        raise EndpointError(400, f"the query is not valid SPARQL 1.1: {exc}") from None
    at_least = "" if shape.complete else "at least "
    if shape.max_depth > limits.max_depth:
        raise _over(
            f"nests groups or brackets {at_least}{shape.max_depth} deep", limits.max_depth, "max_depth"
        )
    if shape.separators > limits.max_triple_patterns:
        raise _over(
            f"has {at_least}{shape.separators} triple-pattern separators (. ; ,)",
            limits.max_triple_patterns,
            "max_triple_patterns",
        )
    if not shape.complete or shape.tokens > limits.max_tokens:
        raise _over(f"has more than {limits.max_tokens} tokens", limits.max_tokens, "max_tokens")
    if shape.uses_service:
        raise EndpointError(
            403,
            SERVICE_REFUSED + " (the word SERVICE is not accepted wherever the parser could read it as "
            "the keyword, also inside a prefix name such as 'services:')",
        )


async def check_query_async(query: str, limits: EndpointLimits) -> None:
    """`check_query` off the event loop for anything but short queries."""
    if len(query) <= INLINE_CHARS or len(query) > limits.max_query_bytes:
        check_query(query, limits)  # short, or refused at once by its length
    else:
        await anyio.to_thread.run_sync(check_query, query, limits)
