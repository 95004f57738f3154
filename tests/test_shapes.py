"""The shapes files themselves: every rule says what it enforces, in two languages, on purpose.

A finding must trace to its legal source by following the graph, so every shape that can produce
a result carries sh:message @fa and @en, an explicit sh:severity and kh:enforces pointing at an
article or part node of the built-in legal corpus; every enumeration equals its SKOS scheme.
"""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode

from khadamat.config import Settings
from khadamat.namespaces import KH, SKOS
from khadamat.resources import data_files
from khadamat.store import open_store
from khadamat.validation.engine import Validator
from khadamat.validation.shapes import sh

STORE = open_store(Settings(), in_memory=True)
VALIDATOR = Validator(STORE)
RULES = [s for s in VALIDATOR.shapes if s.constraints or s.sparql]


def test_four_shapes_files_each_with_a_header_comment() -> None:
    files = data_files("shapes", ".ttl")
    assert {f.stem for f in files} == {"card-fields", "law-linkage", "circular-29168", "roadmap"}
    for path in files:
        head = path.read_text(encoding="utf-8").splitlines()[:12]
        assert all(line.startswith("#") for line in head[:3]) and any("Title:" in line for line in head)
        assert any("Purpose:" in line for line in path.read_text(encoding="utf-8").splitlines()[:20])


def test_all_shapes_compile_to_sparql() -> None:
    queries = VALIDATOR.compile()
    assert len(RULES) >= 40
    assert {q.shape.node for q in queries} == {s.node for s in RULES}


@pytest.mark.parametrize("shape", RULES, ids=lambda s: s.label.rsplit("#", 1)[-1])
def test_every_rule_has_messages_severity_and_legal_source(shape) -> None:
    graph = VALIDATOR.graph
    messages = {m.language for m in graph.objects(shape.node, sh("message")) if isinstance(m, Literal)}
    assert {"fa", "en"} <= messages
    severity = graph.value(shape.node, sh("severity"))
    assert severity in {sh("Violation"), sh("Warning"), sh("Info")}, "severity must be chosen, not defaulted"
    (article,) = shape.enforces
    kinds = {r["k"] for r in STORE.select(f"SELECT ?k WHERE {{ {article} a ?k }}")}
    assert kinds & {NamedNode(KH + "Article"), NamedNode(KH + "ArticlePart")}, (
        f"{article} is not in the corpus"
    )


def test_every_enumeration_is_exactly_its_skos_scheme() -> None:
    checked = 0
    for shape in RULES:
        for constraint in shape.constraints:
            if constraint.param != "in" or not isinstance(
                VALIDATOR.graph.items(constraint.value)[0], NamedNode
            ):
                continue
            members = set(VALIDATOR.graph.items(constraint.value))
            first = next(iter(members))
            rows = STORE.select(
                f"SELECT ?c WHERE {{ {first} <{SKOS}inScheme> ?scheme . ?c <{SKOS}inScheme> ?scheme }}"
            )
            assert members == {r["c"] for r in rows}, shape.label
            checked += 1
    assert checked == 8  # nature, scope, trigger, audience, channel, e-level, auth, maturity


def test_rebased_shapes_point_at_the_rebased_corpus() -> None:
    store = open_store(Settings(base="https://example.org/kh/"), in_memory=True)
    validator = Validator(store)
    targets = {e.value for s in validator.shapes for e in s.enforces}
    assert targets and all(t.startswith("https://example.org/kh/law/") for t in targets)
