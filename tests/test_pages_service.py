"""The service page and the search page as a reader sees them in headless Chromium (issue 14).

examples/catalog is loaded by the real loader and served; Chromium opens the pages, the test
reads what is on the screen. Expected figures come from examples/catalog by hand: service
14230200300 of maj-ppo (services.csv) has a direct cost of 3,000,000 rials, 20 days, mission
ppo-m2 (missions.csv) grounded on article 10 of the plant protection law (laws.csv), and two
counter offices (counters.csv rows for 14230200300: 21045567 in Tehran, 71011378 in Shiraz).
The screenshots in the README (docs/images/) are written here.
"""

from __future__ import annotations

import base64
import csv
import re

import httpx
import pytest

from tests.pages_support import (
    BROWSER_ACCEPT,
    CATALOG,
    IMAGES,
    axe_violations,
    catalog_server,
    chromium,
    full_page_png,
    needs_chromium,
    token,
)

PrintOptions = pytest.importorskip("selenium.webdriver.common.print_page_options").PrintOptions

pytestmark = [needs_chromium, pytest.mark.slow]
SERVICE = "/id/agency/maj-ppo/service/14230200300"
CURIE = re.compile(r"\b(?:kh|dct|rdf|rdfs|skos|org|foaf|cv|cpsv|xsd):[A-Za-z]")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    with catalog_server(tmp_path_factory.mktemp("pages-service")) as served:
        yield served


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def services_rows() -> list[dict[str, str]]:
    with (CATALOG / "services.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def text_of(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "main").text


def test_the_service_page_reads_in_the_citizens_order(browser, site) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    browser.get(url + SERVICE)
    assert browser.find_element(By.TAG_NAME, "h1").text == "صدور پروانه فروش سموم و نهاده‌های گیاه‌پزشکی"
    shown = text_of(browser)
    # The legal chain, near the top: service → mission → article → law, each a link to its page.
    chain = browser.find_element(By.CSS_SELECTOR, "#legal-basis ol.chain li")
    links = [(a.text, a.get_attribute("href")) for a in chain.find_elements(By.TAG_NAME, "a")]
    assert links == [
        ("ثبت و نظارت بر ورود، ساخت و فروش سموم و آفت‌کش‌های کشاورزی", url + "/id/mission/ppo-m2"),
        ("ماده ۱۰", url + "/id/law/ex-ppl/article/10"),
        ("قانون حفظ نباتات", url + "/id/law/ex-ppl"),
    ]
    for _, href in links:  # each link opens a page of this server
        assert httpx.get(href, headers={"Accept": BROWSER_ACCEPT}).status_code == 200
    assert shown.index("مبنای قانونی") < shown.index("چه کسانی می‌توانند درخواست دهند")
    # The article's text is one click away.
    summary = chain.find_element(By.TAG_NAME, "summary")
    summary.click()
    assert "منوط به ثبت آنها و اخذ پروانه از سازمان حفظ نباتات است" in chain.text
    # Money and time in Persian digits, with the Persian thousands separator and the unit.
    assert "۳٬۰۰۰٬۰۰۰ ریال" in shown and "۲۰ روز" in shown
    # Yes/no in words; no True/False, no compact names, no loader internals, no source row.
    assert "شروع الکترونیکی\nبله" in shown and "تولید الکترونیکی\nخیر" in shown
    page = browser.page_source
    assert not re.search(r"\b(True|False)\b", shown)
    assert not CURIE.search(shown)
    for internal in ("کلید عنوان", "کلید زیرمجموعه عنوان", "واژه عنوان", "عنوان یکسان‌سازی‌شده", "ردیف مبدأ"):
        assert internal not in shown
    assert "services.csv" not in page and "counters.csv" not in page
    # Counter offices by name and address, with their count.
    offices = browser.find_elements(By.CSS_SELECTOR, "ul.offices li")
    assert "دفاتر پیشخوان (۲)" in shown
    assert [o.find_element(By.TAG_NAME, "strong").text for o in offices] == [
        "دفتر پیشخوان خدمات دولت کد ۲۱۰۴۵۵۶۷",
        "دفتر پیشخوان خدمات دولت کد ۷۱۰۱۱۳۷۸",
    ]
    assert "شیراز، خیابان زند، روبروی بیمارستان نمازی، پلاک ۲۱۴" in offices[1].text
    # Documents needed, as the card lists them.
    documents = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#documents li")]
    assert documents == ["مدرک تحصیلی", "کارت ملی", "سند یا اجاره‌نامه محل"]
    assert axe_violations(browser) == []
    full_page_png(browser, IMAGES / "service-page.png")


def test_the_service_page_prints_on_one_page(browser, site) -> None:
    url, _ = site
    browser.get(url + SERVICE)
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7  # A4, in centimetres
    data = base64.b64decode(browser.print_page(options))
    # Each page of a PDF is one object of /Type /Page (the tree of them is /Type /Pages).
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) == 1


def test_sub_services_and_parent_are_listed(browser, site) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    children = [r["شناسه خدمت"] for r in services_rows() if r["شناسه خدمت مادر"] == "14230100500"]
    assert children == ["14230100501", "14230100502"]
    browser.get(url + "/id/agency/maj/service/14230100500")
    related = browser.find_element(By.ID, "related")
    hrefs = [a.get_attribute("href") for a in related.find_elements(By.TAG_NAME, "a")]
    assert hrefs == [url + f"/id/agency/maj/service/{c}" for c in children]
    browser.get(url + "/id/agency/maj/service/14230100501")
    parent = browser.find_element(By.ID, "related").find_element(By.TAG_NAME, "a")
    assert parent.get_attribute("href") == url + "/id/agency/maj/service/14230100500"


def test_english_labels_by_query_or_header(site) -> None:
    url, _ = site
    by_query = httpx.get(url + SERVICE, params={"lang": "en"}, headers={"Accept": BROWSER_ACCEPT}).text
    by_header = httpx.get(
        url + SERVICE, headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "en-US,en;q=0.9"}
    ).text
    for page in (by_query, by_header):
        # The content stays Persian and right-to-left; the page's own words are English.
        assert '<html lang="fa" dir="rtl">' in page and 'class="lang-en"' in page
        assert "Legal basis" in page and "3,000,000 rials" in page and "duration (days)" in page
        assert "مدت زمان ارائه (روز)" not in page
    persian = httpx.get(url + SERVICE, headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "fa"}).text
    assert "مبنای قانونی" in persian and "مدت زمان ارائه (روز)" in persian and "Legal basis" not in persian


def test_the_source_row_is_for_auditors_only(site) -> None:
    url, store_dir = site
    audit = {"view": "audit"}
    assert httpx.get(url + SERVICE, params=audit, headers={"Accept": BROWSER_ACCEPT}).status_code == 401
    auditor = token(store_dir, "auditor")
    page = httpx.get(
        url + SERVICE, params=audit, headers={"Accept": BROWSER_ACCEPT, "Authorization": f"Bearer {auditor}"}
    ).text
    # services.csv: the row of 14230200300 is line 18 of the sheet (the header is line 1).
    line = next(n for n, r in enumerate(services_rows(), start=2) if r["شناسه خدمت"] == "14230200300")
    row = str(line).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    cells = '<td dir="ltr">services.csv</td><td dir="ltr">services</td>'
    expected = f'<tr class="source-row">{cells}<td>{row}</td></tr>'
    assert expected in page


def test_the_search_page_filters_narrow_the_results(browser, site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url, _ = site
    browser.get(url + "/services")
    before = len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr"))
    Select(browser.find_element(By.ID, "f-channel")).select_by_value("counter")
    Select(browser.find_element(By.ID, "f-agency")).select_by_value("maj-ppo")
    browser.find_element(By.CSS_SELECTOR, "form.search button[type=submit]").click()
    wait = WebDriverWait(browser, 20)
    wait.until(ec.url_contains("channel=counter"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results tbody tr")))
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    # services.csv by hand: maj-ppo's services offered at a counter (پیشخوان among the channels).
    expected = [
        r["شناسه خدمت"]
        for r in services_rows()
        if r["کد دستگاه"] == "maj-ppo" and "پیشخوان" in r["کانال‌های ارائه"] and r["خدمت/وظیفه"] == "خدمت"
    ]
    ids = sorted(row.find_elements(By.TAG_NAME, "td")[2].text for row in rows)
    assert 0 < len(rows) < before
    assert ids == sorted(expected)
    # The same filters narrow the JSON, at the same URL.
    answer = httpx.get(url + "/services", params={"channel": "counter", "agency": "maj-ppo"}).json()
    assert sorted(i["service_id"] for i in answer["items"]) == sorted(expected)
    assert axe_violations(browser) == []
    # The README's picture: a life event's services, ten to a page.
    browser.get(url + "/services?family=agriculture&size=8")
    assert "۱ تا ۸ از" in text_of(browser)
    full_page_png(browser, IMAGES / "search-page.png")


def test_the_pages_fit_a_phone(tmp_path, site) -> None:
    url, _ = site
    with chromium(tmp_path / "phone", width=390, height=844) as phone:
        for path in (SERVICE, "/services", "/id/agency/maj-ppo", "/validate"):
            phone.get(url + path)
            overflow = phone.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, overflow)


def test_family_and_province_filters_in_json(site) -> None:
    url, _ = site
    with (CATALOG / "agencies.csv").open(encoding="utf-8") as handle:
        in_fars = {a["کد دستگاه"] for a in csv.DictReader(handle) if a["استان"] == "فارس"}
    with (CATALOG / "counters.csv").open(encoding="utf-8") as handle:
        at_fars_counters = {c["شناسه خدمت"] for c in csv.DictReader(handle) if c["استان"] == "فارس"}
    rows = services_rows()
    # By hand: a service is in Fars when its provider is a Fars unit or a Fars counter office offers
    # it (maj-fars's row 14230100100 is its unit's delivery of maj's service: one service, once).
    expected = sorted(
        {
            r["شناسه خدمت"] or r["عنوان خدمت"]
            for r in rows
            if r["کد دستگاه"] in in_fars or (r["شناسه خدمت"] and r["شناسه خدمت"] in at_fars_counters)
        }
    )
    answer = httpx.get(url + "/services", params={"province": "فارس", "size": 500}).json()
    assert sorted(i["service_id"] or i["title"] for i in answer["items"]) == expected
    assert answer["total"] == len(expected) > 0
    marriage = [r["عنوان خدمت"] for r in rows if "ازدواج" in r["رویدادهای مرتبط"]]
    answer = httpx.get(url + "/services", params={"family": "marriage"}).json()
    assert [i["title"] for i in answer["items"]] == marriage and len(marriage) == 1
