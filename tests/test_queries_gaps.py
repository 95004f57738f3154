"""Each gap query's exact rows on tests/fixtures/queries/gaps.ttl, loaded into a real store.

The fixture's header says which node is built to hit which query; every expected row below is
what a reviewer would read off the report (circular 29168 articles in each query's header).
"""

from __future__ import annotations

import pytest
from test_queries_support import fixture_store, rows

from khadamat.config import Settings
from khadamat.output import plain
from khadamat.querylib import QueryError, resolve, run_query
from khadamat.store import OxigraphStore, open_store

S1, S2 = "agency/MIN/service/11111111000", "agency/MIN/service/11111112000"
S3 = "agency/ORG/service/22222221000"
S4, S5, S6 = "agency/MIN-KR/item/a1", "agency/ORG/item/b2", "agency/OTHER/service/33333331000"
S9, T1 = "agency/ORG/service/22222222000", "agency/MIN/item/t1"
NO_ID = "بدون شناسه خدمت — no service ID"
NOT_LISTED = "شناسه در فهرست خدمات نیست — service ID not in the catalog"
UNDATED = "بدون تاریخ تایید — no verification date"
OLD = "یک سال یا بیشتر از تایید گذشته — verified a year or more ago"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    return fixture_store(tmp_path_factory.mktemp("gaps"), "gaps.ttl")


def test_missions_that_no_service_realizes(store: OxigraphStore) -> None:
    assert rows(store, "gap-missions-without-service", cols=("agency", "missionCode", "missionTitle")) == [
        ("agency/MIN", "M2", "نظارت بر بازار"),
        ("agency/ORG", "M3", "مشاوره به متقاضیان"),
    ]


def test_missions_of_one_branch(store: OxigraphStore) -> None:
    got = rows(store, "gap-missions-without-service", {"agency": "agency/ORG"}, cols=("missionCode",))
    assert got == [("M3",)]


def test_articles_cited_by_missions_that_no_service_reaches(store: OxigraphStore) -> None:
    # Article 1: services realize M1. Article 3: a service cites its note 1. The instrument: via M4.
    assert rows(
        store,
        "gap-articles-without-service",
        cols=("provision", "instrumentTitle", "articleNumber", "missionCode", "agency"),
    ) == [
        ("law/tl/article/2", "قانون آزمایشی", "2", "M2", "agency/MIN"),
    ]


def test_services_with_no_path_to_a_legal_basis(store: OxigraphStore) -> None:
    assert rows(store, "gap-services-without-legal-basis", cols=("item", "serviceId", "kind")) == [
        (S2, "11111112000", "service"),
    ]


def test_services_and_licenses_without_a_service_id(store: OxigraphStore) -> None:
    assert rows(store, "gap-without-service-id", cols=("item", "kind", "givenServiceId", "reason")) == [
        ("license/LIC-3", "license", None, NO_ID),
        ("license/LIC-2", "license", "99999999999", NOT_LISTED),
        (S4, "service", None, NO_ID),
        (S5, "service", None, NO_ID),
    ]


def test_unit_services_without_id_name_the_province(store: OxigraphStore) -> None:
    cols = ("item", "unit", "province", "parentAgency")
    expected = [(S4, "agency/MIN-KR", "کرمان", "agency/MIN")]
    assert rows(store, "gap-unit-services-without-id", cols=cols) == expected
    assert rows(store, "gap-unit-services-without-id", {"province": "کرمان"}, cols=cols) == expected
    assert rows(store, "gap-unit-services-without-id", {"province": "یزد"}, cols=cols) == []


def test_cards_a_year_old_or_undated_are_out_of_date(store: OxigraphStore) -> None:
    # S1 was verified 2024-06-02: one day short of a year on 2025-06-01; S4 exactly a year.
    cols = ("item", "verifiedOn", "reason")
    assert rows(store, "gap-cards-out-of-date", {"onDate": "2025-06-01"}, cols=cols) == [
        (S5, None, UNDATED),
        (S2, "2024-01-10", OLD),
        (S4, "2024-06-01", OLD),
    ]


def test_cards_out_of_date_take_a_jalali_date(store: OxigraphStore) -> None:
    # ۱۴۰۴/۰۳/۱۳ is 2025-06-03: S1 (2024-06-02) has expired too.
    got = rows(store, "gap-cards-out-of-date", {"onDate": "۱۴۰۴/۰۳/۱۳"}, cols=("item",))
    assert got == [(S5,), (S2,), (S4,), (S1,)]


def test_declared_electronic_with_a_stage_not_electronic(store: OxigraphStore) -> None:
    cols = ("item", "start", "production", "delivery", "officeAutomationOnly")
    assert rows(store, "gap-electronic-stages", cols=cols) == [
        (S2, True, False, True, None),
        (S6, True, True, True, True),
    ]


def test_smart_service_candidates_ranked_by_recipients(store: OxigraphStore) -> None:
    # Not S8 (a process inquiry), S7 (already smart), S6 (office automation), S2 (a stage offline).
    assert rows(store, "gap-smart-candidates", cols=("item", "annualRecipients")) == [(S9, 7000), (S1, 5000)]


def test_priorities_for_going_electronic(store: OxigraphStore) -> None:
    cols = ("item", "annualRecipients")
    assert rows(store, "gap-electronic-priorities", cols=cols) == [(S3, 20000), (S4, 300), (S5, None)]
    assert rows(store, "gap-electronic-priorities", {"minRecipients": "1000"}, cols=cols) == [(S3, 20000)]


def test_affiliates_and_units_with_no_service(store: OxigraphStore) -> None:
    # MIN-KR-RF only delivers MIN's service under its ID: it has a service.
    assert rows(store, "gap-agencies-without-service", cols=("agency", "parent")) == [
        ("agency/MIN-YZ", "agency/MIN"),
        ("agency/IDLE", "agency/ORG"),
    ]


def test_tasks_recorded_with_recipients(store: OxigraphStore) -> None:
    assert rows(store, "gap-tasks-with-recipients", cols=("item", "recipients")) == [(T1, "شهروندان")]


def test_agency_parameter_keeps_the_branch(store: OxigraphStore) -> None:
    assert rows(store, "gap-without-service-id", {"agency": "agency/MIN-KR"}, cols=("item",)) == [(S4,)]
    assert rows(store, "gap-without-service-id", {"agency": "agency/OTHER"}, cols=("item",)) == []


def test_a_quote_in_a_value_is_data_not_sparql(store: OxigraphStore) -> None:
    # Bound as a substitution, the value cannot widen the filter.
    assert rows(store, "gap-unit-services-without-id", {"province": 'x") || true || ("'}) == []


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    """A generated catalog of 400 items: recipient figures repeat, so the ranking has ties to break."""
    from benchmarks.bench_load import loader_api
    from benchmarks.generate import generate, write_catalog

    submission = write_catalog(generate(400, seed=3), tmp_path_factory.mktemp("catalog"))
    store = open_store(Settings.from_env(store_dir=tmp_path_factory.mktemp("ranking") / "store"))
    loader_api()([submission], store)
    return store


def test_priority_pages_concatenate_to_the_full_ranking(generated: OxigraphStore) -> None:
    spec = resolve("gap-electronic-priorities")
    full = run_query(generated, spec, {"limit": "100000"})
    assert len(run_query(generated, spec)) == 100 < len(full)  # the default page: the first 100
    pages = [
        run_query(generated, spec, {"limit": "7", "offset": str(start)})
        for start in range(0, len(full) + 7, 7)
    ]
    assert [row for page in pages for row in page] == full
    assert pages[-1] == []
    # The order is the definition's: most recipients first (none last), then the item's IRI.
    keys = [
        (-int(plain(r["annualRecipients"])) if "annualRecipients" in r else 1, r["item"].value) for r in full
    ]
    assert keys == sorted(keys) and len({r["item"].value for r in full}) == len(full)
    assert len({k for k, _ in keys}) < len(keys)  # ties, broken by the IRI


def test_priority_paging_values_are_checked(generated: OxigraphStore) -> None:
    spec = resolve("gap-electronic-priorities")
    with pytest.raises(QueryError, match="parameter limit: expected a whole number ≥ 0"):
        run_query(generated, spec, {"limit": "-1"})
    with pytest.raises(QueryError, match="parameter offset: expected a number"):
        run_query(generated, spec, {"offset": "1; DROP ALL"})
