"""POST /submissions and friends against a real `khadamat serve --workers 2 --tokens FILE`.

Each test says what a data officer or an operator would check: the status, the message, the
data visible on every worker right after a 201 (browse index, SPARQL in a query worker,
/validate), and the store folder unchanged byte for byte after every refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.store_support import copy_store, fingerprint
from tests.submission_support import (
    AGENCY,
    OTHER,
    Server,
    Tokens,
    agency_rows,
    agency_submission,
    bearer,
    make_tokens,
    on_every_worker,
    running_server,
    sparql_count,
    titles_with,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    return make_tokens(tmp_path_factory.mktemp("tokens"))


@pytest.fixture(scope="module")
def server(template: Path, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store = copy_store(template, tmp_path_factory.mktemp("served") / "store")
    with running_server(store, ["--tokens", str(tokens.file)], workers=2) as running:
        running.store = store  # type: ignore[attr-defined]
        yield running


def _store(server: Server) -> Path:
    return server.store  # type: ignore[attr-defined]


def _post(url: str, token: str | None, files: list, **params: str) -> httpx.Response:
    headers = bearer(token) if token else {}
    return httpx.post(url + "/submissions", files=files, headers=headers, params=params, timeout=120)


def test_accepted_submission_is_visible_on_every_worker_at_once(server: Server, tokens: Tokens) -> None:
    answer = _post(server.url, tokens.editor, agency_submission(marker="نسخه‌الف"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["id"].startswith("v")
    assert body["graphs"] == [f"https://w3id.org/khadamat/id/graph/agency/{AGENCY}"]
    assert body["triples"] > 100
    assert body["report"]["scope"] == "submission: agencies.csv, services.csv"  # no server path
    reported = {f["focusNode"] for f in body["report"]["findings"]}

    def sees_it(client: httpx.Client) -> None:
        assert titles_with(client, "نسخه‌الف") == 1  # the browse index of this worker
        assert sparql_count(client, "نسخه‌الف") == 1  # a query worker of this worker
        findings = client.get("/validate", params={"agency": AGENCY}).json()["findings"]
        assert {f["focusNode"] for f in findings} == reported  # /validate reads the new version

    assert len(on_every_worker(server.url, 2, sees_it)) == 2
    listed = httpx.get(server.url + "/submissions", headers=bearer(tokens.auditor), timeout=30).json()
    assert listed["submissions"][0]["id"] == body["id"]
    assert listed["submissions"][0]["who"]["name"] == "PPO data officer"
    detail = httpx.get(server.url + f"/submissions/{body['id']}", headers=bearer(tokens.editor), timeout=30)
    assert detail.status_code == 200
    assert [f["name"] for f in detail.json()["files"]] == ["agencies.csv", "services.csv"]


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("kh_000000000000_" + "0" * 64, 401), ("auditor", 403), ("other_editor", 403)],
)
def test_refused_callers_change_nothing(
    server: Server, tokens: Tokens, token: str | None, status: int
) -> None:
    before = fingerprint(_store(server), logs=False)
    secret = getattr(tokens, token) if token in ("auditor", "other_editor") else token
    answer = _post(server.url, secret, agency_submission(marker="ممنوع"))
    assert answer.status_code == status, answer.text
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    if token == "other_editor":  # an editor of maj-ivo sending maj-ppo's rows: refused on the data
        assert any(AGENCY in error for error in answer.json()["errors"]), answer.json()
    assert fingerprint(_store(server), logs=False) == before
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert titles_with(client, "ممنوع") == 0


def test_bad_input_is_422_with_the_cell_named(server: Server, tokens: Tokens) -> None:
    files = agency_submission()
    header, first, *rest = files[1][1][1].decode("utf-8").splitlines()
    cells = first.split(",")
    cells[2] = "not-an-id"  # شناسه خدمت
    broken = "\n".join([header, ",".join(cells), *rest]).encode("utf-8")
    before = fingerprint(_store(server), logs=False)
    answer = _post(server.url, tokens.editor, [files[0], ("files", ("services.csv", broken))])
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert any(e.startswith("services.csv") and "row 2" in e and "not-an-id" in e for e in errors), errors
    assert not any("/tmp" in e for e in errors)
    assert fingerprint(_store(server), logs=False) == before


def test_dry_run_writes_nothing(server: Server, tokens: Tokens) -> None:
    before = fingerprint(_store(server), logs=False)
    answer = _post(server.url, tokens.editor, agency_submission(marker="آزمایشی"), dry_run="true")
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] is None and answer.json()["dry_run"] is True
    assert answer.json()["report"]["findings"]
    assert fingerprint(_store(server), logs=False) == before
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert titles_with(client, "آزمایشی") == 0


def test_concurrent_submissions_are_serialized(server: Server, tokens: Tokens) -> None:
    answers: dict[str, httpx.Response] = {}

    def send(marker: str, token: str) -> None:
        code = AGENCY if token == tokens.editor else OTHER
        answers[marker] = _post(server.url, token, agency_submission(code, marker))

    threads = [
        threading.Thread(target=send, args=(marker, token))
        for marker, token in [
            ("همزمان۱", tokens.editor),
            ("همزمان۲", tokens.other_editor),
            ("همزمان۳", tokens.editor),
            ("همزمان۴", tokens.other_editor),
        ]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = {marker: answer.status_code for marker, answer in answers.items()}
    assert set(statuses.values()) <= {201, 503}, {m: a.text for m, a in answers.items()}
    for answer in answers.values():
        if answer.status_code == 503:
            assert answer.headers["Retry-After"].isdigit()
    accepted = [answers[m].json()["id"] for m in sorted(answers) if statuses[m] == 201]
    assert len(set(accepted)) == len(accepted) >= 1
    # Per agency the newest accepted version is what every reader sees; the others are replaced
    # whole (nothing half-written, no mix of two versions).
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for markers in (("همزمان۱", "همزمان۳"), ("همزمان۲", "همزمان۴")):
            mine = sorted((answers[m].json()["id"], m) for m in markers if statuses[m] == 201)
            for n, (_, marker) in enumerate(mine):
                assert titles_with(client, marker) == (1 if n == len(mine) - 1 else 0)


def test_withdraw_an_agency(server: Server, tokens: Tokens) -> None:
    refused = httpx.delete(
        server.url + f"/agencies/{AGENCY}/data", headers=bearer(tokens.other_editor), timeout=60
    )
    assert refused.status_code == 403
    unknown = httpx.delete(server.url + "/agencies/no-such/data", headers=bearer(tokens.admin), timeout=60)
    assert unknown.status_code == 404
    answer = httpx.delete(
        server.url + f"/agencies/{OTHER}/data", headers=bearer(tokens.other_editor), timeout=60
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"].startswith("v")
    withdrawn = {g.rsplit("/", 1)[1] for g in answer.json()["graphs"]}
    assert withdrawn == {OTHER, f"{OTHER}-khrz"}  # the agency and its provincial unit, not its parent
    with httpx.Client(base_url=server.url, timeout=60) as client:
        listed = client.get("/services", params={"agency": OTHER}, headers={"Accept": "application/json"})
        assert listed.status_code == 404, listed.text  # the agency itself is gone from every worker's index
        first_title = agency_rows("services.csv", OTHER).splitlines()[1].split(",")[1]
        assert sparql_count(client, first_title) == 0
        assert (
            client.get("/services", params={"agency": AGENCY}, headers={"Accept": "application/json"}).json()[
                "total"
            ]
            > 0
        )
    version = httpx.get(
        server.url + f"/submissions/{answer.json()['id']}", headers=bearer(tokens.auditor), timeout=30
    )
    assert version.json()["action"] == "withdraw"


def test_a_server_without_tokens_is_read_only(template: Path, tmp_path: Path) -> None:
    store = copy_store(template, tmp_path / "store")
    empty = tmp_path / "tokens.json"
    with running_server(store, ["--tokens", str(empty)]) as running:
        for token in (None, "kh_000000000000_" + "0" * 64):
            answer = httpx.post(
                running.url + "/submissions",
                files=agency_submission(),
                headers=bearer(token) if token else {},
                timeout=60,
            )
            assert answer.status_code == 403, answer.text
            assert answer.json()["detail"].startswith("this server is read-only: it has no tokens")
        withdraw = httpx.delete(running.url + f"/agencies/{AGENCY}/data", timeout=60)
        assert withdraw.status_code == 403
        page = httpx.get(running.url + "/submit", timeout=30)
        assert page.status_code == 200 and 'id="read-only"' in page.text


def test_refuse_violations_refuses_and_writes_nothing(template: Path, tmp_path: Path) -> None:
    store = copy_store(template, tmp_path / "store")
    tokens = make_tokens(tmp_path)
    with running_server(store, ["--tokens", str(tokens.file), "--refuse-violations"]) as running:
        before = fingerprint(store, logs=False)
        answer = _post(running.url, tokens.editor, agency_submission(marker="ردشده"))
        assert answer.status_code == 422, answer.text
        assert "refuses submissions with violations" in answer.json()["detail"]
        assert answer.json()["report"]["findings"]
        assert fingerprint(store, logs=False) == before
