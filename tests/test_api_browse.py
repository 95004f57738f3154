"""The browse API over a live server: services, the legal trace, agencies, laws, 404s, RDF by Accept."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from khadamat.api.testing import dataset_server

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    store_dir = tmp_path_factory.mktemp("api-browse") / "store"
    with (
        dataset_server(store_dir, FIXTURE) as (url, base),
        httpx.Client(base_url=url, timeout=20) as client,
    ):
        client.base = base  # type: ignore[attr-defined]
        yield client


def ids(body: dict) -> list[str | None]:
    return [item["service_id"] for item in body["items"]]


def test_services_list_all(api: httpx.Client) -> None:
    body = api.get("/services").json()
    assert body["total"] == 4
    assert sorted(i for i in ids(body) if i) == ["13091728000", "13091728100", "22010000001"]
    task = next(i for i in body["items"] if i["kind"] == "task")
    assert task["title"] == "نظارت بر کارگاه‌ها" and task["agency"]["code"] == "mcls"


def test_title_search_is_persian_normalized(api: httpx.Client) -> None:
    # Typed with Arabic yeh and kaf, the way many keyboards write it: still finds «بیمه».
    body = api.get("/services", params={"q": "دفترچه بيمه"}).json()
    assert sorted(ids(body)) == ["13091728000", "13091728100"]
    assert (
        api.get("/services", params={"q": "ثبت\u200cنام"}).json()["items"][0]["service_id"] == "22010000001"
    )
    assert api.get("/services", params={"q": "گذرنامه"}).json()["total"] == 0


def test_agency_filter_with_and_without_affiliates(api: httpx.Client) -> None:
    tree = api.get("/services", params={"agency": "mcls"}).json()
    assert tree["total"] == 3  # the ministry's task and its affiliate sso's two services
    own = api.get("/services", params={"agency": "mcls", "affiliates": "false"}).json()
    assert own["total"] == 1 and own["items"][0]["kind"] == "task"


def test_audience_e_level_and_verification_filters(api: httpx.Client) -> None:
    assert ids(api.get("/services", params={"audience": "G2B"}).json()) == ["22010000001"]
    online = api.get("/services", params={"e_level": "online"}).json()
    assert sorted(ids(online)) == ["13091728000", "22010000001"]
    recent = api.get("/services", params={"verified_since": "۱۴۰۰/۰۱/۰۱"}).json()
    assert ids(recent) == ["13091728000"]
    assert recent["items"][0]["verified_on"] == {"date": "2024-06-22", "jalali": "۱۴۰۳/۰۴/۰۲"}


def test_validity_filter(api: httpx.Client) -> None:
    # A card is valid for one year after its verification (circular 29168 art. 4 note 3).
    valid = set(ids(api.get("/services", params={"valid": "true"}).json()))
    invalid = set(ids(api.get("/services", params={"valid": "false"}).json()))
    assert "13091728100" in invalid  # verified 2019-01-10
    assert None in invalid  # the task has no verification date at all
    assert not valid & invalid and len(valid) + len(invalid) == 4


def test_paging(api: httpx.Client) -> None:
    first = api.get("/services", params={"size": 3, "page": 1}).json()
    second = api.get("/services", params={"size": 3, "page": 2}).json()
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert not {i["iri"] for i in first["items"]} & {i["iri"] for i in second["items"]}


def test_bad_parameters_get_422(api: httpx.Client) -> None:
    assert api.get("/services", params={"audience": "X2Y"}).status_code == 422
    bad_date = api.get("/services", params={"verified_since": "1403/13/40"})
    assert bad_date.status_code == 422 and "1403/13/40" in bad_date.text
    assert api.get("/services", params={"size": 0}).status_code == 422


def test_injection_attempt_is_just_text(api: httpx.Client) -> None:
    # A parameter is bound, never spliced: SPARQL syntax in it is searched for as text.
    response = api.get("/services", params={"q": '") } UNION { ?item ?p ?o } #'})
    assert response.status_code == 200 and response.json()["total"] == 0
    assert api.get("/agencies/x> ?p ?o } #").status_code == 404


def test_service_card(api: httpx.Client) -> None:
    card = api.get("/services/13091728000").json()
    assert card["iri"] == api.base + "agency/sso/service/13091728000"
    props = card["properties"]
    assert props["dct:title"] == [{"value": "صدور دفترچه بيمه", "lang": "fa"}]
    assert props["kh:provider"][0]["iri"] == api.base + "agency/sso"
    assert props["kh:verifiedOn"] == [{"date": "2024-06-22", "jalali": "۱۴۰۳/۰۴/۰۲"}]
    assert props["kh:annualRecipients"] == [1200000]
    parts = {p["iri"]: p for p in card["parts"]}
    inquiry = parts[api.base + "agency/sso/service/13091728000/inquiry/1"]
    assert inquiry["properties"]["kh:answeredBy"][0]["iri"] == api.base + "agency/tax"
    assert api.base + "agency/sso/service/13091728000/evidence/1" in parts
    # Persian digits in the URL name the same service.
    assert api.get("/services/۱۳۰۹۱۷۲۸۰۰۰").json()["iri"] == card["iri"]


def test_service_card_as_turtle_and_jsonld(api: httpx.Client) -> None:
    iri = ox.NamedNode(api.base + "agency/sso/service/13091728000")
    turtle = api.get("/services/13091728000", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    triples = list(ox.parse(turtle.content, format=ox.RdfFormat.TURTLE))
    assert ox.Triple(
        iri, ox.NamedNode("https://w3id.org/khadamat/ontology#serviceId"), ox.Literal("13091728000")
    ) in {q.triple for q in triples}
    assert any(q.subject.value.endswith("/inquiry/1") for q in triples)
    jsonld = api.get("/services/13091728000", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(list(ox.parse(jsonld.content, format=ox.RdfFormat.JSON_LD))) == len(triples)


def test_legal_basis_trace(api: httpx.Client) -> None:
    trace = api.get("/services/13091728000/legal-basis").json()
    assert trace["grounded"] is True
    by_via = {s["via"]: s for s in trace["steps"]}
    mission = by_via["mission"]
    assert mission["mission"]["code"] == "sso-m1"
    assert mission["node"]["iri"] == api.base + "law/ssl/article/28"
    assert mission["node"]["text"] == "منابع درآمد سازمان عبارت است از حق بیمه."
    assert mission["instrument"] == {
        "iri": api.base + "law/ssl",
        "code": "ssl",
        "title": "قانون تأمین اجتماعی",
        "url": "/laws/ssl",
    }
    direct = by_via["direct"]
    assert direct["node"]["iri"] == api.base + "law/csml/article/38"
    assert direct["instrument"]["code"] == "csml"


def test_legal_basis_trace_as_turtle(api: httpx.Client) -> None:
    response = api.get("/services/13091728000/legal-basis", headers={"Accept": "text/turtle"})
    triples = {q.triple for q in ox.parse(response.content, format=ox.RdfFormat.TURTLE)}
    kh = "https://w3id.org/khadamat/ontology#"
    item = ox.NamedNode(api.base + "agency/sso/service/13091728000")
    mission = ox.NamedNode(api.base + "mission/sso-m1")
    assert ox.Triple(item, ox.NamedNode(kh + "realizesMission"), mission) in triples
    assert (
        ox.Triple(mission, ox.NamedNode(kh + "legalBasis"), ox.NamedNode(api.base + "law/ssl/article/28"))
        in triples
    )


def test_task_without_legal_basis_is_not_grounded(api: httpx.Client) -> None:
    trace = api.get("/services/22010000001/legal-basis").json()
    assert [s["node"]["iri"] for s in trace["steps"]] == [api.base + "law/ssl"]
    assert trace["steps"][0]["node"]["kind"] == "LegalInstrument"


def test_unknown_ids_get_404_with_messages(api: httpx.Client) -> None:
    for path in (
        "/services/99999999999",
        "/services/99999999999/legal-basis",
        "/agencies/nope",
        "/laws/nope",
        "/laws/ssl/999",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"] and response.json()["detail_fa"]


def test_agency_tree(api: httpx.Client) -> None:
    roots = api.get("/agencies").json()["agencies"]
    assert [r["code"] for r in roots] == ["mcls", "tax"]
    sso = roots[0]["children"][0]
    assert sso["code"] == "sso" and [c["code"] for c in sso["children"]] == ["sso-thr"]


def test_agency_detail(api: httpx.Client) -> None:
    sso = api.get("/agencies/sso").json()
    assert sso["name"] == "سازمان تأمین اجتماعی"
    assert [p["code"] for p in sso["parents"]] == ["mcls"]
    assert [m["code"] for m in sso["missions"]] == ["sso-m1"]
    assert [u["code"] for u in sso["units"]] == ["sso-thr"] and sso["affiliates"] == []
    assert sso["services"]["own"] == 2
    mcls = api.get("/agencies/mcls").json()
    assert [a["code"] for a in mcls["affiliates"]] == ["sso"]
    assert mcls["services"] == {"own": 1, "with_affiliates_and_units": 3, "url": "/services?agency=mcls"}


def test_law_and_article(api: httpx.Client) -> None:
    law = api.get("/laws/ssl").json()
    assert [p["article_number"] for p in law["parts"]] == ["28"]
    assert [m["code"] for m in law["missions"]] == ["sso-m1"]
    assert sorted(s["service_id"] for s in law["services"]) == ["13091728000", "13091728100", "22010000001"]
    article = api.get("/laws/ssl/28").json()
    assert [p["part_label"] for p in article["parts"]] == ["تبصره ۱"]
    assert sorted(s["service_id"] for s in article["services"]) == ["13091728000", "13091728100"]
    corpus = api.get("/laws/csml/38").json()  # the built-in corpus is browsable too
    assert [s["service_id"] for s in corpus["services"]] == ["13091728000"]


def test_openapi_and_docs(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    for path in (
        "/services",
        "/services/{service_id}",
        "/services/{service_id}/legal-basis",
        "/agencies",
        "/agencies/{code}",
        "/laws/{code}",
        "/laws/{code}/{article}",
        "/sparql",
    ):
        assert path in spec["paths"], path
    docs = api.get("/docs")
    assert docs.status_code == 200
    # Swagger UI comes from the package, not from a CDN (the machines are offline).
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert api.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
