"""The search page's extra filters: channel, family (life event) and province of each card item.

The browse index (catalog_index.py) holds the filters the JSON API had first (agency, audience,
electronic level, dates). These three are read by one query (queries/index-facets.rq) once per
index — that is, once per store generation — and kept beside it, so that a page of results
never runs a query per row. Values are kept as the graph has them: concept IRIs for channels
and life events (their notation is the filter value, `counter`, `business`), the province's
Persian name as written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from khadamat.api import sparql_files
from khadamat.api.catalog_index import CatalogIndex, Item
from khadamat.api.deps import select
from khadamat.api.views import local_name

from khadamat import formatting

# Facet name → the prefix of its concepts' local names (khc:channel-counter → counter).
CONCEPT_PREFIXES = {"channel": "channel-", "family": "life-event-"}
FACETS = ("channel", "family", "province")


@dataclass
class Facets:
    """{facet: {item IRI: values}} and the concept IRI of each notation (for its label)."""

    values: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    concepts: dict[str, dict[str, str]] = field(default_factory=dict)

    def of(self, facet: str, item: Item) -> set[str]:
        return self.values.get(facet, {}).get(item.iri, set())

    def narrow(self, items: list[Item], wanted: dict[str, str | None]) -> list[Item]:
        """The items having every wanted facet value (a facet asked as None or "" is not a filter)."""
        asked = {f: v for f, v in wanted.items() if v}
        return [i for i in items if all(v in self.of(f, i) for f, v in asked.items())]

    def options(self, facet: str, items: Iterable[Item], lang: str) -> list[dict[str, Any]]:
        """The values of a facet among `items`, with their label and count, most frequent first."""
        counts = Counter(v for i in items for v in self.of(facet, i))
        concepts = self.concepts.get(facet, {})
        out = [
            {
                "value": value,
                "label": formatting.label(concepts[value], lang) or value if value in concepts else value,
                "count": count,
            }
            for value, count in counts.items()
        ]
        return sorted(out, key=lambda o: (-o["count"], o["label"]))


def _fold(rows: list[dict[str, Any]]) -> Facets:
    values: dict[str, dict[str, set[str]]] = {f: defaultdict(set) for f in FACETS}
    concepts: dict[str, dict[str, str]] = {f: {} for f in CONCEPT_PREFIXES}
    for row in rows:
        facet, term = row["facet"].value, row["value"]
        value = term.value
        if facet in CONCEPT_PREFIXES:
            value = local_name(term.value).removeprefix(CONCEPT_PREFIXES[facet])
            concepts[facet][value] = term.value
        values[facet][row["item"].value].add(value)
    return Facets({f: dict(v) for f, v in values.items()}, concepts)


async def facets_of(request: Request, index: CatalogIndex) -> Facets:
    """The facets of the items of `index`, read once per index (kept on the app's state)."""
    state = request.app.state
    kept = getattr(state, "service_facets", None)
    if kept is not None and kept[0] is index:
        return kept[1]
    facets = _fold(await select(request, sparql_files.text("index-facets")))
    state.service_facets = (index, facets)
    return facets
