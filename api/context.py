"""The published JSON-LD context at `/context.jsonld`, and compact JSON-LD answers that cite it.

The browse API and the entity pages answer `Accept: application/ld+json` with compact JSON-LD:
readable JSON with stable keys (`title`, `serviceId`, `provider`…) that any JSON-LD processor
expands back to the graph's triples. The context is the file ontology/context.jsonld of the
package, published here so that others can cite and reuse it. Answers carry it inline rather
than by URL: many JSON-LD parsers (pyoxigraph's among them) load no remote context, and an
answer saved to disk must still mean the same triples offline.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from khadamat.jsonld import compact, context_document

JSONLD = "application/ld+json"
router = APIRouter(tags=["Linked data"])


@router.get(
    "/context.jsonld",
    name="jsonld_context",
    summary="The JSON-LD context of the API's JSON-LD answers (keys of kh: and common properties)",
    response_class=JSONResponse,
)
async def jsonld_context() -> JSONResponse:
    return JSONResponse(
        context_document(), media_type=JSONLD, headers={"Cache-Control": "public, max-age=86400"}
    )


def compact_answer(triples: list[ox.Triple]) -> bytes:
    """The triples as compact JSON-LD with the published context inline."""
    document = compact(triples, context_document()["@context"])
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
