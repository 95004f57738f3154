"""Every shape, on its own rule fixture: the exact findings (focus node, path, source shape).

Each file of tests/fixtures/shapes/ (W3C shacl-tests style) holds data with conforming and
non-conforming nodes and the expected report. The data is loaded with the real ontology and legal
corpus into a real in-memory store and validated by the compiled engine with the real shapes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from khadamat.config import Settings
from khadamat.store import open_store
from khadamat.validation.compiler import compile_shape, target_pattern
from khadamat.validation.engine import Validator, date_literal
from khadamat.validation.testsuite import Case, finding_keys, read_cases, store_with

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
FIXTURE_GRAPH = NamedNode("https://w3id.org/khadamat/id/graph/agency/fx")
DEFAULT_DATE = dt.date(2026, 6, 30)


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.ttl"))


def load_case(path: Path) -> tuple[Case, Validator]:
    store = open_store(Settings(), in_memory=True)
    validator = Validator(store)
    (case,) = read_cases(path, shapes=validator.graph, strip_manifest=True)
    store_with(store, case.data, FIXTURE_GRAPH)
    return case, validator


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_shape_finds_exactly_the_planted_results(path: Path) -> None:
    case, validator = load_case(path)
    assert case.shape is not None and case.expected, f"{path.name} names no shape or no expected result"
    findings = [f for f in validator.run(None, case.on_date or DEFAULT_DATE) if f.shape == case.shape]
    assert finding_keys(findings) == case.expected


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_conforming_nodes_are_targets_and_not_reported(path: Path) -> None:
    case, validator = load_case(path)
    assert case.conforming, f"{path.name} has no conforming node"
    shape = next(s for s in validator.shapes if s.node == case.shape)
    targets = {
        r["this"]
        for r in validator.store.select(
            f"SELECT DISTINCT ?this WHERE {{ {target_pattern(shape, validator.subclasses)} }}"
        )
    }
    reported = {f.focus for f in validator.run(None, case.on_date or DEFAULT_DATE) if f.shape == case.shape}
    # Some conforming nodes are outside the target on purpose (a task for a service rule); at
    # least one must be a focus node that passes, or the fixture would prove nothing.
    assert targets & set(case.conforming), f"no conforming node is a focus node of {shape.label}"
    assert not reported & set(case.conforming)


def test_every_shape_has_a_fixture_and_every_fixture_a_shape() -> None:
    validator = Validator(open_store(Settings(), in_memory=True))
    rules = {
        s.node.value.rsplit("#", 1)[-1]
        for s in validator.shapes
        if isinstance(s.node, NamedNode) and (s.constraints or s.sparql)
    }
    assert rules == {p.stem for p in fixture_files()}


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_testing_each_distinct_value_once_finds_what_testing_each_pair_finds(path: Path) -> None:
    """The embedded store tests a value-type constraint once per distinct value
    (compiler._failing_values); a remote store, which may be Virtuoso, tests each (node, value)
    pair. On the fixture's failing and passing values, both plans give the same rows, and a
    grouped query finds something (else this would prove nothing)."""
    case, validator = load_case(path)
    shape = next(s for s in validator.shapes if s.node == case.shape)
    day = date_literal(case.on_date or DEFAULT_DATE)
    grouped_plan, pair_plan = (
        compile_shape(shape, validator.subclasses, validator.in_list, None, day, per_value=per_value)
        for per_value in (True, False)
    )
    assert not any("?__fails" in q.text for q in pair_plan)
    for grouped, per_pair in zip(grouped_plan, pair_plan, strict=True):
        if "?__fails" not in grouped.text:
            assert grouped.text == per_pair.text  # a shape with no value-type test: one plan
            continue
        found, expected = (
            sorted(str(sorted(r.items())) for r in validator.store.select(q.text))
            for q in (grouped, per_pair)
        )
        assert found == expected and found
