"""Shared helpers of the query tests (no tests here): a real store holding a Turtle fixture.

Fixtures carry no kh:titleToken: like the loader, `with_title_tokens` derives them from each
card item's dct:title with khadamat.titles.title_tokens, so tests exercise the real tokenizer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox

from khadamat.config import Settings
from khadamat.namespaces import DCT, KH, RDF
from khadamat.normalize import normalize_text
from khadamat.output import plain
from khadamat.querylib import resolve, run_query
from khadamat.store import OxigraphStore, open_store
from khadamat.titles import title_key, title_subkeys, title_tokens

FIXTURES = Path(__file__).parent / "fixtures" / "queries"
BASE = "https://w3id.org/khadamat/id/"
ID = BASE
CARD_ITEM = KH + "CardItem"


def with_title_tokens(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples plus the title triples the loader writes for each kh:CardItem: kh:titleToken,
    kh:normalizedTitle, kh:titleKey and kh:titleSubKey."""
    items = {t.subject for t in triples if t.predicate.value == RDF + "type" and t.object.value == CARD_ITEM}
    titles = [t for t in triples if t.subject in items and t.predicate.value == DCT + "title"]
    tokens = [
        ox.Triple(t.subject, ox.NamedNode(KH + "titleToken"), ox.Literal(token))
        for t in titles
        for token in title_tokens(t.object.value)
    ]
    normalized = [
        ox.Triple(t.subject, ox.NamedNode(KH + "normalizedTitle"), ox.Literal(normalize_text(t.object.value)))
        for t in titles
    ]
    keys = [
        ox.Triple(
            t.subject, ox.NamedNode(KH + "titleKey"), ox.Literal(title_key(title_tokens(t.object.value)))
        )
        for t in titles
    ]
    subkeys = [
        ox.Triple(t.subject, ox.NamedNode(KH + "titleSubKey"), ox.Literal(key))
        for t in titles
        for key in title_subkeys(title_tokens(t.object.value))
    ]
    return triples + tokens + normalized + keys + subkeys


def fixture_store(tmp_path: Path, *names: str) -> OxigraphStore:
    """A store on disk with the ontology (thesaurus included) and the named fixtures loaded."""
    store = open_store(Settings.from_env(tmp_path / "store", BASE))
    graphs = {}
    for name in names:
        triples = list(ox.parse(path=str(FIXTURES / name), format=ox.RdfFormat.TURTLE))
        graphs[ox.NamedNode(BASE + "graph/test/" + Path(name).stem)] = with_title_tokens(
            [q.triple if isinstance(q, ox.Quad) else q for q in triples]
        )
    store.replace_graphs(graphs)
    return store


def short(value: object) -> object:
    """An IRI under the base without the base, other values as plain Python values."""
    value = plain(value)
    return value[len(ID) :] if isinstance(value, str) and value.startswith(ID) else value


def rows(
    store: OxigraphStore,
    name: str,
    params: Mapping[str, str] | None = None,
    cols: tuple[str, ...] | None = None,
) -> list[tuple[object, ...]]:
    """The rows of a library query as tuples of short values, in the query's order."""
    result = run_query(store, resolve(name), params or {})
    if cols is None:
        return [tuple(short(v) for v in r.values()) for r in result]
    return [tuple(short(r.get(c)) for c in cols) for r in result]
