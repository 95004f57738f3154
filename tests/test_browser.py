"""The query UI in headless Chromium: type a query into YASGUI, run it, see the result table.

Needs Debian's `chromium` and `chromium-driver` (apt-get install -y chromium chromium-driver)
and selenium (the `test` extra); skipped with the reason when they are missing. The page loads
nothing from the network: YASGUI is served from the package.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from khadamat.api.testing import dataset_server

from tests.pages_support import CHROMIUM, DRIVER, chromium

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')"
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="Chromium not found: apt-get install -y chromium chromium-driver",
)

QUERY = (
    "SELECT ?title WHERE { ?s <https://w3id.org/khadamat/ontology#serviceId> ?id ; "
    "<http://purl.org/dc/terms/title> ?title } ORDER BY ?id"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with chromium(tmp_path_factory.mktemp("chromium-profile"), width=1280) as driver:
        yield driver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    store_dir = tmp_path_factory.mktemp("api-browser") / "store"
    with dataset_server(store_dir, FIXTURE) as (url, _):
        yield url


def test_type_a_query_run_it_and_see_the_table(browser, server: str) -> None:
    browser.get(server + "/query")
    wait = WebDriverWait(browser, 20)
    editor = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror textarea")))
    # The editor starts with the Khadamat prefixes preloaded.
    assert "PREFIX kh: <https://w3id.org/khadamat/ontology#>" in browser.execute_script(
        "return window.khadamatYasgui.getTab().getQuery()"
    )
    browser.find_element(By.CSS_SELECTOR, ".yasqe .CodeMirror").click()
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(QUERY)
    typed = browser.execute_script("return window.khadamatYasgui.getTab().getQuery()")
    assert typed.replace(" ", "").startswith("SELECT?titleWHERE{")
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    table = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasr table tbody tr")))
    assert table is not None
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, ".yasr table tbody td")]
    titles = [c for c in cells if c and not c.isdigit()]  # YASR numbers the rows; literals show their @lang
    assert titles == ['"صدور دفترچه بيمه"@fa', '"تمدید اعتبار دفترچه بیمه"@fa', '"ثبت‌نام مالیاتی"@fa'], cells


def test_library_picker_loads_a_query(browser, server: str) -> None:
    browser.get(server + "/query")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    options = browser.find_elements(By.CSS_SELECTOR, "#library option")
    names = [o.get_attribute("value") for o in options if o.get_attribute("value")]
    if not names:
        pytest.skip("the query library (queries/*.rq) is empty in this checkout")
    browser.execute_script(
        "const s = document.getElementById('library'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change'));",
        names[0],
    )
    text = browser.execute_script("return window.khadamatYasgui.getTab().getQuery()")
    assert text.strip() and ("SELECT" in text.upper() or "ASK" in text.upper() or "CONSTRUCT" in text.upper())


def test_search_services_in_the_page(browser, server: str) -> None:
    """The citizen's path of the README: /services in a browser, a word typed in the search box."""
    browser.get(server + "/services")
    wait = WebDriverWait(browser, 10)
    box = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "form.search input[name=q]")))
    assert browser.execute_script("return document.documentElement.dir") == "rtl"
    box.send_keys("دفترچه", Keys.ENTER)
    wait.until(ec.url_contains("q="))
    first = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results tbody tr")))
    cells = [td.text for td in first.find_elements(By.TAG_NAME, "td")]
    assert cells == ["تمدید اعتبار دفترچه بیمه", "سازمان تأمین اجتماعی", "13091728100"], cells
    link = first.find_element(By.CSS_SELECTOR, "td a").get_attribute("href")
    assert link == server + "/id/agency/sso/service/13091728100"
