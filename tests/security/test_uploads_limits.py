"""`POST /validate` request bounds, checked while the body streams (api/uploads.py, UploadLimits).

Each test sends the oversize request itself to a live server and checks the exact refusal, that
the body was never held in memory (peak resident memory of the server's process tree), and that
the server kept answering `/health` and `/services` within 1 s during and after.
"""

from __future__ import annotations

import itertools
import select
import socket
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest
from khadamat.api.config import UploadLimits

from tests.security.server_watch import MiB, Server, Watch, assert_serving, served, watch
from tests.security.store_support import BASIC
from tests.security.upload_attacks import basic_files

LIMITS = UploadLimits()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with served(tmp_path_factory.mktemp("upload-limits")) as running:
        yield running


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], str]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body.decode("utf-8")


def _head(url: str, extra: str) -> bytes:
    return (
        f"POST /validate HTTP/1.1\r\nHost: {url.removeprefix('http://')}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n" + extra + "\r\n"
    ).encode()


def test_declared_oversize_is_refused_before_any_byte_of_the_body(server: Server) -> None:
    """Content-Length over the limit: 413 at once, though not one byte of the body was sent."""
    with watch(server) as seen, _connect(server.url) as sock:
        sock.sendall(_head(server.url, f"Content-Length: {10 * LIMITS.max_request_bytes}\r\n"))
        started = time.monotonic()
        status, _, body = _read_response(sock)
        waited = time.monotonic() - started
    assert status == 413, body
    assert httpx.Response(413, content=body).json()["detail"] == "the upload is larger than 64 MiB"
    assert waited < 1.0
    assert seen.worst() < 1.0
    assert_serving(server)


def _part_head(name: str) -> bytes:
    return f'--xyz\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'.encode()


def _stream_chunked(server: Server, pieces: Iterator[bytes]) -> tuple[int, str, int, Watch]:
    """Send a chunked body (no Content-Length) until the server answers.

    Returns (status, detail, bytes sent, what the watcher saw)."""
    sent = 0
    with watch(server) as seen, _connect(server.url) as sock:
        sock.sendall(_head(server.url, "Transfer-Encoding: chunked\r\n"))
        try:
            for piece in pieces:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: it has answered already
        status, _, body = _read_response(sock)
    return status, httpx.Response(status, content=body).json()["detail"], sent, seen


def test_streamed_file_past_its_bound_is_cut(server: Server) -> None:
    """One file streamed without Content-Length: 413 naming it once it passes 50 MiB, never held in memory."""
    pieces = itertools.chain([_part_head("services.csv")], itertools.repeat(b"a," * (MiB // 2), 200))
    status, detail, sent, seen = _stream_chunked(server, pieces)
    assert (status, detail) == (413, "'services.csv' is larger than 50 MiB")
    assert sent < LIMITS.max_file_bytes + 16 * MiB  # answered as soon as it passed (socket buffers aside)
    assert seen.peak_rss < seen.first_rss + 64 * MiB, (seen.first_rss, seen.peak_rss)
    assert seen.worst() < 1.0
    assert_serving(server)


def test_streamed_request_past_its_bound_is_cut(server: Server) -> None:
    """Files of 10 MiB each (under the per-file bound) streamed without Content-Length: 413 past 64 MiB."""

    def pieces() -> Iterator[bytes]:
        for n in range(19):
            yield _part_head(f"part{n}.ttl")
            yield from itertools.repeat(b"#" * MiB, 10)
            yield b"\r\n"

    status, detail, sent, seen = _stream_chunked(server, pieces())
    assert (status, detail) == (413, "the upload is larger than 64 MiB")
    assert LIMITS.max_request_bytes < sent < LIMITS.max_request_bytes + 16 * MiB
    assert seen.peak_rss < seen.first_rss + 64 * MiB, (seen.first_rss, seen.peak_rss)
    assert seen.worst() < 1.0
    assert_serving(server)


def test_too_many_files(server: Server) -> None:
    files = [
        ("files", (f"part{n}.ttl", b"<http://e/s> <http://e/p> 1 .\n", "text/turtle")) for n in range(21)
    ]
    with watch(server) as seen:
        response = httpx.post(server.url + "/validate", files=files, timeout=30)
    assert response.status_code == 413
    assert response.json()["detail"] == "the upload holds more than 20 files"
    assert seen.worst() < 1.0
    assert_serving(server)


@pytest.fixture(scope="module")
def one_file(tmp_path_factory: pytest.TempPathFactory):
    """A server given `--upload-max-files 1`, with KHADAMAT_UPLOAD_MAX_FILES=5 in its environment."""
    flags = ["--upload-max-files", "1"]
    with served(
        tmp_path_factory.mktemp("upload-one"), flags, env={"KHADAMAT_UPLOAD_MAX_FILES": "5"}
    ) as running:
        yield running


def test_the_file_count_is_a_flag_of_serve(one_file: Server) -> None:
    """`khadamat serve --upload-max-files 1` (the flag wins over the environment): two files are
    refused with the count's 413 while the server keeps serving; one file is read and validated."""
    with watch(one_file) as seen:
        two = httpx.post(one_file.url + "/validate", files=basic_files("agencies", "services"), timeout=30)
        one = httpx.post(one_file.url + "/validate", files=basic_files("services"), timeout=60)
    assert two.status_code == 413, two.text
    assert two.json()["detail"] == "the upload holds more than 1 files"
    # one file passes the count and is read: its own input errors (its agencies are in another sheet)
    assert one.status_code == 422, one.text
    errors = one.json()["errors"]
    assert errors and all(e.startswith("services.csv, sheet services, row ") for e in errors), errors
    assert seen.worst() < 1.0
    assert_serving(one_file)


def test_wrong_kinds_of_body(server: Server) -> None:
    """Not multipart, a file of another kind, a part that is no file, two files of one name."""
    url = server.url
    plain = httpx.post(url + "/validate", content=b"hello", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    assert plain.json()["detail"] == "send the files as multipart/form-data in the field 'files'"
    text = httpx.post(url + "/validate", files=[("files", ("notes.txt", b"hello", "text/plain"))])
    assert text.status_code == 415
    assert text.json()["detail"] == "'notes.txt' is not a workbook (.xlsx), a .csv sheet or an RDF file"
    field = httpx.post(url + "/validate", data={"files": "not a file"}, files=basic_files("services"))
    assert field.status_code == 422
    assert field.json()["detail"] == "the upload holds a part that is not a file of the field 'files'"
    twice = httpx.post(url + "/validate", files=basic_files("services") + basic_files("services"))
    assert twice.status_code == 422
    assert twice.json()["detail"] == "two files are named 'services.csv'"
    truncated = httpx.post(
        url + "/validate",
        content=b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.csv"\r\n\r\nab',
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert truncated.status_code == 422
    assert truncated.json()["detail"] == "the body is not well-formed multipart/form-data"
    assert_serving(server)


def test_names_from_the_client_stay_names(server: Server) -> None:
    """A path in the file name is cut to its last part; the report names the file, never a server path."""
    url = server.url
    files = [("files", (f"../../etc/{name}", data, kind)) for _, (name, data, kind) in basic_files()]
    response = httpx.post(url + "/validate", files=files, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "submission: " + ", ".join(sorted(p.name for p in BASIC.glob("*.csv")))
    assert "khadamat-upload-" not in response.text and "/tmp" not in response.text


@pytest.fixture(scope="module")
def hurried(tmp_path_factory: pytest.TempPathFactory):
    """A server whose validations must end within 0.2 s: less than a child needs to start."""
    with served(tmp_path_factory.mktemp("upload-hurried"), ["--validate-timeout", "0.2"]) as running:
        yield running


def test_validation_past_the_time_limit_is_stopped(hurried: Server) -> None:
    """503 with a message naming the files, and the child is gone: nothing keeps running."""
    before = {p.pid for p in psutil.Process(hurried.pid).children(recursive=True)}
    with watch(hurried) as seen:
        response = httpx.post(
            hurried.url + "/validate", files=basic_files("agencies", "services"), timeout=30
        )
    assert response.status_code == 503
    assert response.json()["detail"] == (
        "validating the submission (one of 'agencies.csv', 'services.csv') took longer than 0.2 s "
        "and was stopped"
    )
    assert {p.pid for p in psutil.Process(hurried.pid).children(recursive=True)} <= before
    assert seen.worst() < 1.0
    assert_serving(hurried)
