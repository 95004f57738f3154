"""The query library: grlc decorators and parameters, substitutions, and grlc's own rewriting.

grlc serves a folder of .rq files by replacing `?_name…` / `?__name…` variables with the request's
values in the text; the library binds the same variables as pyoxigraph substitutions. Both must
give the same rows, so that grlc itself could serve queries/.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from test_queries_support import fixture_store

from khadamat.commands.duplicates import COLUMNS
from khadamat.namespaces import XSD
from khadamat.querylib import QueryError, columns, library, load_spec, resolve, run_query, with_projected
from khadamat.store import OxigraphStore

GAPS = {
    "gap-missions-without-service",
    "gap-articles-without-service",
    "gap-services-without-legal-basis",
    "gap-without-service-id",
    "gap-unit-services-without-id",
    "gap-cards-out-of-date",
    "gap-electronic-stages",
    "gap-smart-candidates",
    "gap-electronic-priorities",
    "gap-agencies-without-service",
    "gap-tasks-with-recipients",
}
DUPLICATES = {"dup-same-title", "dup-same-basis-audience", "dup-near-titles"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    return fixture_store(tmp_path_factory.mktemp("lib"), "gaps.ttl", "duplicates.ttl")


def test_the_library_holds_the_gap_and_duplicate_queries() -> None:
    specs = library()
    assert {n for n, s in specs.items() if "gaps" in s.tags} == GAPS
    assert {n for n, s in specs.items() if "duplicates" in s.tags} == DUPLICATES
    assert "_stats" not in specs and "_stats" in library(include_internal=True)


@pytest.mark.parametrize("name", sorted(GAPS | DUPLICATES))
def test_every_query_has_a_bilingual_header_and_its_article(name: str, store: OxigraphStore) -> None:
    spec = library()[name]
    fa, _, en = spec.summary.partition(" — ")
    assert fa and en and any("\u0600" <= c <= "\u06ff" for c in fa) and en.isascii()
    assert "circular 29168" in spec.description
    law = store.minter.legal_ref(str(spec.decorators["law"]))
    assert store.ask("ASK { ?law a ?type }", {"law": law}), f"{name}: {law} is not in the legal corpus"


def test_parameters_follow_grlc_names_types_and_defaults() -> None:
    params = {p.name: p for p in library()["dup-near-titles"].params}
    assert set(params) == {"threshold", "acrossFamilies", "agency"}
    assert (params["threshold"].datatype, params["threshold"].default, params["threshold"].required) == (
        XSD + "decimal",
        "0.75",
        False,
    )
    across = params["acrossFamilies"]
    assert across.datatype == XSD + "boolean" and across.default == "false"
    assert params["agency"].kind == "iri" and params["agency"].variable == "__agency_iri"
    assert {p.name for p in library()["gap-cards-out-of-date"].params} == {"onDate", "agency"}


def test_required_parameter_and_enumeration(tmp_path: Path, store: OxigraphStore) -> None:
    rq = tmp_path / "by-kind.rq"
    rq.write_text(
        "#+ summary: by kind\n#+ enumerate:\n#+   - kind:\n#+     - service\n#+     - task\n"
        "PREFIX kh: <https://w3id.org/khadamat/ontology#>\n"
        "SELECT ?item WHERE { ?item kh:serviceId ?_id . BIND(?_kind AS ?k) }\n",
        encoding="utf-8",
    )
    spec = load_spec(rq)
    assert [(p.name, p.required) for p in spec.params] == [("id", True), ("kind", True)]
    with pytest.raises(QueryError, match="needs the parameter id"):
        run_query(store, spec, {"kind": "task"})
    with pytest.raises(QueryError, match="expected one of service, task"):
        run_query(store, spec, {"id": "1", "kind": "x"})
    rows = run_query(store, spec, {"id": "11111111000", "kind": "task"})
    assert [r["item"].value for r in rows] == [store.minter.base + "agency/MIN/service/11111111000"]
    assert resolve(str(rq)).name == "by-kind"


def test_unknown_names_are_errors(store: OxigraphStore) -> None:
    with pytest.raises(QueryError, match="no parameter colour"):
        run_query(store, resolve("dup-near-titles"), {"colour": "red"})
    with pytest.raises(QueryError, match="no query named"):
        resolve("gap-nothing")
    with pytest.raises(QueryError, match="expected a number"):
        run_query(store, resolve("dup-near-titles"), {"threshold": "high"})


def test_parameters_are_projected_only_in_the_top_level() -> None:
    text = "SELECT ?a (COUNT(?b) AS ?n) WHERE { { SELECT ?b WHERE { ?b ?p ?o } GROUP BY ?b } } GROUP BY ?a"
    assert with_projected(text, ["__x"]) == (
        "SELECT ?__x  ?a (COUNT(?b) AS ?n) WHERE { { SELECT ?b WHERE { ?b ?p ?o } GROUP BY ?b } } "
        "GROUP BY ?__x  ?a"
    )


def test_columns_are_the_top_level_projection() -> None:
    # The columns `khadamat duplicates` prints, in its order: the query's own projection.
    assert columns(library()["dup-near-titles"]) == list(COLUMNS)
    assert COLUMNS[:3] == ("serviceA", "titleA", "agencyA") and COLUMNS[-1] == "score"


def _grlc_rewrite(text: str, spec_params: dict[str, str], values: dict[str, str]) -> str:
    # grlc (src/gquery.py rewrite_query): replace the variable by the value, typed as declared.
    for variable, kind in spec_params.items():
        name = variable.lstrip("_").split("_")[0]
        if name in values:
            value = values[name]
            term = f"<{value}>" if kind == "iri" else f'"{value}"^^<{kind}>'
            text = text.replace("?" + variable, term)
    return text


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("dup-near-titles", {"threshold": "0.6", "acrossFamilies": "true"}),
        ("dup-near-titles", {}),
        ("gap-cards-out-of-date", {"onDate": "2025-06-01"}),
        ("gap-without-service-id", {"agency": "https://w3id.org/khadamat/id/agency/MIN"}),
    ],
)
def test_grlc_text_substitution_gives_the_same_rows(
    name: str, values: dict[str, str], store: OxigraphStore
) -> None:
    spec = library()[name]
    kinds = {p.variable: ("iri" if p.kind == "iri" else p.datatype or XSD + "string") for p in spec.params}
    rewritten = _grlc_rewrite(spec.text, kinds, values)
    by_grlc = store.select(rewritten)
    ours = run_query(store, spec, values)
    assert by_grlc == ours and (ours or name != "gap-cards-out-of-date")


def test_iri_values_may_be_paths_under_the_base(store: OxigraphStore) -> None:
    spec = library()["gap-without-service-id"]
    full = run_query(store, spec, {"agency": store.minter.base + "agency/ORG"})
    assert full == run_query(store, spec, {"agency": "agency/ORG"}) and len(full) == 2
    assert isinstance(full[0]["item"], ox.NamedNode)
