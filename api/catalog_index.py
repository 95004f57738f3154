"""The browse index: card items and agencies held in memory by each worker.

Why: the server's store is read-only, so what it holds cannot change while a worker lives, and
listing 50 000 services with filters, a title search and a stable order is far faster in
memory than as one SPARQL query per request (measured: ~25 s per request with pyoxigraph 0.5,
whose planner does not see bound parameters). Each worker reads the catalog once (index-items.rq,
index-values.rq, agencies.rq: scans without joins), off the event loop, on first use.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from khadamat.api import sparql_files
from khadamat.api.deps import store_of
from khadamat.api.execution import run_limited
from khadamat.api.views import local_name

from khadamat.namespaces import KH
from khadamat.store import Store

INDEX_TIMEOUT = 600.0  # seconds: reading a national catalog once may take a while


@dataclass
class Item:
    """One service or task, with the fields the list filters and shows."""

    iri: str
    kind: str  # "service" | "task"
    title: str
    service_id: str | None = None
    normalized_title: str = ""
    provider: str | None = None
    e_level: str | None = None  # notation: none | information | online
    verified_on: str | None = None  # ISO date
    audiences: set[str] = field(default_factory=set)  # notations: G2C …


@dataclass
class Agency:
    iri: str
    code: str
    name: str | None
    kind: str | None
    parents: list[str] = field(default_factory=list)
    unit_of: str | None = None


@dataclass
class CatalogIndex:
    items: list[Item]  # ordered by title, then IRI
    by_iri: dict[str, Item]
    agencies: dict[str, Agency]
    children: dict[str, list[str]]
    by_provider: dict[str, list[Item]] = field(default_factory=dict)  # each in index order
    words: dict[str, list[Item]] = field(default_factory=dict)  # title word -> items, in index order
    position: dict[str, int] = field(default_factory=dict)

    def below(self, agency: str) -> set[str]:
        """The agency and every agency under it (affiliates, units, their units …)."""
        seen, todo = {agency}, [agency]
        while todo:
            for child in self.children.get(todo.pop(), []):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    def _candidates(self, agency: str | None, affiliates: bool, text: str | None) -> list[Item]:
        """A small superset to filter: the agency's items, or items with a word holding the text."""
        pools: list[list[Item]] = []
        if agency:
            providers = self.below(agency) if affiliates else {agency}
            pools.append(self._ordered(i for p in providers for i in self.by_provider.get(p, [])))
        if text:
            first = max(text.split(" "), key=len)
            pools.append(self._ordered(i for w, items in self.words.items() if first in w for i in items))
        return min(pools, key=len) if pools else self.items

    def _ordered(self, items: Any) -> list[Item]:
        unique = {i.iri: i for i in items}
        return sorted(unique.values(), key=lambda i: self.position[i.iri])

    def select(
        self,
        agency: str | None = None,
        affiliates: bool = True,
        audience: str | None = None,
        e_level: str | None = None,
        since: str | None = None,
        text: str | None = None,
        valid_since: str | None = None,
        valid: bool | None = None,
    ) -> list[Item]:
        """Items matching every given filter, in index order.

        `valid`: the card was (True) or was not (False) verified on or after `valid_since`.
        """
        providers = (self.below(agency) if affiliates else {agency}) if agency else None
        return [
            i
            for i in self._candidates(agency, affiliates, text)
            if (providers is None or i.provider in providers)
            and (audience is None or audience in i.audiences)
            and (e_level is None or i.e_level == e_level)
            and (since is None or (i.verified_on is not None and i.verified_on >= since))
            and (
                valid is None or valid == (i.verified_on is not None and i.verified_on >= (valid_since or ""))
            )
            and (text is None or text in i.normalized_title)
        ]


def _notation(iri: str, prefix: str) -> str:
    return local_name(iri).removeprefix(prefix)


def _items(store: Store) -> dict[str, Item]:
    items: dict[str, Item] = {}
    for row in store.raw_query(sparql_files.text("index-items")):
        iri = row["item"].value
        if iri not in items:
            kind = "task" if row["class"].value == KH + "Task" else "service"
            items[iri] = Item(iri, kind, row["title"].value)
    setters = {
        KH + "serviceId": lambda i, o: setattr(i, "service_id", o.value),
        KH + "normalizedTitle": lambda i, o: setattr(i, "normalized_title", o.value),
        KH + "provider": lambda i, o: setattr(i, "provider", o.value),
        KH + "electronicLevel": lambda i, o: setattr(i, "e_level", _notation(o.value, "e-level-")),
        KH + "verifiedOn": lambda i, o: setattr(i, "verified_on", o.value),
        KH + "audience": lambda i, o: i.audiences.add(_notation(o.value, "audience-")),
    }
    for row in store.raw_query(sparql_files.text("index-values")):
        item = items.get(row["item"].value)
        if item is not None:
            setters[row["p"].value](item, row["o"])
    return items


def _agencies(store: Store) -> dict[str, Agency]:
    agencies: dict[str, Agency] = {}
    for row in store.raw_query(sparql_files.text("agencies")):
        iri = row["agency"].value
        agency = agencies.get(iri)
        if agency is None:
            kind = row["kind"]
            agency = agencies[iri] = Agency(
                iri,
                row["code"].value,
                row["name"].value if row["name"] is not None else None,
                _notation(kind.value, "agency-kind-") if isinstance(kind, ox.NamedNode) else None,
                unit_of=row["unitOf"].value if row["unitOf"] is not None else None,
            )
        parent = row["parent"]
        if parent is not None and parent.value not in agency.parents and parent.value != iri:
            agency.parents.append(parent.value)
    return agencies


def build(store: Store) -> CatalogIndex:
    """Read the catalog once (blocking: call it in a worker thread)."""
    items = _items(store)
    ordered = sorted(items.values(), key=lambda i: (i.title, i.iri))
    agencies = _agencies(store)
    children: dict[str, list[str]] = defaultdict(list)
    for agency in sorted(agencies.values(), key=lambda a: a.code):
        for parent in agency.parents:
            children[parent].append(agency.iri)
    by_provider: dict[str, list[Item]] = defaultdict(list)
    words: dict[str, list[Item]] = defaultdict(list)
    for item in ordered:
        if item.provider:
            by_provider[item.provider].append(item)
        for word in set(item.normalized_title.split(" ")):
            words[word].append(item)
    position = {item.iri: n for n, item in enumerate(ordered)}
    return CatalogIndex(ordered, items, agencies, dict(children), dict(by_provider), dict(words), position)


async def _build(store: Store) -> CatalogIndex:
    return await run_limited(lambda: build(store), INDEX_TIMEOUT)


def start(app: Any, store: Store) -> None:
    """Begin building the index in the background (at worker start-up)."""
    app.state.index_task = asyncio.ensure_future(_build(store))


async def index_of(request: Request) -> CatalogIndex:
    """This worker's index; the first requests wait for it to be built."""
    state = request.app.state
    task = getattr(state, "index_task", None)
    if task is None or (task.done() and task.exception() is not None):
        start(request.app, store_of(request))
        task = state.index_task
    return await asyncio.shield(task)


def agency_json(index: CatalogIndex, iri: str | None) -> dict[str, Any]:
    agency = index.agencies.get(iri or "")
    if agency is None:
        return {"code": None, "iri": iri, "name": None}
    return {"code": agency.code, "iri": agency.iri, "name": agency.name}
