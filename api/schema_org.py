"""schema.org `GovernmentService` markup for service pages, so that search engines read the card.

A service page carries one `<script type="application/ld+json">` block: the service's name,
identifier, provider (a `GovernmentOrganization`), serviceType (its nature and subtypes),
areaServed (Iran: every agency of the catalog is an Iranian executive agency), availableChannel
(a `ServiceChannel` per delivery channel) and isBasedOn (the IRIs of its legal basis, direct and
through its missions, as the page's legal trace shows them). The context is inline (`@vocab`
schema.org, Persian by default), so the block means the same triples offline.

The JSON sits inside an HTML script element, where the HTML parser ends the element at the first
`</script` whatever JSON thinks; so `<`, `>` and `&` are written as JSON escapes (`\\u003c`…),
which every JSON parser reads back as the same characters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from khadamat.namespaces import XSD

IRAN = {"@type": "Country", "name": "ایران", "identifier": {"@value": "IR", "@type": XSD + "string"}}
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _labels(props: Mapping[str, list[Any]], key: str) -> list[str]:
    out = []
    for item in props.get(key, []):
        if isinstance(item, dict):
            text = item.get("label") or item.get("value") or item.get("iri")
        else:
            text = str(item)
        if text and text not in out:
            out.append(text)
    return out


def government_service(
    iri: str, props: Mapping[str, list[Any]], steps: list[dict[str, Any]]
) -> dict[str, Any]:
    """The schema.org description of one service, from the page's properties and legal trace."""
    doc: dict[str, Any] = {
        "@context": {"@vocab": "https://schema.org/", "@language": "fa"},
        "@type": "GovernmentService",
        "@id": iri,
        "url": {"@id": iri},
        "name": (_labels(props, "dct:title") or [iri])[0],
        "areaServed": IRAN,
    }
    if ids := _labels(props, "kh:serviceId"):
        doc["identifier"] = {"@value": ids[0], "@type": XSD + "string"}  # a code, in no language
    providers = [p for p in props.get("kh:provider", []) if isinstance(p, dict) and "iri" in p]
    if providers:
        doc["provider"] = [
            {"@type": "GovernmentOrganization", "@id": p["iri"], "name": p.get("label") or p["iri"]}
            for p in providers
        ]
    if kinds := _labels(props, "kh:nature") + _labels(props, "kh:subtype"):
        doc["serviceType"] = kinds
    if channels := _labels(props, "kh:channel"):
        doc["availableChannel"] = [{"@type": "ServiceChannel", "name": name} for name in channels]
    bases = list(dict.fromkeys(s["node"]["iri"] for s in steps if s.get("node")))
    if bases:
        doc["isBasedOn"] = [{"@id": b} for b in bases]
    return doc


def script_json(document: Mapping[str, Any]) -> str:
    """JSON that can sit inside <script> as it is: no `</script`, `<!--` or `&` survives."""
    return json.dumps(document, ensure_ascii=False).translate(_SCRIPT_SAFE)
