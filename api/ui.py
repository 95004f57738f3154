"""The query editor page `/query`: YASGUI served from the package (no CDN), for architects.

YASGUI (@triply/yasgui, MIT, vendored in static/yasgui/ with its LICENSE) talks to `/sparql`.
The page preloads the PREFIX lines of every Khadamat namespace and the query library
(queries/*.rq, through khadamat.querylib when it exists) in a picker above the editor.
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from khadamat.api.pages import templates

from khadamat.namespaces import PREFIXES
from khadamat.resources import data_files

router = APIRouter(tags=["Query UI"])

START_QUERY = """SELECT ?service ?title ?agency WHERE {
  ?service a kh:Service ;
           dct:title ?title ;
           kh:provider ?agency .
}
LIMIT 20
"""


def library() -> list[dict[str, Any]]:
    """The query library as {name, summary, text}: khadamat.querylib when present, else the .rq files."""
    try:
        querylib = importlib.import_module("khadamat.querylib")
        specs = querylib.library()
        return [
            {"name": n, "summary": s.summary or n, "text": s.text}
            for n, s in sorted(specs.items())
            if not n.startswith("_")
        ]
    except (ImportError, AttributeError):
        pass
    entries = []
    for path in (p for p in data_files("queries", ".rq") if not p.stem.startswith("_")):
        text = path.read_text(encoding="utf-8")
        summary = next(
            (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("#+ summary:")),
            path.stem,
        )
        entries.append({"name": path.stem, "summary": summary, "text": text})
    return entries


@router.get("/query", response_class=HTMLResponse, summary="SPARQL query editor (YASGUI)")
@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def query_page(request: Request) -> HTMLResponse:
    prologue = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
    return templates.TemplateResponse(
        request,
        "query.html",
        {
            "title": "پرس‌وجوی SPARQL",
            "start": prologue + "\n" + START_QUERY,
            "prefixes": PREFIXES,
            "library": library(),
        },
    )
