"""`GET /reports` and `GET /reports/diff` (issue 12) on a real `khadamat serve`, talked to with
httpx: the same figures as `khadamat report`, in JSON, CSV, HTML or XLSX by the Accept header;
the diff between two versions of the history for auditors only."""

from __future__ import annotations

import csv
import io
import json

import httpx
import openpyxl
import pytest
from khadamat.api.testing import live_server
from test_report_diff import CATALOG, edited_catalog

from khadamat.cli import main

pytestmark = pytest.mark.slow
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report-api")
    store = tmp / "store"
    assert main(["load", str(CATALOG), "--store", str(store), "-q"]) == 0
    assert main(["load", str(edited_catalog(tmp / "edited")), "--store", str(store), "-q"]) == 0
    with live_server(store) as url:
        yield url, store


def test_reports_answer_json_csv_html_and_xlsx_by_accept(server, capsys) -> None:
    url, store = server
    params = {"date": "1405/09/13", "family": "mrud"}
    answer = httpx.get(url + "/reports", params=params, timeout=120)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    data = answer.json()
    capsys.readouterr()
    assert main(["report", "--store", str(store), "--date", "1405/09/13", "--family", "mrud",
                 "--format", "json"]) == 0  # fmt: skip
    assert data == json.loads(capsys.readouterr().out)
    # After the edits: mrud-cdtic lost 13150400200; the family holds 22 cards.
    assert data["national"]["cards"] == 22
    as_csv = httpx.get(url + "/reports", params=params, headers={"Accept": "text/csv"}, timeout=120)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    cdtic = next(r for r in rows if r["table"] == "agencies" and r["code"] == "mrud-cdtic")
    assert (cdtic["services"], cdtic["tasks"]) == ("1", "1")
    page = httpx.get(url + "/reports", params=params, headers={"Accept": "text/html,*/*;q=0.8"}, timeout=120)
    assert page.headers["content-type"].startswith("text/html") and 'dir="rtl"' in page.text
    assert "۱۴۰۵/۰۹/۱۳" in page.text and "<svg" in page.text
    english = httpx.get(url + "/reports", params=params | {"lang": "en"}, headers={"Accept": "text/html"},
                        timeout=120)  # fmt: skip
    assert 'dir="ltr"' in english.text and "Annual evaluation of executive agencies" in english.text
    book = httpx.get(url + "/reports", params=params, headers={"Accept": XLSX}, timeout=120)
    sheets = openpyxl.load_workbook(io.BytesIO(book.content)).sheetnames
    assert sheets == ["شاخص‌های کشوری", "خانواده‌های دستگاه‌ها", "دستگاه‌ها", "رتبه‌بندی‌ها",
                      "یافته‌ها بر پایه قاعده", "پوشش استان‌ها"]  # fmt: skip
    refused = httpx.get(url + "/reports", headers={"Accept": "image/png"}, timeout=30)
    assert refused.status_code == 406
    unknown = httpx.get(url + "/reports", params={"agency": "nobody"}, timeout=60)
    assert unknown.status_code == 422 and "nobody" in unknown.json()["detail"]


def test_reports_diff_between_versions_for_auditors(server, capsys) -> None:
    url, store = server
    capsys.readouterr()
    assert main(["token", "add", "--role", "auditor", "--name", "second auditor", "--store", str(store)]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    path = "/reports/diff"
    params = {"from": "v000001", "to": "v000002", "date": "1405/09/13"}
    assert httpx.get(url + path, params=params, timeout=30).status_code == 401
    auth = {"Authorization": f"Bearer {secret}"}
    answer = httpx.get(url + path, params=params, headers=auth, timeout=120)
    assert answer.status_code == 200
    kinds = {(r["agency"], r["change"]) for r in answer.json()["changes"]}
    assert {
        ("maj-ppo", "added"),
        ("mrud-cdtic", "removed"),
        ("mrud-nlho", "retitled"),
        ("maj-ppo", "moved"),
        ("mrud-nlho", "id-changed"),
        ("maj-ppo", "finding-fixed"),
        ("mrud", "finding-new"),
    } <= kinds
    page = httpx.get(url + path, params=params, headers=auth | {"Accept": "text/html"}, timeout=120)
    assert 'id="diff-changes"' in page.text and "mrud-cdtic" in page.text
    now = httpx.get(url + path, params={"from": "v000002", "findings": "false"}, headers=auth, timeout=60)
    assert now.json()["changes"] == []
    assert httpx.get(url + path, params={"from": "/etc"}, headers=auth, timeout=30).status_code == 422
    assert httpx.get(url + path, params={"from": "v000099"}, headers=auth, timeout=30).status_code == 404
