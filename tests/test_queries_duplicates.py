"""Each duplicate query's exact rows on tests/fixtures/queries/duplicates.ttl, in a real store.

Pairs are compared as (service, service, common parent, score) with the two services in the
order the query gives them (the smaller IRI first).
"""

from __future__ import annotations

import pytest
from test_queries_support import fixture_store, rows

from khadamat.commands.duplicates import find_duplicates
from khadamat.output import plain
from khadamat.store import OxigraphStore

D1, D2 = "agency/MIN/service/10000001000", "agency/SUB/service/40000001000"
D3 = "agency/ORG2/service/30000001000"
D5, D6 = "agency/MIN-TH/item/x5", "agency/MIN/service/10000001001"
D10, D11 = "agency/OTHER/service/90000001000", "agency/ORG1/service/20000002000"
D12, D13 = "agency/ORG1/service/20000003000", "agency/ORG2/service/30000003000"
D14, D15 = "agency/ORG2/service/30000004000", "agency/SUB/service/40000004000"
COLS = ("serviceA", "serviceB", "commonParent", "score")
SAME, SIMILAR = "عنوان یکسان — same title", "عنوان مشابه — similar title"
BASIS = "مبنا و مخاطب یکسان، عنوان مشابه — same legal basis and audience, similar title"

NEAR_DEFAULT = [
    (D5, D1, "agency/MIN", 1.0),
    (D5, D2, "agency/MIN", 1.0),
    (D1, D2, "agency/MIN", 1.0),
    (D14, D15, "agency/ORG2", 1.0),
    (D5, D6, "agency/MIN", 0.75),
    (D6, D2, "agency/MIN", 0.75),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    return fixture_store(tmp_path_factory.mktemp("dups"), "duplicates.ttl")


def test_same_title_after_normalization(store: OxigraphStore) -> None:
    # «صدور پروانه كسب» with an Arabic kaf, offered by a unit without the ID: a duplicate of MIN's.
    got = rows(store, "dup-same-title", cols=(*COLS, "reason"))
    assert got == [(D5, D1, "agency/MIN", 1.0, SAME)]


def test_near_duplicates_inside_each_family(store: OxigraphStore) -> None:
    # Not listed: d3 (تمدید, another action); d6 with d1, its parent service; the siblings d7/d8;
    # d11 with d10 (another family); d12/d13 (score 0.6 < 0.75).
    assert rows(store, "dup-near-titles", cols=COLS) == NEAR_DEFAULT


def test_rows_name_both_agencies_and_the_reason(store: OxigraphStore) -> None:
    first = rows(store, "dup-near-titles", cols=("agencyA", "titleA", "agencyB", "titleB", "reason"))[0]
    assert first == ("agency/MIN-TH", "صدور پروانه كسب", "agency/MIN", "صدور پروانه کسب", SIMILAR)


def test_threshold_parameter(store: OxigraphStore) -> None:
    got = rows(store, "dup-near-titles", {"threshold": "0.6"}, cols=COLS)
    assert got == [*NEAR_DEFAULT, (D12, D13, "agency/MIN", 0.6)]
    assert rows(store, "dup-near-titles", {"threshold": "0.9"}, cols=COLS) == NEAR_DEFAULT[:4]


def test_across_families_on_request(store: OxigraphStore) -> None:
    got = rows(store, "dup-near-titles", {"acrossFamilies": "true"}, cols=COLS)
    assert got == [*NEAR_DEFAULT[:3], (D11, D10, None, 1.0), *NEAR_DEFAULT[3:]]


def test_agency_parameter_keeps_pairs_touching_the_branch(store: OxigraphStore) -> None:
    got = rows(store, "dup-near-titles", {"agency": "agency/ORG2"}, cols=COLS)
    assert got == [
        (D5, D2, "agency/MIN", 1.0),
        (D1, D2, "agency/MIN", 1.0),
        (D14, D15, "agency/ORG2", 1.0),
        (D6, D2, "agency/MIN", 0.75),
    ]


def test_same_legal_basis_and_audience_with_similar_titles(store: OxigraphStore) -> None:
    # d1/d3 share basis and audience but name different actions (صدور / تمدید): not listed.
    assert rows(store, "dup-same-basis-audience", cols=COLS) == [
        (D1, D2, "agency/MIN", 1.0),
        (D12, D13, "agency/MIN", 0.6),
    ]


def test_duplicates_command_merges_reasons_per_pair(store: OxigraphStore) -> None:
    merged = {(plain(r["serviceA"]), plain(r["serviceB"])): r for r in find_duplicates(store)}
    base = store.minter.base
    pair = merged[(base + D1, base + D2)]
    assert pair["reason"] == f"{BASIS}; {SIMILAR}"
    assert merged[(base + D5, base + D1)]["reason"] == f"{SAME}; {SIMILAR}"
    assert len(merged) == 7
    assert (base + D3, base + D1) not in merged and (base + D1, base + D3) not in merged
