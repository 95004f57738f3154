"""Schemathesis against the live server's OpenAPI: generated requests never get a server error.

Every operation is called with requests that fit its schema (positive mode) and with requests
that break it (negative mode: wrong types, missing or extra parameters, malformed bodies), a
bounded number of examples each, so that the run stays under two minutes. Besides "no 5xx",
no answer may carry internal error text (tests/security/test_api_errors.py has the pattern).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from khadamat.api.testing import dataset_server

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (the test extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.security.server_watch import INTERNAL  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "api" / "catalog.trig"
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 25}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    store_dir = tmp_path_factory.mktemp("api-schemathesis") / "store"
    with dataset_server(store_dir, FIXTURE) as (url, _):
        yield schemathesis.openapi.from_url(url + "/openapi.json"), url


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(EXAMPLES), ids=str)
def test_no_server_error(api_schema, mode: GenerationMode) -> None:
    """Every operation, with generated inputs of the mode: never a 5xx, never internal text.

    Error answers are searched for internal text (OS errors, paths, engine names, addresses); the
    server's own origin is data here (the fixture's IRIs are minted under it), so it is taken out
    first. Successful answers carry data and documentation (the query library's comments name
    pyoxigraph), which is not a leak.
    """
    api_schema, origin = api_schema
    checked: list[str] = []
    unbreakable: list[str] = []
    for operation in operations(api_schema):
        if mode == GenerationMode.NEGATIVE and not has_inputs(operation):
            continue  # nothing to break: no parameter, no body

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode], deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case) -> None:
            response = case.call_and_validate(checks=[not_a_server_error], timeout=60)
            if response.status_code >= 400:  # an answer's data may name anything; an error may not
                text = response.text.replace(origin, "")
                assert INTERNAL.search(text) is None, (case.as_curl_command(), response.text[:300])

        try:
            call()
        except Unsatisfiable:
            # Every value of its inputs fits the schema (e.g. free-text strings): no negative case.
            assert mode == GenerationMode.NEGATIVE, operation.label
            unbreakable.append(operation.label)
            continue
        checked.append(operation.label)
    print(f"\n{mode}: {len(checked)} operations called; no {mode} input for {unbreakable}")
    for label in ("GET /services", "POST /validate", "GET /sparql", "POST /sparql", "GET /validate"):
        assert label in checked, (label, checked)
    assert len(checked) >= (15 if mode == GenerationMode.POSITIVE else 8), checked


def has_inputs(operation) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))
