"""The agency page, the article page and the validation report in headless Chromium (issue 14).

examples/catalog loaded by the real loader and served. The expected rows are read by hand from
the CSV sheets (missions.csv: ppo-m1 on ex-ppl:1, ppo-m2 on ex-ppl:10; services.csv: the mission
code of each service) or, for figures the validator computes, from the JSON API at the same
server — a different path (JSON) from the one under test (the page).
"""

from __future__ import annotations

import csv
import re
import time

import httpx
import pytest

from tests.pages_support import (
    BROWSER_ACCEPT,
    CATALOG,
    axe_violations,
    catalog_server,
    chromium,
    needs_chromium,
)

pytestmark = [needs_chromium, pytest.mark.slow]
CURIE = re.compile(r"\b(?:kh|dct|rdf|rdfs|skos|org|foaf|cv|cpsv|xsd|eli):[A-Za-z]")
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    with catalog_server(tmp_path_factory.mktemp("pages-agency")) as served:
        yield served


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def sheet(name: str) -> list[dict[str, str]]:
    with (CATALOG / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def open_when_validated(browser, url: str) -> None:
    """Open a page, again until the agency's background validation has finished (at most 60 s)."""
    from selenium.webdriver.common.by import By

    end = time.monotonic() + 60
    while True:
        browser.get(url)
        if not browser.find_elements(By.ID, "findings-pending") or time.monotonic() > end:
            return
        time.sleep(0.5)


def test_the_agency_page(browser, site) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    open_when_validated(browser, url + "/id/agency/maj-ppo")
    assert browser.find_element(By.TAG_NAME, "h1").text == "سازمان حفظ نباتات کشور"
    # Missions with their legal basis (missions.csv), each a link.
    missions = browser.find_elements(By.CSS_SELECTOR, "ul.missions > li")
    expected = [
        (m["کد ماموریت"], m["مبنای قانونی"]) for m in sheet("missions") if m["کد دستگاه"] == "maj-ppo"
    ]
    assert expected == [("ppo-m1", "ex-ppl:1"), ("ppo-m2", "ex-ppl:10")]
    assert [m.find_element(By.TAG_NAME, "a").get_attribute("href") for m in missions] == [
        url + "/id/mission/ppo-m1",
        url + "/id/mission/ppo-m2",
    ]
    article_links = [
        [(a.text, a.get_attribute("href")) for a in m.find_elements(By.CSS_SELECTOR, ":scope ul a")]
        for m in missions
    ]
    assert article_links == [
        [("ماده ۱", url + "/id/law/ex-ppl/article/1"), ("قانون حفظ نباتات", url + "/id/law/ex-ppl")],
        [("ماده ۱۰", url + "/id/law/ex-ppl/article/10"), ("قانون حفظ نباتات", url + "/id/law/ex-ppl")],
    ]
    # What agencies.csv says of it besides its place in the tree: its website, as a link.
    (row,) = [r for r in sheet("agencies") if r["کد دستگاه"] == "maj-ppo"]
    details = browser.find_element(By.ID, "details")
    links = [(a.text, a.get_dom_attribute("href")) for a in details.find_elements(By.TAG_NAME, "a")]
    assert links == [("ppo.ir", row["پایگاه اینترنتی"])]
    assert "maj-ppo" not in details.text  # the loader's normalized code is an internal
    # Its services: every row of services.csv whose agency is maj-ppo.
    own = [r for r in sheet("services") if r["کد دستگاه"] == "maj-ppo"]
    services = browser.find_elements(By.CSS_SELECTOR, "#services > ul > li")
    assert len(services) == len(own) == 6
    assert f"خدمات ({str(len(own)).translate(FA)})" in browser.find_element(By.ID, "h-services").text
    # Open findings: the total is the JSON report's, for the same agency.
    report = httpx.get(url + "/validate", params={"agency": "maj-ppo"}, timeout=120).json()
    total = len(report["findings"])
    assert total > 0
    summary = browser.find_element(By.ID, "open-findings").text
    assert f"{str(total).translate(FA)} یافته" in summary
    for rule in {f["rule"] for f in report["findings"]}:
        assert rule in summary
    # Gaps: the library's gap query for this agency, as /queries answers it.
    gap = httpx.get(
        url + "/queries/gap-without-service-id", params={"agency": url + "/id/agency/maj-ppo"}, timeout=60
    ).json()
    assert gap["count"] == 1
    shown = browser.find_element(By.ID, "gap-gap-without-service-id")
    shown.find_element(By.TAG_NAME, "summary").click()
    assert gap["rows"][0]["title"] in shown.text
    assert not CURIE.search(browser.find_element(By.TAG_NAME, "main").text)
    assert axe_violations(browser) == []


def test_the_agency_tree_links_to_each_agency_page(browser, site) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    browser.get(url + "/agencies")
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#agencies a")}
    assert links["سازمان حفظ نباتات کشور"] == url + "/id/agency/maj-ppo"
    # The ministry's affiliated agencies are nested below it.
    ministry = browser.find_element(By.XPATH, "//ul[@id='agencies']/li[a[text()='وزارت جهاد کشاورزی']]")
    assert "سازمان حفظ نباتات کشور" in ministry.find_element(By.TAG_NAME, "ul").text
    assert axe_violations(browser) == []


def test_the_article_page_lists_what_rests_on_it(browser, site) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    browser.get(url + "/id/law/ex-ppl/article/10")
    assert browser.find_element(By.TAG_NAME, "h1").text == "ماده ۱۰ — قانون حفظ نباتات"
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "ورود، ساخت، فرمول‌بندی و فروش سموم و آفت‌کش‌های کشاورزی منوط به ثبت آنها" in main
    missions = [
        a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#grounded-missions a")
    ]
    assert missions == [url + "/id/mission/ppo-m2"]
    # services.csv: the services whose mission is ppo-m2 (the mission grounded on ex-ppl:10).
    expected = sorted(r["شناسه خدمت"] for r in sheet("services") if r["کد ماموریت"] == "ppo-m2")
    assert expected == ["14230200300", "14230200400", "14230200500"]
    services = browser.find_elements(By.CSS_SELECTOR, "#grounded-services li")
    assert sorted(li.find_element(By.TAG_NAME, "bdi").text for li in services) == expected
    assert not CURIE.search(main)
    assert axe_violations(browser) == []
    # /laws/ex-ppl/10 in a browser is the same page; JSON stays JSON.
    page = httpx.get(url + "/laws/ex-ppl/10", headers={"Accept": BROWSER_ACCEPT})
    assert page.headers["content-type"].startswith("text/html") and "ماده ۱۰" in page.text
    assert httpx.get(url + "/laws/ex-ppl/10").json()["article"] == "10"


def test_the_validation_report_groups_names_and_links(browser, site) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    report = httpx.get(url + "/validate", timeout=120).json()
    browser.get(url + "/validate")
    sections = browser.find_elements(By.CSS_SELECTOR, "#findings section.agency")
    assert len(sections) == len({f["agency"] for f in report["findings"]})
    # One group per (agency, rule).
    groups = browser.find_elements(By.CSS_SELECTOR, "#findings details.rule")
    assert len(groups) == len({(f["agency"], f["rule"]) for f in report["findings"]})
    rows = browser.find_elements(By.CSS_SELECTOR, "#findings tr.finding")
    assert len(rows) == len(report["findings"])
    # The planted finding of examples/planted-defects.csv: a card verified more than a year ago.
    finding = next(f for f in report["findings"] if f["rule"] == "CardVerifiedWithinYearShape")
    row = next(r for r in rows if finding["title"] in r.text)
    link = row.find_element(By.TAG_NAME, "a")
    assert link.text == finding["title"] and link.get_attribute("href") == finding["focusNode"]
    assert finding["serviceId"] in row.text
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[-3:] == ["services.csv", "services", str(finding["source"]["row"]).translate(FA)]
    # The article's text one click away.
    group = row.find_element(By.XPATH, "ancestor::details[@class='rule']")
    law = group.find_element(By.CSS_SELECTOR, "details.law")
    assert not law.find_element(By.TAG_NAME, "blockquote").is_displayed()
    law.find_element(By.TAG_NAME, "summary").click()
    assert "مدت اعتبار اطلاعات مندرج در شناسنامه هر خدمت یک سال" in law.text
    assert httpx.get(finding["focusNode"], headers={"Accept": BROWSER_ACCEPT}).status_code == 200
    assert axe_violations(browser) == []
