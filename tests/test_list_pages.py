"""The list routes in a browser: `/services?q=…` and `/agencies` as right-to-left Persian pages.

A live server over the API fixture; the page is asked for with a browser's Accept header and
parsed (html.parser), so the test sees the rows, links and paging a reader would. JSON stays the
answer of API clients (no Accept, `*/*`, `application/json`) and RDF of linked-data clients.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from khadamat.api.testing import dataset_server

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"
# What Chromium and Firefox send for a page.
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


class Page(HTMLParser):
    """The parts of a list page a reader uses: the html element's attributes, the rows of the
    results table as (text, href) cells, the agency tree's links, the search box and paging links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.html: dict[str, str | None] = {}
        self.rows: list[list[tuple[str, str | None]]] = []
        self.links: list[tuple[str, str | None]] = []  # every <a> in <main>: (text, href)
        self.search: dict[str, str | None] = {}
        self.rel: dict[str, str | None] = {}
        self._in_results = self._in_main = False
        self._cell: list[str] | None = None
        self._href: str | None = None
        self._anchor: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html = a
        elif tag == "main":
            self._in_main = True
        elif tag == "table" and a.get("id") == "results":
            self._in_results = True
        elif tag == "tr" and self._in_results:
            self.rows.append([])
        elif tag == "td" and self._in_results:
            self._cell, self._href = [], None
        elif tag == "a" and self._in_main:
            self._anchor = []
            if self._cell is not None:
                self._href = a.get("href")
            if a.get("rel"):
                self.rel[a["rel"] or ""] = a.get("href")
            self._anchor_href = a.get("href")
        elif tag == "input" and a.get("name") == "q":
            self.search = a

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_results = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(("".join(self._cell).strip(), self._href))
            self._cell = None
        elif tag == "a" and self._anchor is not None:
            self.links.append(("".join(self._anchor).strip(), self._anchor_href))
            self._anchor = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._anchor is not None:
            self._anchor.append(data)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with dataset_server(tmp_path_factory.mktemp("list-pages") / "store", FIXTURE) as (url, _):
        yield url


def page(url: str, **params: str | int) -> tuple[httpx.Response, Page]:
    response = httpx.get(url, params=params, headers={"Accept": BROWSER})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    return response, Page(response.text)


SSO = ("سازمان تأمین اجتماعی", "/id/agency/sso")
RENEW = "/id/agency/sso/service/13091728100"
ISSUE = "/id/agency/sso/service/13091728000"


def test_a_browser_gets_the_search_page_with_the_matching_rows(server: str) -> None:
    _, html = page(server + "/services", q="دفترچه")
    assert html.html == {"lang": "fa", "dir": "rtl"}
    assert html.search["value"] == "دفترچه"
    assert html.rows == [
        [],  # the header row (th cells)
        [("تمدید اعتبار دفترچه بیمه", RENEW), SSO, ("13091728100", RENEW)],
        [("صدور دفترچه بيمه", ISSUE), SSO, ("13091728000", ISSUE)],
    ]
    assert html.rel == {}  # one page: no paging links
    # every link of a row opens a page of this server (the entity pages are HTML too)
    entity = httpx.get(server + RENEW, headers={"Accept": BROWSER})
    assert entity.status_code == 200 and "تمدید اعتبار دفترچه بیمه" in entity.text


def test_api_clients_keep_json_and_rdf(server: str) -> None:
    for accept in (None, "*/*", "application/json"):
        headers = {"Accept": accept} if accept else {}
        response = httpx.get(server + "/services", params={"q": "دفترچه"}, headers=headers)
        assert response.headers["content-type"] == "application/json", accept
        assert [i["title"] for i in response.json()["items"]] == [
            "تمدید اعتبار دفترچه بیمه",
            "صدور دفترچه بيمه",
        ]
    turtle = httpx.get(server + "/services", params={"q": "دفترچه"}, headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    refused = httpx.get(server + "/services", headers={"Accept": "text/html;q=0, application/json"})
    assert refused.headers["content-type"] == "application/json"
    agencies = httpx.get(server + "/agencies")
    assert agencies.headers["content-type"] == "application/json"
    assert [a["code"] for a in agencies.json()["agencies"]] == ["mcls", "tax"]


def test_paging_keeps_the_filters_and_links_both_ways(server: str) -> None:
    _, html = page(server + "/services", size=1, page=2)
    assert html.rel == {"prev": "/services?size=1&page=1", "next": "/services?size=1&page=3"}
    assert [row[0][0] for row in html.rows[1:]] == ["ثبت‌نام مالیاتی"]
    response, _ = page(server + "/services", size=1, page=2)
    assert "صفحهٔ ۲ از ۴" in response.text and "۲ تا ۲ از ۴ مورد" in response.text
    assert '<input type="hidden" name="size" value="1">' in response.text  # a new search keeps it


def test_a_search_for_markup_is_shown_as_text(server: str) -> None:
    response, html = page(server + "/services", q='<script>alert("x")</script>')
    assert "<script>" not in response.text
    assert html.search["value"] == '<script>alert("x")</script>'
    assert "موردی یافت نشد" in response.text


def test_a_browser_gets_the_agency_tree(server: str) -> None:
    _, html = page(server + "/agencies")
    assert html.html == {"lang": "fa", "dir": "rtl"}
    tree = [link for link in html.links if link[0] != "خدمات"]
    assert tree == [
        ("وزارت تعاون، کار و رفاه اجتماعی", "/id/agency/mcls"),
        SSO,
        ("اداره کل تأمین اجتماعی استان تهران", "/id/agency/sso-thr"),
        ("سازمان امور مالیاتی کشور", "/id/agency/tax"),
    ]
    services = [href for text, href in html.links if text == "خدمات"]
    assert services == [f"/services?agency={c}" for c in ("mcls", "sso", "sso-thr", "tax")]
