"""No answer carries internal error text: OS errors, server paths, engine messages, tracebacks.

An exception no route expected is answered by the global handler (api/respond.py
unexpected_error) with a fixed 500 and a request id; routes that pass a value to pyoxigraph or
the validator answer 422/404 in their own words. Each case is caused for real on a live server.
"""

from __future__ import annotations

import re
import shutil

import httpx
import pytest

from tests.security.server_watch import assert_clean, assert_serving, served
from tests.security.upload_attacks import basic_files


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A server whose temporary folder is one we can take away from it (TMPDIR)."""
    root = tmp_path_factory.mktemp("api-errors")
    tmpdir = root / "server-tmp"
    tmpdir.mkdir()
    with served(root, env={"TMPDIR": str(tmpdir)}) as running:
        yield running, tmpdir


def test_an_unexpected_os_error_is_a_fixed_500_with_a_request_id(server) -> None:
    """The server's temporary folder disappears under it: the OSError (with its path) stays in the log."""
    running, tmpdir = server
    url = running.url
    first = httpx.post(url + "/validate", files=basic_files(), timeout=60)
    assert first.status_code == 200, first.text  # the server now uses (and remembers) tmpdir
    shutil.rmtree(tmpdir)
    response = httpx.post(url + "/validate", files=basic_files(), timeout=60)
    assert response.status_code == 500
    body = response.json()
    request_id = body["request_id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    assert response.headers["X-Request-ID"] == request_id
    assert (
        body["detail"]
        == f"internal error; the operator can find it in the server log as request {request_id}"
    )
    assert_clean(response)
    again = httpx.post(url + "/validate", files=basic_files(), timeout=60)
    assert again.status_code == 500 and again.json()["request_id"] != request_id  # one id per request
    tmpdir.mkdir()
    assert (
        httpx.post(url + "/validate", files=basic_files(), timeout=60).status_code == 200
    )  # the slots were freed
    assert_serving(running)


def test_a_value_pyoxigraph_refuses_is_named_in_our_words(server) -> None:
    url = server[0].url
    response = httpx.get(url + "/queries/gap-agencies-without-service", params={"agency": "a b"}, timeout=30)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "a parameter of query gap-agencies-without-service is not a valid IRI or literal: agency='a b'"
    )


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/queries/gap-agencies-without-service", {"agency": "a b<>\\"}, 422),  # pyoxigraph refuses the IRI
        ("/queries/gap-cards-out-of-date", {"onDate": "not a date"}, 422),
        ("/validate", {"agency": "x\\\"'<>{}"}, 404),
        ("/validate", {"agency": "maj", "date": "1405/13/40"}, 422),
        ("/services", {"verified_since": "99999/99/99"}, 422),
        ("/services/%00", {}, 404),
    ],
)
def test_refusals_speak_in_their_own_words(server, path: str, params: dict[str, str], status: int) -> None:
    url = server[0].url
    response = httpx.get(url + path, params=params, timeout=30)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert_clean(response)


def test_upload_errors_never_name_the_servers_folders(server) -> None:
    """A submission's input errors name the file as sent, not where the server keeps it."""
    url = server[0].url
    files = [("files", ("services.csv", "کد دستگاه,عنوان خدمت\nnope,خدمتی\n".encode(), "text/csv"))]
    response = httpx.post(url + "/validate", files=files, timeout=60)
    assert response.status_code == 422
    assert response.json()["errors"] and all(e.startswith("services.csv") for e in response.json()["errors"])
    assert_clean(response)
    bad_turtle = [("files", ("agency.ttl", b"<http://e/a> <http://e/p> <http://e/o .\n", "text/turtle"))]
    response = httpx.post(url + "/validate", files=bad_turtle, timeout=60)
    assert response.status_code == 422
    assert all(e.startswith("agency.ttl") for e in response.json()["errors"])
    assert_clean(response)
