"""Title tokens: the variants agencies write of one title give the same tokens; different services don't.

The thesaurus (ontology/thesaurus.ttl) is the one source of truth: the tokenizer reads it, and
the duplicate queries read its notations and action collection from the ontology graph.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from khadamat.namespaces import SKOS
from khadamat.resources import data_path
from khadamat.titles import (
    THESAURUS_FILE,
    action_tokens,
    canonical,
    parse_thesaurus,
    title_key,
    title_subkeys,
    title_tokens,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("صدور پروانه کسب", "اعطای مجوز کسب"),  # مجوز/پروانه, صدور/اعطا
        ("تمدید گواهینامه رانندگی", "تجدید گواهی‌نامه رانندگی"),  # تمدید/تجدید, گواهی/گواهینامه, ZWNJ
        ("صدور کارت بازرگانی", "صدور كارت بازرگاني"),  # Arabic kaf and yeh
        ("صدور پروانه بهره‌برداری", "صدور پروانه بهره برداری"),  # ZWNJ or space
        ("صدور پروانه بهره‌برداری", "صدور پروانه بهرهبرداری"),  # or nothing
        ("صدور قبض آب", "صدور قبوض آب"),  # broken plural
        ("ثبت اختراع", "ثبت اختراعات"),  # -ات plural
        ("صدور پروانه‌های کسب", "صدور پروانه کسب"),  # -ها plural, attached by ZWNJ
        ("مجوز فعالیت شهرکها", "مجوز فعالیت شهرک"),  # -ها attached
        ("نقل و انتقال سند خودرو", "انتقال سند خودرو"),  # phrase synonym
        ("صدورگواهی پایان کار", "صدور گواهی پایان‌کار"),  # compound typed without the space
        ("صدور گواهی عدم سوء پیشینه", "صدور گواهی عدم سو پیشینه"),  # hamza
        ("ثبت تقاضای وام", "ثبت درخواست تسهیلات"),  # ezafe after a vowel, stopword, synonym
    ],
)
def test_variants_of_one_title_give_the_same_tokens(a: str, b: str) -> None:
    assert set(title_tokens(a)) == set(title_tokens(b))


def test_word_order_does_not_matter_for_the_token_set() -> None:
    assert set(title_tokens("صدور کارت ملی هوشمند")) == set(title_tokens("صدور کارت هوشمند ملی"))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("صدور پروانه کسب", "تمدید پروانه کسب"),
        ("صدور پروانه کسب", "ابطال پروانه کسب"),
        ("صدور پروانه کسب", "صدور المثنی پروانه کسب"),
    ],
)
def test_different_actions_stay_different(a: str, b: str) -> None:
    assert action_tokens(title_tokens(a)) != action_tokens(title_tokens(b))


def test_tokens_are_distinct_in_order_and_drop_function_words() -> None:
    assert title_tokens("صدور معرفی‌نامه به بانک جهت دریافت تسهیلات و تسهیلات") == [
        "صدور",
        "معرفینامه",
        "بانک",
        "تسهیلات",
    ]


def test_words_that_only_look_plural_keep_their_ending() -> None:
    assert title_tokens("اطلاعات ایران زمین") == ["اطلاعات", "ایران", "زمین"]


def test_every_notation_is_the_canonical_prefLabel() -> None:
    # The queries match kh:titleToken against skos:notation: both must be the same string.
    store = ox.Store()
    store.load(path=str(data_path("ontology") / THESAURUS_FILE), format=ox.RdfFormat.TURTLE)
    notation, pref = ox.NamedNode(SKOS + "notation"), ox.NamedNode(SKOS + "prefLabel")
    checked = 0
    for quad in store.quads_for_pattern(None, notation, None):
        if quad.object.value == "-":
            continue  # the dropped words
        labels = [
            q.object.value
            for q in store.quads_for_pattern(quad.subject, pref, None)
            if q.object.language == "fa"
        ]
        assert labels and quad.object.value == canonical(labels[0]), quad.subject
        checked += 1
    assert checked > 50


def test_each_label_maps_to_one_concept() -> None:
    th = parse_thesaurus(data_path("ontology") / THESAURUS_FILE)
    assert th.phrases[("پروانه",)] == "مجوز"
    assert th.phrases[("نقل", "و", "انتقال")] == "انتقال"
    assert {"صدور", "تمدید", "ابطال", "المثنی"} <= th.actions
    assert "درخواست" in th.stopwords


def test_keys_find_a_title_inside_another_without_a_new_action() -> None:
    short, long = title_tokens("صدور پروانه کسب"), title_tokens("اعطای مجوز کسب برای اصناف")
    assert title_key(short) in title_subkeys(long)
    renewal = title_tokens("صدور و تمدید پروانه کسب")  # adds an action: never a sub-key match
    assert title_key(short) not in title_subkeys(renewal)
    assert title_key(title_tokens("کسب پروانه صدور")) == title_key(short)


def test_no_label_maps_to_two_concepts() -> None:
    store = ox.Store()
    store.load(path=str(data_path("ontology") / THESAURUS_FILE), format=ox.RdfFormat.TURTLE)
    owners: dict[str, set[str]] = {}
    for prop in ("prefLabel", "altLabel"):
        for quad in store.quads_for_pattern(None, ox.NamedNode(SKOS + prop), None):
            if quad.object.language == "fa":
                owners.setdefault(canonical(quad.object.value), set()).add(quad.subject.value)
    assert {label: c for label, c in owners.items() if len(c) > 1} == {}
