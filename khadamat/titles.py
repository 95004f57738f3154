"""Title tokens for duplicate detection: what two service titles have in common, beyond spelling.

The loader stores, for every service title, its tokens (`kh:titleToken`) so that plain SPARQL can
score the overlap of two titles on any engine. Agencies write the same service as «صدور پروانه
کسب», «اعطای مجوز کسب» or «صدور پروانه‌های کسب»: the tokens of all three are the same. The words
and their synonyms are data, in ontology/thesaurus.ttl (SKOS); this module only applies them.

Steps: Persian normalization (khadamat.normalize), punctuation to spaces, آ→ا, ئ→ی, ء dropped, thesaurus
phrases (up to four words, longest first, also typed without spaces), plural suffixes ها/های
and, on stems of four letters or more, ان/ین/ات and گان→ه (so «ایران», «زمین», «حیات» stay whole;
a word the rule would spoil goes into the thesaurus, which is looked up first), then dropped words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import pyoxigraph as ox

from khadamat.namespaces import KHC, SKOS
from khadamat.normalize import normalize_text
from khadamat.resources import data_path

THESAURUS_FILE = "thesaurus.ttl"
ACTIONS = KHC + "title-actions"
STOPWORDS = KHC + "title-stopwords"
MAX_PHRASE = 4
MIN_DROP_TWO = 5  # a title of 3 tokens inside one of 5 scores 0.6
MAX_SUBKEY_TOKENS = 12  # C(12, 2) = 66 keys; longer titles get drop-one keys only
_NOT_A_LETTER = re.compile(r"[^\w]+", re.UNICODE)
# (suffix, replacement, shortest stem left): «ایران», «زمین», «حیات» keep their endings.
_PLURAL_RULES = (
    ("هایی", "", 3),
    ("های", "", 3),
    ("ها", "", 3),
    ("ویان", "و", 3),  # دانشجویان → دانشجو
    ("گان", "ه", 3),  # نمایندگان → نماینده
    ("ان", "", 4),
    ("ین", "", 4),
    ("ات", "", 4),
)


def canonical(text: str) -> str:
    """The form a single term is compared in: normalized, آ→ا, ئ→ی, ء dropped, no spaces."""
    return _fold(normalize_text(text)).replace(" ", "")


def _fold(text: str) -> str:
    # Spellings normalize_text keeps apart but titles use interchangeably.
    return text.replace("آ", "ا").replace("ئ", "ی").replace("ء", "").replace("_", " ")


@dataclass(frozen=True)
class Thesaurus:
    """Labels (as word tuples) → canonical token; dropped words; action tokens."""

    phrases: dict[tuple[str, ...], str]
    stopwords: frozenset[str]
    actions: frozenset[str]

    def lookup(self, word: str) -> str | None:
        return self.phrases.get((word,))


def _words(text: str) -> list[str]:
    return [w for w in _NOT_A_LETTER.sub(" ", _fold(normalize_text(text))).split(" ") if w]


def _members(store: ox.Store, collection: str) -> set[ox.NamedNode]:
    member = ox.NamedNode(SKOS + "member")
    return {q.object for q in store.quads_for_pattern(ox.NamedNode(collection), member, None)}


def parse_thesaurus(path: Path) -> Thesaurus:
    """Read the SKOS file: every fa label of a concept maps to the concept's canonical token."""
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    stop_concepts = _members(store, STOPWORDS)
    action_concepts = _members(store, ACTIONS)
    phrases: dict[tuple[str, ...], str] = {}
    stopwords: set[str] = set()
    actions: set[str] = set()
    for pred in (SKOS + "prefLabel", SKOS + "altLabel"):
        for quad in store.quads_for_pattern(None, ox.NamedNode(pred), None):
            label = quad.object
            if not isinstance(label, ox.Literal) or label.language != "fa":
                continue
            words = tuple(_words(label.value))
            if not words:
                continue
            if quad.subject in stop_concepts:
                stopwords.add(" ".join(words))
                continue
            pref = _pref_label(store, quad.subject)
            token = canonical(pref)
            phrases[words] = token
            phrases.setdefault(("".join(words),), token)  # the compound typed without spaces
            if quad.subject in action_concepts:
                actions.add(token)
    return Thesaurus(phrases, frozenset(stopwords), frozenset(actions))


def _pref_label(store: ox.Store, concept: ox.NamedNode | ox.BlankNode) -> str:
    for quad in store.quads_for_pattern(concept, ox.NamedNode(SKOS + "prefLabel"), None):
        if isinstance(quad.object, ox.Literal) and quad.object.language == "fa":
            return quad.object.value
    raise ValueError(f"thesaurus concept {concept} has no skos:prefLabel@fa")


@lru_cache(maxsize=1)
def thesaurus() -> Thesaurus:
    """The project thesaurus, read once per process from ontology/thesaurus.ttl."""
    return parse_thesaurus(data_path("ontology") / THESAURUS_FILE)


def _strip_plural(word: str) -> str:
    """Regular plural suffixes: ها/های/هایی, then گان→ه, ان/ین/ات on stems long enough to be safe."""
    for suffix, replacement, min_stem in _PLURAL_RULES:
        if word.endswith(suffix) and len(word) - len(suffix) >= min_stem:
            return word[: -len(suffix)] + replacement
    return word


def _split_compound(word: str, th: Thesaurus) -> list[str] | None:
    # «ومناطق»: the conjunction typed against the next word.
    if word.startswith("و") and (rest := th.lookup(word[1:])):
        return [rest]
    # «صدورگواهی»: two thesaurus words typed without the space between them.
    for i in range(2, len(word) - 1):
        left, right = th.lookup(word[:i]), th.lookup(word[i:])
        if left and right:
            return [left, right]
    return None


def _word_token(word: str, th: Thesaurus) -> list[str]:
    if word in th.stopwords:
        return []
    if found := th.lookup(word):
        return [found]
    if word.endswith(("ای", "وی")) and (word[:-1] in th.stopwords or th.lookup(word[:-1])):
        # The ezafe after a long vowel: «تقاضای», «اعطای» are «تقاضا», «اعطا» before a noun.
        return _word_token(word[:-1], th)
    stem = _strip_plural(word)
    if stem != word:
        return [th.lookup(stem) or stem]
    return _split_compound(word, th) or [word]


def title_tokens(title: str) -> list[str]:
    """Distinct canonical tokens of a title, in order of appearance (written as kh:titleToken)."""
    th = thesaurus()
    words = _words(title)
    seen: dict[str, None] = {}
    i = 0
    while i < len(words):
        for size in range(min(MAX_PHRASE, len(words) - i), 1, -1):
            token = th.phrases.get(tuple(words[i : i + size]))
            if token:
                seen.setdefault(token, None)
                i += size
                break
        else:
            for token in _word_token(words[i], th):
                seen.setdefault(token, None)
            i += 1
    return list(seen)


def title_key(tokens: Iterable[str]) -> str:
    """The token set as one string (sorted, space-separated): equal sets have equal keys."""
    return " ".join(sorted(set(tokens)))


def title_subkeys(tokens: Iterable[str]) -> list[str]:
    """Keys of the token set without one of its words, or without two (sets of MIN_DROP_TWO to
    MAX_SUBKEY_TOKENS tokens), written as kh:titleSubKey. Only words that name no action are
    left out, so a title whose kh:titleKey is another's kh:titleSubKey is that title plus one or
    two words and the same actions.

    Stored keys let SPARQL find such pairs by joining stored strings, where scoring every pair of
    titles that share a word is quadratic (50,000 generated services share words by the million).
    """
    words = sorted(set(tokens))
    droppable = [w for w in words if w not in thesaurus().actions]
    keys: list[str] = []
    if len(words) >= 2:
        keys += [" ".join(w for w in words if w != d) for d in droppable]
    if MIN_DROP_TWO <= len(words) <= MAX_SUBKEY_TOKENS:
        keys += [" ".join(w for w in words if w not in pair) for pair in combinations(droppable, 2)]
    return keys


def action_tokens(tokens: list[str]) -> set[str]:
    """The tokens that name an action (khc:title-actions)."""
    return set(tokens) & thesaurus().actions
