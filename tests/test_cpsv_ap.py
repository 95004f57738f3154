"""CPSV-AP 3.2 out of the store, and the standard types in the data graphs (issue 11).

`khadamat export --profile cpsv-ap` on a store loaded from examples/catalog must conform to the
official CPSV-AP 3.2.0 SHACL shapes (tests/cpsv-ap/, vendored with their licence in SOURCE.md),
checked with pySHACL both as the shapes are written (no inference) and with RDFS inference over
the official vocabulary (the issue counted 145 violations that way, and 28 more without). The
loaded graphs also carry the standard types, so an architect's `?s a cpsv:PublicService` on
/sparql finds the services, while `khadamat stats` counts each node once.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyshacl
import pytest
import rdflib
from khadamat.api.testing import live_server
from rdflib.namespace import DCTERMS, RDF, SH, SKOS

from khadamat.cli import main

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = ROOT / "tests" / "cpsv-ap"
CPSV = rdflib.Namespace("http://purl.org/vocab/cpsv#")
CV = rdflib.Namespace("http://data.europa.eu/m8g/")
BASE = "https://w3id.org/khadamat/id/"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("cpsv") / "store"
    assert main(["load", "--store", str(store), "--quiet", str(ROOT / "examples" / "catalog")]) == 0
    return store


@pytest.fixture(scope="module")
def exported(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> rdflib.Graph:
    out = tmp_path_factory.mktemp("out") / "catalog-cpsv-ap.ttl"
    args = ["export", "--store", str(store_dir), "--profile", "cpsv-ap", "--format", "turtle", "-o", str(out)]
    assert main(args) == 0
    return rdflib.Graph().parse(out, format="turtle")


@pytest.mark.parametrize("inference", ["none", "rdfs"])
def test_export_conforms_to_the_official_shapes(exported: rdflib.Graph, inference: str) -> None:
    shapes = rdflib.Graph().parse(OFFICIAL / "cpsv-ap-SHACL.ttl")
    vocabulary = rdflib.Graph().parse(OFFICIAL / "cpsv-ap.ttl") if inference == "rdfs" else None
    conforms, report, text = pyshacl.validate(
        exported, shacl_graph=shapes, ont_graph=vocabulary, inference=inference
    )
    results = list(report.subjects(RDF.type, SH.ValidationResult))
    assert (conforms, len(results)) == (True, 0), text


def test_export_holds_every_service_with_its_required_properties(exported: rdflib.Graph) -> None:
    services = set(exported.subjects(RDF.type, CPSV.PublicService))
    assert len(services) == 48  # the 48 services of examples/catalog (its 8 tasks are not public services)
    for service in services:
        for prop in (DCTERMS.identifier, DCTERMS.title, DCTERMS.description, CV.hasCompetentAuthority):
            assert exported.value(service, prop) is not None, (service, prop)
    service = rdflib.URIRef(BASE + "agency/maj-ppo/service/14230200300")
    assert exported.value(service, DCTERMS.identifier) == rdflib.Literal("14230200300")
    assert exported.value(service, DCTERMS.title) == rdflib.Literal(
        "صدور پروانه فروش سموم و نهاده‌های گیاه‌پزشکی", lang="fa"
    )
    authority = exported.value(service, CV.hasCompetentAuthority)
    assert authority == rdflib.URIRef(BASE + "agency/maj-ppo")
    assert (authority, RDF.type, CV.PublicOrganisation) in exported
    assert exported.value(authority, SKOS.prefLabel) == rdflib.Literal("سازمان حفظ نباتات کشور", lang="fa")
    linked = {t for n in exported.objects(service, None) for t in exported.objects(n, RDF.type)}
    assert {CV.Evidence, CV.Channel, CV.Cost, CV.LifeEvent, SKOS.Concept} <= linked
    # Every direct legal basis (7, of 6 services) is a rule the service follows, implementing it.
    assert len(set(exported.subject_objects(CPSV.follows))) == 7
    assert len(set(exported.subjects(CPSV.follows, None))) == 6
    for rule in exported.objects(None, CPSV.follows):
        assert exported.value(rule, CPSV.implements) is not None
        assert exported.value(rule, DCTERMS.description) is not None


def test_export_of_one_agency_has_only_its_services(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ppo.ttl"
    args = ["export", "--store", str(store_dir), "--profile", "cpsv-ap", "--agency", "maj-ppo"]
    assert main([*args, "--format", "turtle", "-o", str(out)]) == 0
    graph = rdflib.Graph().parse(out, format="turtle")
    authorities = {
        graph.value(s, CV.hasCompetentAuthority) for s in graph.subjects(RDF.type, CPSV.PublicService)
    }
    assert authorities == {rdflib.URIRef(BASE + "agency/maj-ppo")}


def test_standard_types_answer_standard_queries_on_sparql(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = {
        "cpsv:PublicService": 48,  # every kh:Service
        "cv:PublicOrganisation": 19,  # every agency, units included
        "cv:Output": 14,  # every license
        "cv:Evidence": 108,
    }
    prologue = "PREFIX cpsv: <http://purl.org/vocab/cpsv#> PREFIX cv: <http://data.europa.eu/m8g/> "
    with live_server(store_dir) as url:
        for cls, expected in counts.items():
            query = prologue + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a {cls} }}"
            answer = httpx.get(
                url + "/sparql",
                params={"query": query},
                headers={"Accept": "application/sparql-results+json"},
            )
            assert answer.status_code == 200
            assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == expected, cls
    capsys.readouterr()
    assert main(["stats", "--store", str(store_dir), "--format", "json"]) == 0
    stats = {row["figure"]: row["count"] for row in json.loads(capsys.readouterr().out)}
    assert (stats["agencies"], stats["services"], stats["tasks"], stats["licenses"]) == (19, 48, 8, 14)
