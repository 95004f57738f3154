"""The published JSON-LD context and schema.org markup, on a live server (issue 11).

One server holds the API fixture catalog, with one service title made hostile
(`</script><script>…`) to check the markup's escaping. JSON-LD answers of the browse API and of
entity pages are compact, with the keys of the context served at /context.jsonld, and expand
back to exactly the triples of the Turtle answer. Service pages carry schema.org
GovernmentService markup that rdflib reads back with the exact values of the card.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from khadamat.api.testing import dataset_server
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from khadamat.resources import data_path

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"
HOSTILE = "تمدید </script><script>alert(1)</script> <!-- & دفترچه"
SCHEMA = rdflib.Namespace("https://schema.org/")
KH = "https://w3id.org/khadamat/ontology#"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("ld")
    dataset = folder / "catalog.trig"
    text = FIXTURE.read_text(encoding="utf-8")
    assert text.count('"تمدید اعتبار دفترچه بیمه"@fa') == 1
    dataset.write_text(text.replace('"تمدید اعتبار دفترچه بیمه"@fa', json.dumps(HOSTILE) + "@fa"), "utf-8")
    with dataset_server(folder / "store", dataset) as (url, base):
        yield url, base


def _graph(data: bytes | str, fmt: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=data, format=fmt)


def test_context_is_served_as_shipped(site) -> None:
    url, _ = site
    answer = httpx.get(url + "/context.jsonld")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ld+json"
    shipped = json.loads((data_path("ontology") / "context.jsonld").read_text(encoding="utf-8"))
    assert answer.json() == shipped


def test_context_has_a_key_for_every_property_of_the_ontology() -> None:
    """The context cannot drift from the ontology: every kh: property has its local name as key,
    IRI-valued exactly when it is an owl:ObjectProperty."""
    ontology = ox.Store()
    ontology.load(path=str(data_path("ontology") / "khadamat.ttl"), format=ox.RdfFormat.TURTLE)
    context = json.loads((data_path("ontology") / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    query = f"""PREFIX owl: <http://www.w3.org/2002/07/owl#>
        SELECT ?p ?t WHERE {{ VALUES ?t {{ owl:ObjectProperty owl:DatatypeProperty }} ?p a ?t
                              FILTER(STRSTARTS(STR(?p), "{KH}")) }}"""
    rows = list(ontology.query(query))
    assert len(rows) > 60
    for row in rows:
        name = row["p"].value[len(KH) :]
        expected = (
            {"@id": "kh:" + name, "@type": "@id"}
            if row["t"].value.endswith("ObjectProperty")
            else "kh:" + name
        )
        assert context[name] == expected


def test_browse_jsonld_is_compact_and_expands_to_the_turtle_answer(site) -> None:
    url, base = site
    turtle = httpx.get(url + "/services/13091728000", headers={"Accept": "text/turtle"})
    jsonld = httpx.get(url + "/services/13091728000", headers={"Accept": "application/ld+json"})
    assert jsonld.status_code == 200 and jsonld.headers["content-type"].startswith("application/ld+json")
    document = jsonld.json()
    assert document["@context"] == httpx.get(url + "/context.jsonld").json()["@context"]
    nodes = {node["@id"]: node for node in document["@graph"]}
    service = nodes[base + "agency/sso/service/13091728000"]
    assert service["@type"] == "kh:Service"
    assert service["serviceId"] == "13091728000"
    assert service["title"] == {"@value": "صدور دفترچه بيمه", "@language": "fa"}
    assert service["provider"] == base + "agency/sso"
    assert service["channel"] == ["khc:channel-counter", "khc:channel-portal"]
    assert service["verifiedOn"] == {"@value": "2024-06-22", "@type": "xsd:date"}
    assert isomorphic(_graph(jsonld.content, "json-ld"), _graph(turtle.content, "turtle"))


def test_entity_page_jsonld_expands_to_its_turtle(site) -> None:
    _, base = site
    iri = base + "mission/sso-m1"
    jsonld = httpx.get(iri, headers={"Accept": "application/ld+json"})
    turtle = httpx.get(iri, headers={"Accept": "text/turtle"})
    node = next(n for n in jsonld.json()["@graph"] if n["@id"] == iri)
    assert node["legalBasis"] == base + "law/ssl/article/28" and node["missionCode"] == "sso-m1"
    assert isomorphic(_graph(jsonld.content, "json-ld"), _graph(turtle.content, "turtle"))


def _markup(page: str) -> list[str]:
    return re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)


def test_service_page_carries_government_service_markup(site) -> None:
    _, base = site
    page = httpx.get(base + "agency/sso/service/13091728000", headers={"Accept": "text/html"}).text
    [block] = _markup(page)
    graph = _graph(block, "json-ld")
    service = rdflib.URIRef(base + "agency/sso/service/13091728000")
    assert (service, rdflib.RDF.type, SCHEMA.GovernmentService) in graph
    assert graph.value(service, SCHEMA.name) == rdflib.Literal("صدور دفترچه بيمه", lang="fa")
    assert graph.value(service, SCHEMA.identifier) == rdflib.Literal("13091728000", datatype=XSD.string)
    provider = graph.value(service, SCHEMA.provider)
    assert provider == rdflib.URIRef(base + "agency/sso")
    assert (provider, rdflib.RDF.type, SCHEMA.GovernmentOrganization) in graph
    assert graph.value(provider, SCHEMA.name) == rdflib.Literal("سازمان تأمین اجتماعی", lang="fa")
    assert set(graph.objects(service, SCHEMA.serviceType)) == {rdflib.Literal("حاکمیتی", lang="fa")}
    area = graph.value(service, SCHEMA.areaServed)
    assert (area, rdflib.RDF.type, SCHEMA.Country) in graph
    assert graph.value(area, SCHEMA.name) == rdflib.Literal("ایران", lang="fa")
    channels = {graph.value(c, SCHEMA.name) for c in graph.objects(service, SCHEMA.availableChannel)}
    assert channels == {rdflib.Literal("درگاه اینترنتی", lang="fa"), rdflib.Literal("پیشخوان", lang="fa")}
    # The legal basis: direct (csml art. 38) and through the mission sso-m1 (ssl art. 28).
    assert set(graph.objects(service, SCHEMA.isBasedOn)) == {
        rdflib.URIRef(base + "law/csml/article/38"),
        rdflib.URIRef(base + "law/ssl/article/28"),
    }


def test_markup_cannot_close_its_script_element(site) -> None:
    _, base = site
    page = httpx.get(base + "agency/sso/service/13091728100", headers={"Accept": "text/html"}).text
    [block] = _markup(page)  # the hostile title did not end the element early nor add another
    assert "</" not in block and "<!--" not in block and "<" not in block
    assert "<script>alert(1)" not in page
    graph = _graph(block, "json-ld")
    service = rdflib.URIRef(base + "agency/sso/service/13091728100")
    assert graph.value(service, SCHEMA.name) == rdflib.Literal(HOSTILE, lang="fa")


def test_task_and_agency_pages_carry_no_service_markup(site) -> None:
    _, base = site
    for path in ("agency/mcls/item/abcdefabcdef", "agency/sso"):
        page = httpx.get(base + path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and _markup(page.text) == []
