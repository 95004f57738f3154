"""The browse index: card items and agencies held in memory by each worker.

Why: listing 50 000 services with filters, a title search and a stable order is far faster in
memory than as one SPARQL query per request (measured: ~25 s per request with pyoxigraph 0.5,
whose planner does not see bound parameters). Each worker reads the catalog once at start
(index-items.rq, index-values.rq, agencies.rq: scans without joins), off the event loop.

The index belongs to one store generation. When a write switches the store to a new one (an
accepted submission), the first request that reads it refreshes the index incrementally: only the
agency graphs the write replaced (the new generation's changes.json, khadamat/generations.py)
are read again, from the old generation to know what they held and from the new one for what
they hold now — milliseconds for an agency's submission instead of a full read (~20 s at 50k).
Any other change (the ontology, or too many generations in between) reads everything again in the
background while the previous index keeps serving.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from khadamat.api import sparql_files
from khadamat.api.deps import store_of
from khadamat.api.execution import run_limited
from khadamat.api.views import local_name

from khadamat import generations
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
    store: Store | None = None  # the generation it was read from (held open for the next refresh)

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


def _items(store: Store, graphs: list[ox.NamedNode] | None = None) -> dict[str, Item]:
    """The items (with their list fields) of the whole store, or of the given graphs only."""
    items: dict[str, Item] = {}
    for row in store.raw_query(sparql_files.text("index-items"), default_graph=graphs):
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
    for row in store.raw_query(sparql_files.text("index-values"), default_graph=graphs):
        item = items.get(row["item"].value)
        if item is not None:
            setters[row["p"].value](item, row["o"])
    return items


def _agencies(store: Store, graphs: list[ox.NamedNode] | None = None) -> dict[str, Agency]:
    agencies: dict[str, Agency] = {}
    for row in store.raw_query(sparql_files.text("agencies"), default_graph=graphs):
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


def _assemble(items: dict[str, Item], agencies: dict[str, Agency], store: Store | None) -> CatalogIndex:
    """The index over these items and agencies: order, tree, and the lookups the filters use."""
    ordered = sorted(items.values(), key=lambda i: (i.title, i.iri))
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
    return CatalogIndex(
        ordered, items, agencies, dict(children), dict(by_provider), dict(words), position, store
    )


def build(store: Store) -> CatalogIndex:
    """Read the catalog once (blocking: call it in a worker thread)."""
    return _assemble(_items(store), _agencies(store), store)


def generation(store: Store | None) -> str | None:
    return getattr(store, "generation", None)


def changed_agency_graphs(index: CatalogIndex, store: Store) -> list[ox.NamedNode] | None:
    """The agency graphs replaced between the index's generation and `store`'s, or None when the
    index must be read again whole (another kind of graph changed, or it cannot be told)."""
    root, old, new = getattr(store, "path", None), generation(index.store), generation(store)
    if root is None or old is None or new is None:
        return None
    changed = generations.changed_since(root, new, old)
    if changed is None:
        return None
    minter = store.minter
    agency_prefix = minter.graph("agency").value + "/"
    ignored = {minter.provenance_graph.value, minter.graph("history").value}
    law_prefix = minter.graph("law").value + "/"
    if any(not (g.startswith((agency_prefix, law_prefix)) or g in ignored) for g in changed):
        return None
    return sorted((ox.NamedNode(g) for g in changed if g.startswith(agency_prefix)), key=str)


def refresh(index: CatalogIndex, store: Store, graphs: list[ox.NamedNode]) -> CatalogIndex:
    """The index for `store`, given that only `graphs` changed since `index.store` (blocking)."""
    if not graphs:
        return dataclasses.replace(index, store=store)
    assert index.store is not None
    gone_items = set(_items(index.store, graphs))
    gone_agencies = set(_agencies(index.store, graphs))
    items = {iri: i for iri, i in index.by_iri.items() if iri not in gone_items}
    items.update(_items(store, graphs))
    agencies = {iri: a for iri, a in index.agencies.items() if iri not in gone_agencies}
    agencies.update(_agencies(store, graphs))
    return _assemble(items, agencies, store)


async def _build(store: Store) -> CatalogIndex:
    return await run_limited(lambda: build(store), INDEX_TIMEOUT)


def start(app: Any, store: Store) -> None:
    """Begin building the index in the background (at worker start-up)."""
    app.state.index_task = asyncio.ensure_future(_build(store))
    app.state.index_target = generation(store)


def _follow(state: Any, store: Store) -> None:
    """Start bringing the (built) index to `store`'s generation.

    Incrementally when only agency graphs changed: the next requests wait for it (it is quick).
    Otherwise read whole in the background, the current index serving until it is ready."""
    index: CatalogIndex = state.index_task.result()
    target = generation(store)
    if index.store is store:  # a SPARQL server's store, its content moved: read whole, requests
        # waiting for it (an answer from the old index would be cached under the new marker)
        state.index_task, state.index_target = asyncio.ensure_future(_build(store)), target
        return
    graphs = changed_agency_graphs(index, store)
    if graphs is not None:
        state.index_task = asyncio.ensure_future(
            run_limited(lambda: refresh(index, store, graphs), INDEX_TIMEOUT)
        )
        state.index_target = target
        return
    if getattr(state, "index_rebuild_target", None) == target:
        return  # already being read
    rebuild = asyncio.ensure_future(_build(store))
    state.index_rebuild_target = target

    def swap(done: asyncio.Future) -> None:
        if not done.cancelled() and done.exception() is None and state.index_rebuild_target == target:
            state.index_task, state.index_target = done, target

    rebuild.add_done_callback(swap)


async def index_of(request: Request) -> CatalogIndex:
    """This worker's index for the store generation the request reads.

    The first requests wait for it to be built. After a write, the first request that reads the
    new generation starts the refresh (`_follow`) and the requests arriving meanwhile share it.
    A request still reading an older generation is answered from the index as it is."""
    state = request.app.state
    store = store_of(request)
    for _ in range(3):  # at most a refresh or two behind a burst of writes
        task = getattr(state, "index_task", None)
        if task is None or (task.done() and task.exception() is not None):
            start(request.app, store)
            task = state.index_task
        if task.done() and state.index_target != generation(store) and _is_active(store):
            _follow(state, store)
            task = state.index_task
        index = await asyncio.shield(task)
        if generation(index.store) == generation(store) or state.index_task is task:
            return index
    return index


def _is_active(store: Store) -> bool:
    """Whether `store` reads the active generation (a request reading an older one, begun before
    the last write, never takes the index back in time). A SPARQL server's store has no local
    generations: it always reads the server's current state (khadamat/live_store.py)."""
    root = getattr(store, "path", None)
    if root is None:
        return False
    active = generations.active_name(root)
    return active == generation(store) or (active is None and getattr(store, "endpoint", None) is not None)


def agency_json(index: CatalogIndex, iri: str | None) -> dict[str, Any]:
    agency = index.agencies.get(iri or "")
    if agency is None:
        return {"code": None, "iri": iri, "name": None}
    return {"code": agency.code, "iri": agency.iri, "name": agency.name}
