"""Limits are named settings: one rule reads them from the environment (khadamat/limits.py) for
the loader, the uploads and the endpoint, and `khadamat serve` has a documented flag for each
limit of the server. The names are the ones api/README.md and docs/workbook.md give users."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields

import pytest
from khadamat.api.config import EndpointLimits, UploadLimits
from khadamat.loader.limits import LoaderLimits

from khadamat.commands import serve
from tests.security.store_support import ROOT

DOCUMENTED = {  # a variable users are told about → (class, field, a value to set)
    "KHADAMAT_LIMIT_MAX_ROWS": (LoaderLimits, "max_rows", "200000"),
    "KHADAMAT_LIMIT_MAX_RDF_NESTING": (LoaderLimits, "max_rdf_nesting", "8"),
    "KHADAMAT_UPLOAD_MAX_FILES": (UploadLimits, "max_files", "3"),
    "KHADAMAT_UPLOAD_READ_TIMEOUT": (UploadLimits, "read_timeout", "2.5"),
    "KHADAMAT_SPARQL_WORKER_MEMORY_BYTES": (EndpointLimits, "worker_memory_bytes", "300000000"),
    "KHADAMAT_SPARQL_MAX_DEPTH": (EndpointLimits, "max_depth", "10"),
}


@pytest.mark.parametrize("variable", sorted(DOCUMENTED))
def test_each_documented_variable_sets_its_limit(monkeypatch, variable: str) -> None:
    limits, name, value = DOCUMENTED[variable]
    monkeypatch.setenv(variable, value)
    read = limits.from_env()
    assert getattr(read, name) == type(getattr(limits(), name))(value)
    assert {f.name for f in fields(limits) if getattr(read, f.name) != getattr(limits(), f.name)} == {name}
    assert read.to_env()[variable] == str(getattr(read, name))


def test_a_value_that_is_no_number_is_refused_by_name(monkeypatch) -> None:
    monkeypatch.setenv("KHADAMAT_UPLOAD_MAX_FILES", "twenty")
    with pytest.raises(ValueError, match=r"^KHADAMAT_UPLOAD_MAX_FILES='twenty': expected an integer$"):
        UploadLimits.from_env()


def _serve_flags() -> dict[str, argparse.Action]:
    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers(), argparse.ArgumentParser(add_help=False))
    [sub] = parser._subparsers._group_actions[0].choices.values()  # type: ignore[union-attr]
    return {flag: action for action in sub._actions for flag in action.option_strings}


def test_every_server_limit_has_a_documented_flag() -> None:
    """`--sparql-*` and `--upload-*`: one per field, typed as the field; each in api/README.md
    beside its environment variable."""
    flags = _serve_flags()
    readme = (ROOT / "api" / "README.md").read_text(encoding="utf-8")
    documented = dict(
        re.findall(r"^\| `(--(?:sparql|upload)-[a-z-]+)` / `(KHADAMAT_[A-Z_]+)` \|", readme, re.M)
    )
    expected = {}
    for prefix, limits in (("sparql", EndpointLimits), ("upload", UploadLimits)):
        defaults = limits.from_env()  # the field's default unless the environment sets it
        for item in fields(limits):
            flag = f"--{prefix}-{item.metadata.get('flag') or item.name.replace('_', '-')}"
            assert flags[flag].dest == f"{prefix}_{item.name}"
            assert flags[flag].type is type(item.default)
            assert flags[flag].default == getattr(defaults, item.name)
            expected[flag] = limits.env_name(item.name)
    assert documented == expected
