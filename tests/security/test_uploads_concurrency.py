"""Ten uploads of 2,000 services at once beside a browsing client (issue 8: they pushed browse to 503).

At most `UploadLimits.concurrent` (2) uploads are validated at once per worker, each in its own
child process; the others are answered 503 with Retry-After at once, and a client browsing
meanwhile sees every answer within 1 s.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from khadamat.api.config import UploadLimits

from tests.security.server_watch import MiB, Server, assert_serving, served, watch
from tests.security.upload_attacks import basic_files, services_csv

UPLOADS = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with served(tmp_path_factory.mktemp("upload-concurrency")) as running:
        yield running


@pytest.mark.slow
def test_ten_uploads_at_once_never_starve_browsing(server: Server) -> None:
    files = basic_files("agencies", "services", services=services_csv(2000))
    start = threading.Barrier(UPLOADS)

    def upload(_: int) -> httpx.Response:
        start.wait()
        return httpx.post(server.url + "/validate", files=files, timeout=120)

    with watch(server, every=0.02) as seen, ThreadPoolExecutor(UPLOADS) as pool:
        began = time.monotonic()
        responses = list(pool.map(upload, range(UPLOADS)))
        took = time.monotonic() - began
    statuses = sorted(r.status_code for r in responses)
    busy = [r for r in responses if r.status_code == 503]
    done = [r for r in responses if r.status_code == 200]
    print(
        f"\n10 uploads of 2,000 services: {statuses} in {took:.1f} s; peak server tree RSS "
        f"{seen.peak_rss / MiB:.0f} MiB ({seen.grew / MiB:+.0f}); "
        f"browse p99 {seen.p99():.3f} s over {len(seen.seen())} requests"
    )
    assert set(statuses) == {200, 503}, [r.text[:200] for r in responses]
    assert len(done) >= UploadLimits().concurrent
    for response in busy:
        assert response.headers["Retry-After"] == "10"
        assert response.json()["detail"] == (
            "2 uploads are being validated already; try again in a few seconds"
        )
    for response in done:
        assert response.json()["scope"] == "submission: agencies.csv, services.csv"
    assert None not in seen.seen()
    assert seen.p99() < 1.0
    # Two children at most, each within the 1 GiB budget.
    assert seen.grew < 2 * UploadLimits().memory_bytes
    assert_serving(server)
