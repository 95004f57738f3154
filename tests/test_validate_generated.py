"""The findings on a generated 1,000-service catalog are exactly its planted defects (issue 13).

The national-scale rewrites of the compiled validation (grouped queries, hash joins, MINUS) must
not change a finding. The generator (benchmarks/generate.py) plants each defect on known rows
and writes them to truth.csv; here the catalog is loaded with the real loader and validated on
the generator's reference date, and every planted defect must be reported by its rule on its
row — and no rule may report anything that was not planted. The pySHACL and TopBraid identity
tests prove the same on every fixture (tests/test_shapes_pyshacl.py, tests/test_shapes_topbraid.py).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks/ folder of the checkout
from benchmarks.bench_validate import DEFECT_RULES
from benchmarks.generate import REFERENCE_DATE, generate, write_catalog
from khadamat.cli import main
from khadamat.config import Settings
from khadamat.store import open_store
from khadamat.validation import validate
from khadamat.validation.report import rule_name

SERVICES = 1000
# A license planted without a service ID also maps to no service: circular 29168 art. 10 reports
# it under both rules (the benchmark's table shows the same: 48 = 24 + 24 at 10k).
ALSO_REPORTED = {"license_without_service_id": ("LicenseMapsToServiceShape",)}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("generated")
    submission = write_catalog(generate(SERVICES, seed=3), root / "catalog")
    store = root / "store"
    assert main(["load", "--store", str(store), str(submission), "-q"]) in (0, 1)
    return root / "catalog", store


def test_every_planted_defect_is_found_by_its_rule_and_nothing_else(catalog: tuple[Path, Path]) -> None:
    root, store_dir = catalog
    with (root / "truth.csv").open(encoding="utf-8") as handle:
        planted = Counter(row["defect"] for row in csv.DictReader(handle))
    store = open_store(Settings.from_env(store_dir=store_dir), read_only=True)
    try:
        report = validate(store, on_date=REFERENCE_DATE)
    finally:
        store.close()
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(rule_name(finding.shape), set()).add(str(finding.focus))
    expected: Counter[str] = Counter()
    for table in (DEFECT_RULES, ALSO_REPORTED):
        for defect, rules in table.items():
            for rule in rules:
                expected[rule] += planted[defect]
    assert {rule: len(found.get(rule, ())) for rule in expected} == dict(expected)
    assert sorted(set(found) - set(expected)) == []  # no rule reports what was not planted
    assert sum(planted.values()) > 50  # the catalog does plant defects of many kinds
