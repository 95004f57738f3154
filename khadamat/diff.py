"""What changed in the catalog between two states: services added, removed, retitled, moved
between agencies, service-ID changes, card fields changed, findings fixed and new — per agency.

`compare(old, new)` takes two stores and returns data (a `CatalogDiff`), so that `khadamat diff`,
the API and the evaluation reports of later issues all print the same facts. `open_side` turns
what a user names into a store: a version of the history (`v000012`), a store folder, or an
export file (TriG / N-Quads).

Services are matched across the two sides in this order: the same node (IRI); then, among the
nodes left over, the same service ID under another agency (moved); then the same agency and the
same normalized title under another ID (ID changed); what is left is added or removed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat

from khadamat import history
from khadamat.config import Settings
from khadamat.iris import Minter
from khadamat.namespaces import DCT, KH, PREFIXES, RDF, RDFS, SKOS
from khadamat.store import OxigraphStore, Store, StoreError, open_store

KINDS = (
    "added",
    "removed",
    "retitled",
    "moved",
    "id-changed",
    "field-changed",
    "finding-fixed",
    "finding-new",
)
COLUMNS = (
    "agency",
    "change",
    "service_id",
    "title",
    "field",
    "field_fa",
    "old",
    "new",
    "message",
    "message_fa",
)
TABLE_COLUMNS = COLUMNS[:8]  # the messages of findings are long: JSON and CSV carry them

_TYPE = NamedNode(RDF + "type")
_CARD_TYPES = {NamedNode(KH + "Service"), NamedNode(KH + "Task")}
_TITLE = NamedNode(DCT + "title")
_SERVICE_ID = NamedNode(KH + "serviceId")
_NORMALIZED_TITLE = NamedNode(KH + "normalizedTitle")
# Written by the loader from other fields (or for traceability): a change shows in its source field.
_DERIVED = {
    NamedNode(KH + n) for n in ("sourceRow", "titleToken", "titleKey", "titleSubKey", "normalizedTitle")
}
_EVIDENCE = NamedNode(KH + "requiresEvidence")
RDF_FILE_FORMATS = {".trig": RdfFormat.TRIG, ".nq": RdfFormat.N_QUADS, ".nquads": RdfFormat.N_QUADS}


class SideError(ValueError):
    """A side of a diff that cannot be read: the message says which and why."""


@dataclass
class Card:
    """A service or task as one side holds it."""

    iri: NamedNode
    agency: str
    service_id: str | None
    title: str
    normalized_title: str
    fields: dict[NamedNode, frozenset[str]]


@dataclass
class CatalogDiff:
    """Every change, one row each (see COLUMNS), plus counts per agency and kind."""

    old: str
    new: str
    changes: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, int]]:
        counts: dict[str, Counter] = defaultdict(Counter)
        for row in self.changes:
            counts[row["agency"]][row["change"]] += 1
        return {
            agency: {k: counts[agency][k] for k in KINDS if counts[agency][k]} for agency in sorted(counts)
        }

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [row for row in self.changes if row["change"] == kind]

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "summary": self.summary(), "changes": self.changes}


# Reading one side ---------------------------------------------------------------------------------
def _short(term: Any) -> str:
    """A value as a person reads it: a literal's text, an IRI compacted with the usual prefixes."""
    if isinstance(term, Literal):
        return term.value
    if isinstance(term, NamedNode):
        for prefix, iri in PREFIXES.items():
            if term.value.startswith(iri):
                return f"{prefix}:{term.value[len(iri) :]}"
        return term.value
    return str(term)


def cards(store: Store) -> dict[NamedNode, Card]:
    """Every service and task of every agency graph, with its card fields as sets of values."""
    prefix = store.minter.agency_graph("x").value[: -len("x")]
    out: dict[NamedNode, Card] = {}
    for graph in store.named_graphs():
        if not graph.value.startswith(prefix):
            continue
        by_subject: dict[Any, list[Quad]] = defaultdict(list)
        for quad in store.quads(graph):
            by_subject[quad.subject].append(quad)
        titles = {s: q.object.value for s, qs in by_subject.items() for q in qs if q.predicate == _TITLE}
        for subject, quads in by_subject.items():
            if not any(q.predicate == _TYPE and q.object in _CARD_TYPES for q in quads):
                continue
            values: dict[NamedNode, set[str]] = defaultdict(set)
            for q in quads:
                if q.predicate in _DERIVED:
                    continue
                own = subject.value + "/"
                if q.predicate == _EVIDENCE and q.object in titles:
                    shown = titles[q.object]
                elif isinstance(q.object, NamedNode) and q.object.value.startswith(own):
                    shown = "…/" + q.object.value[len(own) :]  # a node of the card itself (delegation)
                else:
                    shown = _short(q.object)
                values[q.predicate].add(shown)
            first = {q.predicate: q.object.value for q in quads if isinstance(q.object, Literal)}
            out[subject] = Card(
                iri=subject,
                agency=graph.value[len(prefix) :],
                service_id=first.get(_SERVICE_ID),
                title=first.get(_TITLE, ""),
                normalized_title=first.get(_NORMALIZED_TITLE, first.get(_TITLE, "")),
                fields={p: frozenset(v) for p, v in values.items()},
            )
    return out


def property_labels(store: Store) -> dict[NamedNode, tuple[str, str]]:
    """Property -> (English label, Persian label) from the ontology graph."""
    labels: dict[NamedNode, dict[str, str]] = defaultdict(dict)
    query = f"SELECT ?p ?l WHERE {{ ?p <{RDFS}label>|<{SKOS}prefLabel> ?l }}"
    for row in store.select(query):
        label = row["l"]
        if isinstance(label, Literal) and label.language in {"en", "fa"}:
            labels[row["p"]].setdefault(label.language, label.value)
    return {p: (ls.get("en", _short(p)), ls.get("fa", ls.get("en", _short(p)))) for p, ls in labels.items()}


# Comparing ------------------------------------------------------------------------------------------
def _row(agency: str, change: str, card: Card, **rest: Any) -> dict[str, Any]:
    row = {c: None for c in COLUMNS}
    row.update(agency=agency, change=change, service_id=card.service_id, title=card.title)
    row.update(rest)
    return row


def match(
    old: dict[NamedNode, Card], new: dict[NamedNode, Card]
) -> tuple[list[tuple[Card, Card]], list[Card], list[Card]]:
    """Pairs of the same service on both sides, then what only the old and only the new side hold."""
    pairs = [(old[iri], new[iri]) for iri in sorted(old.keys() & new.keys(), key=str)]
    gone = [old[i] for i in sorted(old.keys() - new.keys(), key=str)]
    came = [new[i] for i in sorted(new.keys() - old.keys(), key=str)]
    for key in (lambda c: c.service_id, lambda c: (c.agency, c.normalized_title)):
        index: dict[Any, Card] = {}
        for card in came:
            k = key(card)
            if k and k != (card.agency, "") and k not in index:
                index[k] = card
        still_gone = []
        for card in gone:
            partner = index.pop(key(card), None) if key(card) else None
            if partner is None:
                still_gone.append(card)
            else:
                pairs.append((card, partner))
                came.remove(partner)
        gone = still_gone
    return pairs, gone, came


def compare(
    old: Store,
    new: Store,
    *,
    old_name: str = "old",
    new_name: str = "new",
    findings: bool = True,
    on_date: dt.date | None = None,
    agency: str | None = None,
) -> CatalogDiff:
    """Every change from `old` to `new` (only `agency`'s rows when given)."""
    result = CatalogDiff(old_name, new_name)
    labels = property_labels(new) | property_labels(old)
    pairs, gone, came = match(cards(old), cards(new))
    rows = result.changes
    rows += [_row(c.agency, "removed", c) for c in gone]
    rows += [_row(c.agency, "added", c) for c in came]
    for before, after in pairs:
        if before.agency != after.agency:
            rows.append(_row(after.agency, "moved", after, old=before.agency, new=after.agency))
        if before.service_id != after.service_id:
            rows.append(_row(after.agency, "id-changed", after, old=before.service_id, new=after.service_id))
        if before.title != after.title:
            rows.append(_row(after.agency, "retitled", after, old=before.title, new=after.title))
        for predicate in sorted(before.fields.keys() | after.fields.keys(), key=str):
            if predicate in (_TITLE, _SERVICE_ID, NamedNode(KH + "provider")):
                continue  # reported above as retitled / id-changed / moved
            was, now = before.fields.get(predicate, frozenset()), after.fields.get(predicate, frozenset())
            if was != now:
                en, fa = labels.get(predicate, (_short(predicate), _short(predicate)))
                rows.append(
                    _row(
                        after.agency,
                        "field-changed",
                        after,
                        field=en,
                        field_fa=fa,
                        old="; ".join(sorted(was)) or None,
                        new="; ".join(sorted(now)) or None,
                    )
                )
    if findings:
        renamed = {before.iri.value: after.iri.value for before, after in pairs}
        titles = {c.iri.value: c for c in [*gone, *came, *(a for _, a in pairs)]}
        rows += finding_changes(old, new, on_date, renamed, titles)
    if agency is not None:
        result.changes = [r for r in rows if r["agency"] == agency]
    result.changes.sort(
        key=lambda r: (
            r["agency"] or "",
            KINDS.index(r["change"]),
            r["service_id"] or "",
            r["title"] or "",
            r["field"] or "",
        )
    )
    return result


def finding_changes(
    old: Store,
    new: Store,
    on_date: dt.date | None,
    renamed: dict[str, str] | None = None,
    cards_by_iri: dict[str, Card] | None = None,
) -> list[dict[str, Any]]:
    """Findings of the shapes that the new side no longer has (fixed) or did not have before (new).

    A finding on a service that moved or changed its ID is the same finding on both sides: its
    old focus is read as the new one (`renamed`), so only real changes are reported."""
    from khadamat.validation import validate
    from khadamat.validation.report import message, rule_name, severity_name

    renamed = renamed or {}
    cards_by_iri = cards_by_iri or {}
    day = on_date or dt.date.today()

    def key(finding: Any, rename: bool) -> tuple[str, ...]:
        _, shape, path, component = finding.key()
        focus = finding.focus.value if isinstance(finding.focus, NamedNode) else str(finding.focus)
        return (renamed.get(focus, focus) if rename else focus, shape, path, component)

    before = {key(f, True): f for f in validate(old, on_date=day).findings}
    after = {key(f, False): f for f in validate(new, on_date=day).findings}
    rows = []
    for kind, side, keys in (
        ("finding-fixed", before, before.keys() - after.keys()),
        ("finding-new", after, after.keys() - before.keys()),
    ):
        for k in sorted(keys):
            f = side[k]
            card = cards_by_iri.get(k[0])
            rows.append(
                {
                    **{c: None for c in COLUMNS},
                    "agency": f.agency or "",
                    "change": kind,
                    "service_id": f.service_id,
                    "title": card.title if card else _short(f.focus),
                    "field": f"{severity_name(f.severity)} {rule_name(f.shape)}",
                    "field_fa": f.path.text() if f.path else None,
                    "message": message(f, "en"),
                    "message_fa": message(f, "fa"),
                }
            )
    return rows


# Naming a side ------------------------------------------------------------------------------------
def memory_store(minter: Minter, quads: Iterable[Quad]) -> OxigraphStore:
    """An in-memory store of `quads`, with the ontology and corpus added when they are missing."""
    store = OxigraphStore(None, minter)
    store.add_quads(quads)
    present = set(store.named_graphs())
    if minter.ontology_graph not in present or minter.corpus_graph not in present:
        store.ensure_reference_graphs()
    return store


def read_dataset(path: Path) -> list[Quad]:
    """The quads of a TriG / N-Quads file, or SideError naming the file, line and column."""
    fmt = RDF_FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SideError(
            f"{path}: expected a TriG (.trig) or N-Quads (.nq) export, a store folder or a version id"
        )
    try:
        return list(ox.parse(path=str(path), format=fmt))
    except SyntaxError as exc:
        raise SideError(f"{path}: not valid {fmt.name}: {exc}") from None
    except OSError as exc:
        raise SideError(f"{path}: cannot read it: {exc.strerror or exc}") from None


def version_store(store: Store, store_dir: Path, version_id: str) -> OxigraphStore:
    """The catalog as it was at `version_id`: every graph some version wrote, as of that version,
    and the graphs no version ever wrote (loaded before the history began) as they are now."""
    history.version(store_dir, version_id, store)  # HistoryError when there is no such version
    every_written = {g.value for g in history.written_graphs(store_dir, store=store)}
    pg = store.minter.provenance_graph
    kept = [g for g in store.named_graphs() if g.value not in every_written and g != pg]
    written = history.written_graphs(store_dir, version_id, store)
    content = history.graphs_at(store_dir, version_id, written, store)
    quads = [q for g in kept for q in store.quads(g)]
    quads += [Quad(t.subject, t.predicate, t.object, g) for g, triples in content.items() for t in triples]
    return memory_store(store.minter, quads)


def open_side(spec: str, settings: Settings, current: Store | None = None) -> OxigraphStore:
    """A version id (in the store of `settings`; `current` if already open), a store folder or an
    export file, as a store to compare. SideError says what is wrong with it."""
    minter = Minter(settings.base)
    if history.is_version_id(spec):
        own = current is None
        try:
            store = current or open_store(settings, read_only=True)
        except StoreError as exc:
            raise SideError(f"{spec}: {exc}") from None
        try:
            return version_store(store, settings.store_dir, spec)
        except history.HistoryError as exc:
            raise SideError(str(exc)) from None
        finally:
            if own:
                store.close()
    path = Path(spec)
    if path.is_dir():
        try:
            return OxigraphStore(path, minter, read_only=True)
        except StoreError as exc:
            raise SideError(f"{spec}: not a store folder ({exc})") from None
    if path.is_file():
        return memory_store(minter, read_dataset(path))
    raise SideError(
        f"{spec}: no such version, store folder or file "
        "(expected v000012, a store folder, or a .trig/.nq export)"
    )


def diff_sides(
    a: str,
    b: str,
    settings: Settings,
    *,
    findings: bool = True,
    on_date: dt.date | None = None,
    agency: str | None = None,
) -> CatalogDiff:
    """`khadamat diff A B` as data: both sides opened, compared, closed."""
    sides: list[OxigraphStore] = []
    try:
        for spec in (a, b):
            sides.append(open_side(spec, settings))
        return compare(
            sides[0], sides[1], old_name=a, new_name=b, findings=findings, on_date=on_date, agency=agency
        )
    finally:
        for side in sides:
            side.close()


__all__: Sequence[str] = ("CatalogDiff", "SideError", "cards", "compare", "diff_sides", "match", "open_side")
