"""Answers of the browse API: JSON by default, JSON-LD or Turtle (or N-Triples) by Accept.

Routes build the JSON and, lazily, the triples that say the same thing; this module picks
which one the client gets and writes clear 404 / 300 answers in English and Persian.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from khadamat.api.context import JSONLD, compact_answer
from khadamat.api.negotiation import choose
from khadamat.api.results import serialize_triples

API_TYPES = ["application/json", "application/ld+json", "text/turtle", "application/n-triples"]


class ApiError(Exception):
    """An answer other than 200, with a message for people in English and Persian."""

    def __init__(
        self, status: int, message: str, message_fa: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body = {"detail": message, "detail_fa": message_fa, **extra}


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


log = logging.getLogger("khadamat.api")


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Any exception no route turned into an answer: a fixed 500 with a request id, details in the log.

    Why fixed: an exception's text can hold OS errors, temporary paths, Rust or Python internals
    (what a prober uses to map the server). The request id ties the answer to the log line.
    """
    request_id = uuid.uuid4().hex[:16]
    log.error("request %s: %s %s failed", request_id, request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {
            "detail": f"internal error; the operator can find it in the server log as request {request_id}",
            "detail_fa": f"خطای درونی؛ شناسهٔ درخواست در گزارش کارگزار: {request_id}",
            "request_id": request_id,
        },
        status_code=500,
        headers={"X-Request-ID": request_id},
    )


async def negotiated(
    request: Request, body: Any, triples: Callable[[], Awaitable[list[ox.Triple]]] | None = None
) -> Response:
    """`body` as JSON, or the RDF from `triples()` when the client prefers JSON-LD / Turtle."""
    offered = API_TYPES if triples is not None else API_TYPES[:1]
    media = choose(request.headers.get("accept"), offered) or "application/json"
    if media == "application/json" or triples is None:
        return JSONResponse(body, headers={"Vary": "Accept"})
    graph = await triples()
    data = compact_answer(graph) if media == JSONLD else serialize_triples(graph, media)
    return Response(data, media_type=media, headers={"Vary": "Accept"})
