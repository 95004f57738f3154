"""CPSV-AP in: `khadamat load --profile cpsv-ap FILE` keeps what maps (issue 11).

The official CPSV-AP 3.2.0 example (tests/cpsv-ap/, see SOURCE.md) is loaded into a new store and
exported again with `export --profile cpsv-ap`: every field the import maps (service identifier,
title, description, competent authority with its labels and place, the evidence with its
identifier, title and description) comes back with the same values. Requirements, evidence types,
contact points and foreign channels have no place in a service card and are left out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, RDF, SKOS

from khadamat.cli import main

EXAMPLE = Path(__file__).resolve().parent / "cpsv-ap" / "example-rdf_public_service.ttl"
CPSV = rdflib.Namespace("http://purl.org/vocab/cpsv#")
CV = rdflib.Namespace("http://data.europa.eu/m8g/")


def _fields(graph: rdflib.Graph) -> dict[str, set]:
    """The mapped fields of the one public service of a CPSV-AP graph, as value sets."""
    [service] = set(graph.subjects(RDF.type, CPSV.PublicService))
    [org] = set(graph.objects(service, CV.hasCompetentAuthority))
    [evidence] = set(graph.objects(service, CPSV.hasInput))
    return {
        "identifier": set(graph.objects(service, DCTERMS.identifier)),
        "title": set(graph.objects(service, DCTERMS.title)),
        "description": set(graph.objects(service, DCTERMS.description)),
        "authority labels": set(graph.objects(org, SKOS.prefLabel)),
        "authority place": set(graph.objects(org, DCTERMS.spatial)),
        "evidence identifier": set(graph.objects(evidence, DCTERMS.identifier)),
        "evidence title": set(graph.objects(evidence, DCTERMS.title)),
        "evidence description": set(graph.objects(evidence, DCTERMS.description)),
    }


def test_official_example_round_trip_keeps_every_mapped_field(tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "back.ttl"
    assert main(["load", "--store", str(store), "--quiet", "--profile", "cpsv-ap", str(EXAMPLE)]) == 0
    args = ["export", "--store", str(store), "--profile", "cpsv-ap", "--format", "turtle", "-o", str(out)]
    assert main(args) == 0
    original = _fields(rdflib.Graph().parse(EXAMPLE))
    assert original["authority labels"] and original["evidence title"]  # the example has them
    assert _fields(rdflib.Graph().parse(out)) == original


def test_imported_service_lands_in_its_agency_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert main(["load", "--store", str(store), "--quiet", "--profile", "cpsv-ap", str(EXAMPLE)]) == 0
    capsys.readouterr()
    assert (
        main(["export", "--store", str(store), "--agency", "publicOrganisation1", "--format", "nquads"]) == 0
    )
    quads = capsys.readouterr().out
    graph = "<https://w3id.org/khadamat/id/graph/agency/publicOrganisation1>"
    service = "<https://w3id.org/khadamat/id/agency/publicOrganisation1/service/Tax-on-web>"
    assert f'{service} <https://w3id.org/khadamat/ontology#serviceId> "Tax-on-web" {graph} .' in quads
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    assert f"{service} {rdf_type} <http://purl.org/vocab/cpsv#PublicService> {graph} ." in quads


def test_a_file_with_nothing_that_maps_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "nothing.ttl"
    empty.write_text('<http://example.com/x> <http://purl.org/dc/terms/title> "x" .\n', encoding="utf-8")
    assert (
        main(["load", "--store", str(tmp_path / "store"), "--quiet", "--profile", "cpsv-ap", str(empty)]) == 2
    )
    err = capsys.readouterr().err
    assert (
        "nothing.ttl: expected cpsv-ap data with at least one public service or public organisation; "
        "nothing in the file maps to Khadamat's graph" in err
    )
