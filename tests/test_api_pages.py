"""Entity IRIs dereference on a live server: Persian RTL pages for browsers, RDF for clients."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from khadamat.api.testing import dataset_server

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    store_dir = tmp_path_factory.mktemp("api-pages") / "store"
    with dataset_server(store_dir, FIXTURE) as (url, base):
        yield url, base


def test_service_iri_gives_a_persian_page_with_its_trace(site) -> None:
    _, base = site
    response = httpx.get(base + "agency/sso/service/13091728000", headers=HTML)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="fa" dir="rtl">' in page
    assert '<h1 dir="auto">صدور دفترچه بيمه</h1>' in page
    assert '<time datetime="2024-06-22">۱۴۰۳/۰۴/۰۲</time>' in page  # Jalali for people
    # The legal trace as links to the pages of the mission, the article and the law.
    assert '<a href="/id/mission/sso-m1" dir="auto">ارائه خدمات بیمه‌ای به بیمه‌شدگان</a>' in page
    assert '<a href="/id/law/ssl/article/28" dir="auto">ماده ۲۸</a>' in page
    assert '<a href="/id/law/ssl" dir="auto">قانون تأمین اجتماعی</a>' in page
    assert "منابع درآمد سازمان عبارت است از حق بیمه." in page
    assert "یافته‌های اعتبارسنجی" in page


def test_links_on_a_page_dereference(site) -> None:
    url, base = site
    page = httpx.get(base + "agency/sso/service/13091728000", headers=HTML).text
    assert '<a href="/id/agency/sso" dir="auto">سازمان تأمین اجتماعی</a>' in page
    agency = httpx.get(url + "/id/agency/sso", headers=HTML)
    assert agency.status_code == 200 and "سازمان تأمین اجتماعی" in agency.text


def test_linked_data_clients_get_rdf(site) -> None:
    _, base = site
    iri = base + "mission/sso-m1"
    turtle = httpx.get(iri, headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    triples = {q.triple for q in ox.parse(turtle.content, format=ox.RdfFormat.TURTLE)}
    kh = "https://w3id.org/khadamat/ontology#"
    assert (
        ox.Triple(
            ox.NamedNode(iri), ox.NamedNode(kh + "legalBasis"), ox.NamedNode(base + "law/ssl/article/28")
        )
        in triples
    )
    jsonld = httpx.get(iri, headers={"Accept": "application/ld+json"})
    assert {q.triple for q in ox.parse(jsonld.content, format=ox.RdfFormat.JSON_LD)} == triples


def test_persian_iri_segment_dereferences(site) -> None:
    _, base = site
    iri = base + "law/ssl/article/28/part/تبصره-1"
    response = httpx.get(
        base + "law/ssl/article/28/part/" + quote("تبصره-1"), headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200
    subjects = {q.subject.value for q in ox.parse(response.content, format=ox.RdfFormat.TURTLE)}
    assert subjects == {iri}


def test_unknown_iri_is_404_for_people_and_clients(site) -> None:
    _, base = site
    page = httpx.get(base + "agency/nope", headers=HTML)
    assert page.status_code == 404 and "این شناسه در گراف نیست" in page.text
    data = httpx.get(base + "agency/nope", headers={"Accept": "text/turtle"})
    assert data.status_code == 404
