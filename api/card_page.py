"""The service page: a card laid out in the order a citizen asks, the legal chain near the top.

The order and the formats are data (templates/service-card.toml); this module only fills them:
the card's values (already described for the page), the legal trace (trace.py), and the parts a
reader sees by name — documents, inquiries, counter offices, sub-services — from one query
(queries/service-parts.rq). Loader internals are never shown; the workbook row a value came from
is shown only in the auditor's view (`?view=audit` with an auditor's or an admin's token).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from khadamat.api import sparql_files
from khadamat.api.app_paths import PACKAGE_DIR
from khadamat.api.auth import require
from khadamat.api.deps import select
from khadamat.api.readable import row as readable_row
from khadamat.api.readable import rows, shown

from khadamat import formatting
from khadamat.accounts import Principal, Role

Link = Callable[[str], str | None]
AUDIT_VIEW = "audit"


@cache
def layout() -> dict[str, Any]:
    """templates/service-card.toml: the sections, the formats, the hidden and auditor-only keys."""
    with (PACKAGE_DIR / "templates" / "service-card.toml").open("rb") as handle:
        return tomllib.load(handle)


def internal_keys() -> set[str]:
    """Properties no public page shows: loader internals and the source row."""
    return set(layout()["hidden"]) | set(layout()["audit"])


async def audit_view(request: Request) -> Principal | None:
    """The auditor (or admin) reading `?view=audit`; None without it; 401/403 for anyone else."""
    if request.query_params.get("view") != AUDIT_VIEW:
        return None
    from khadamat.api.auth import principal_of

    return await require(Role.AUDITOR, Role.ADMIN)(await principal_of(request))


def source_of(text: str | None) -> dict[str, str] | None:
    """`services.csv#services!18` → {"file": "services.csv", "sheet": "services", "row": "18"}."""
    if not text:
        return None
    file, _, rest = text.partition("#")
    sheet, _, row = rest.partition("!")
    return {"file": file, "sheet": sheet, "row": row, "text": text}


def legal_chain(steps: list[dict[str, Any]], link: Link) -> list[dict[str, Any]]:
    """Each trace step as the links a reader follows: mission → article (with text) → law."""
    chain = []
    for step in steps:
        node, article, law, mission = step["node"], step["article"], step["instrument"], step["mission"]
        links: dict[str, Any] = {"via": step["via"], "grounded": node is not None}
        if mission:
            links["mission"] = {"text": mission["title"] or mission["code"], "href": link(mission["iri"])}
        if node is not None:
            number = (article or {}).get("number") or node.get("article_number")
            links["article"] = {
                "number": number,
                "part": node.get("part_label") if node.get("kind") == "ArticlePart" else None,
                "href": link((article or node)["iri"]) if number else link(node["iri"]),
                "text": node.get("text"),
            }
        if law is not None:
            links["law"] = {"text": law["title"] or law["code"], "href": link(law["iri"])}
        chain.append(links)
    return chain


def parts_of(rows_: list[Mapping[str, Any]], link: Link, lang: str) -> dict[str, list[dict[str, Any]]]:
    """service-parts.rq rows grouped by kind, each as what the page shows."""
    out: dict[str, list[dict[str, Any]]] = {"evidence": [], "inquiry": [], "office": [], "child": []}

    def text(row: Mapping[str, Any], key: str) -> str | None:
        term = row.get(key)
        return None if term is None else term.value

    for r in rows_:
        kind = r["kind"].value
        entry: dict[str, Any] = {
            "iri": r["part"].value,
            "title": text(r, "title"),
            "href": link(r["part"].value),
        }
        if kind == "inquiry":
            by = text(r, "by")
            entry["by"] = {"text": text(r, "byName") or by, "href": link(by) if by else None} if by else None
            kind_of = text(r, "kindOf")
            entry["kind"] = formatting.label(kind_of, lang) if kind_of else None
        elif kind == "office":
            entry |= {
                "code": text(r, "code"),
                "province": text(r, "province"),
                "county": text(r, "county"),
                "address": text(r, "address"),
                "source": source_of(text(r, "source")),
            }
        elif kind == "child":
            entry["service_id"] = text(r, "code")
        out[kind].append(entry)
    return out


async def service_context(
    request: Request,
    node: ox.NamedNode,
    props: dict[str, list[Any]],
    steps: list[dict[str, Any]],
    lang: str,
    link: Link,
    auditor: Principal | None,
) -> dict[str, Any]:
    """What service.html shows about one service or task."""
    spec = layout()
    formats = spec["format"]
    used = internal_keys() | set(spec["elsewhere"])
    sections = []
    for section in spec["section"]:
        shown_rows = [
            readable_row(key, props[key], lang, link, formats.get(key))
            for key in section["properties"]
            if props.get(key)
        ]
        used |= set(section["properties"])
        sections.append({"id": section["id"], "title": section[lang], "rows": shown_rows})
    parts = parts_of(await select(request, sparql_files.text("service-parts"), {"_item": node}), link, lang)
    parent = [shown(v, lang, link) for v in props.get("kh:parentService", [])]
    used |= {"kh:parentService", "kh:verifiedOn", "kh:provider"}
    level = props.get("kh:electronicLevel", [])
    verified = props.get("kh:verifiedOn", [])
    return {
        "service_id": next(iter(props.get("kh:serviceId", [])), None),
        "kind": "task"
        if any(t.get("iri", "").endswith("#Task") for t in props.get("rdf:type", []))
        else "service",
        "provider": [shown(v, lang, link) for v in props.get("kh:provider", [])],
        "e_level": shown(level[0], lang, link)["text"] if level else None,
        "verified": shown(verified[0], lang, link) if verified else None,
        "chain": legal_chain(steps, link),
        "sections": sections,
        "parts": parts,
        "offices_count": len(parts["office"]),
        "parent": parent,
        "other": rows(props, lang, link, skip=used, formats=formats),
        "auditor": auditor is not None,
        "source": [source_of(s) for s in props.get("kh:sourceRow", [])] if auditor else [],
    }
