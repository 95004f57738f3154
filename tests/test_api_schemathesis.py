"""Schemathesis against the live server's OpenAPI: generated requests never get a server error."""

from __future__ import annotations

from pathlib import Path

import pytest
from khadamat.api.testing import dataset_server

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (the test extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    store_dir = tmp_path_factory.mktemp("api-schemathesis") / "store"
    with dataset_server(store_dir, FIXTURE) as (url, _):
        yield schemathesis.openapi.from_url(url + "/openapi.json")


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def test_no_server_error(api_schema) -> None:
    """Every operation, with generated valid and invalid inputs: never a 5xx answer."""
    checked = []
    for operation in operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        call()
        checked.append(operation.label)
    assert "GET /services" in checked and "POST /validate" in checked, checked
    assert len(checked) >= 15, checked
