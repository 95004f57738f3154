"""The figures of the annual evaluation, read from the graph: per agency, per family, national.

Why here and not in each writer: the CLI, the API and every format (JSON, CSV, XLSX, HTML) print
the same numbers, so they are computed once, as plain data (`Evaluation.data`, the JSON report).
Every count of cards is a query of the library (queries/report-figures.rq, report-agencies.rq,
report-provinces.rq), so an architect gets the same numbers from any SPARQL endpoint; findings
come from the SHACL validation (khadamat.validation, itself SPARQL compiled from shapes/), and
duplicate pairs and gap rows from the duplicate and gap queries of the library.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from khadamat.jalali import to_jalali
from khadamat.output import plain
from khadamat.querylib import library, run_query
from khadamat.store import Store, Term

# Queries of an evaluation running at once: one per core. The validation, one task among the
# duplicate and gap queries, the figures and the provinces, runs its own queries on half as many.
# More threads than cores made each query slower, not the report faster (evaluate() at 50k on 2
# cores: 3 threads with 2 validation workers, 10.5–11.9 s and 20–22 s of CPU; 2 with 1, 9.7–10.2 s
# and 18 s).
_THREADS = max(1, os.cpu_count() or 1)
_VALIDATION_WORKERS = max(1, _THREADS // 2)

HERE = Path(__file__).resolve().parent
SEVERITIES = ("Violation", "Warning", "Info")
LEVELS = ("agency", "family", "national")


class ScopeError(ValueError):
    """`--agency` or `--family` names no agency (or a family code that is not a top agency)."""


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    """labels.toml: the figures with their query columns, headers, denominators and articles."""
    with (HERE / "labels.toml").open("rb") as handle:
        return tomllib.load(handle)


def word(key: str, lang: str) -> str:
    """The header of a figure, level, share or other word of the tables, in `lang`."""
    data = labels()
    for section in ("figures", "shares", "words"):
        if key in data[section]:
            return str(data[section][key][lang if lang in ("fa", "en") else "fa"])
    return key


def valid_since(on_date: dt.date) -> dt.date:
    """The day a card must be verified after to be valid on `on_date`: one year before it.

    The same rule as gap-cards-out-of-date.rq (a card verified on D is out of date from D + 1
    year on); 29 February reads as 28 February in a year without it."""
    try:
        return on_date.replace(year=on_date.year - 1)
    except ValueError:
        return on_date.replace(year=on_date.year - 1, day=28)


def _local(term: Term | None) -> str | None:
    """The last segment of an IRI (agency/maj → maj, khc:agency-kind-ministry → ministry)."""
    value = plain(term)
    if value is None:
        return None
    text = str(value).rstrip("/").rsplit("/", 1)[-1]
    return text.removeprefix("agency-kind-")


def _agency_code(store: Store, term: Term | None) -> str | None:
    if not isinstance(term, NamedNode):
        return None
    prefix = store.minter.agency("x").value[:-1]
    return term.value[len(prefix) :] if term.value.startswith(prefix) else None


@dataclass
class Evaluation:
    """The report as data: `data` is exactly the JSON report (docs/report.md); `meanwhile` is
    what `evaluate`'s `meanwhile` returned (the HTML's charts drawn while the last queries ran)."""

    data: dict[str, Any]
    meanwhile: Any = None

    def to_json(self) -> dict[str, Any]:
        return self.data


def figure_rows(store: Store, level: str, on_date: dt.date, agency_iri: str | None) -> list[dict[str, Any]]:
    """Rows of report-figures.rq at one level, each keyed by the JSON names of labels.toml."""
    params = {
        "level": level,
        "onDate": on_date.isoformat(),
        "validSince": valid_since(on_date).isoformat(),
    }
    if agency_iri:
        params["agency"] = agency_iri
    rows = run_query(store, library()["report-figures"], params)
    data = labels()
    out = []
    for row in rows:
        entry: dict[str, Any] = {"unit": row.get("unit")}
        for key, spec in data["figures"].items():
            entry[key] = int(plain(row.get(spec["column"])) or 0)
        entry["electronic_levels"] = {
            key: int(plain(row.get(spec["column"])) or 0) for key, spec in data["levels"].items()
        }
        entry["smart_by_maturity"] = {
            key: int(plain(row.get(spec["column"])) or 0) for key, spec in data["maturity"].items()
        }
        out.append(entry)
    return out


def agency_rows(store: Store, agency_iri: str | None) -> list[dict[str, Any]]:
    """report-agencies.rq: each agency's code, name, kind, parent, family and province."""
    params = {"agency": agency_iri} if agency_iri else {}
    rows = run_query(store, library()["report-agencies"], params)
    return [
        {
            "iri": plain(r["agency"]),
            "code": plain(r.get("code")) or _agency_code(store, r["agency"]),
            "name": plain(r.get("name")),
            "kind": _local(r.get("kind")),
            "parent": _agency_code(store, r.get("parent")),
            "family": _agency_code(store, r.get("family")),
            "province": plain(r.get("province")),
        }
        for r in rows
    ]


def province_rows(store: Store, agency_iri: str | None) -> list[dict[str, Any]]:
    """report-provinces.rq: agencies, services, counter offices and delegations per province."""
    params = {"agency": agency_iri} if agency_iri else {}
    rows = run_query(store, library()["report-provinces"], params)
    keys = {
        "agencies": "agencies_located",
        "servicesDelivered": "services_delivered",
        "counterOffices": "counter_offices",
        "servicesDelegated": "services_delegated",
    }
    return [
        {"province": plain(r["province"]), **{k: int(plain(r.get(c)) or 0) for c, k in keys.items()}}
        for r in rows
    ]


# Runs a function over items: the built-in `map` one after the other, an executor's `map` side by
# side (it starts them all at once and yields the answers in order, waiting for each).
MapFn = Callable[..., Iterable[Any]]
Answers = Iterable[list[dict[str, Term]]]


def gap_answers(
    store: Store, on_date: dt.date, agency_iri: str | None, map_: MapFn = map
) -> tuple[list[str], Answers]:
    """The rows of every gap query (names, answers), started by `map_`.

    The paginated priorities ranking (gap-electronic-priorities) is left out: it orders every
    service not yet online, it does not list defects."""
    chosen = [
        (name, spec)
        for name, spec in sorted(library().items())
        if "gaps" in spec.tags and not any(p.paging for p in spec.params)
    ]

    def rows_of(spec: Any) -> list[dict[str, Term]]:
        names = {p.name for p in spec.params}
        params: dict[str, str] = {}
        if "onDate" in names:
            params["onDate"] = on_date.isoformat()
        if agency_iri and "agency" in names:
            params["agency"] = agency_iri
        return run_query(store, spec, params)

    return [name for name, _ in chosen], map_(rows_of, [spec for _, spec in chosen])


def gap_counts(store: Store, names: list[str], answers: Answers) -> dict[str, Counter]:
    """Rows of every gap query per agency code: {query name: Counter(agency → rows)}."""
    out: dict[str, Counter] = {}
    for name, rows in zip(names, answers, strict=True):
        counts: Counter = Counter()
        for row in rows:
            counts[_agency_code(store, row.get("agency") or row.get("unit")) or ""] += 1
        out[name] = counts
    return out


def duplicate_answers(store: Store, agency: str | None, map_: MapFn = map) -> Answers:
    """The rows of each duplicate query of `khadamat duplicates`, started by `map_`."""
    from khadamat.commands.duplicates import QUERIES, duplicate_rows

    return map_(lambda name: duplicate_rows(store, name, agency), QUERIES)  # type: ignore[arg-type]


def duplicate_pairs(store: Store, answers: Answers) -> list[tuple[str | None, str | None]]:
    """The agencies of each duplicate pair (the merged rows of `khadamat duplicates`)."""
    from khadamat.commands.duplicates import merged_duplicates

    return [
        (_agency_code(store, r.get("agencyA")), _agency_code(store, r.get("agencyB")))  # type: ignore[arg-type]
        for r in merged_duplicates(answers)
    ]


def findings_of(store: Store, on_date: dt.date, agency: str | None) -> list[Any]:
    """Every finding of the shapes on the date (one agency and all below it when given)."""
    from khadamat.validation import validate

    return validate(
        store,
        agency=agency,
        with_affiliates=agency is not None,
        on_date=on_date,
        details_of="agency",
        workers=_VALIDATION_WORKERS,
    ).findings


def _severity_counts(findings: Iterable[Any]) -> dict[str, int]:
    from khadamat.validation.report import severity_name

    counts = Counter(severity_name(f.severity) for f in findings)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def rules_table(findings: Iterable[Any]) -> list[dict[str, Any]]:
    """Findings by rule, with its severity and the article it enforces, most frequent first."""
    from khadamat.validation.report import rule_name, severity_name

    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        key = (rule_name(f.shape), severity_name(f.severity))
        legal = f.legal
        entry = rows.setdefault(
            key,
            {
                "rule": key[0],
                "severity": key[1],
                "article": legal.node.value if legal else None,
                "article_fa": legal.labels.get("fa") if legal else None,
                "article_en": legal.labels.get("en") if legal else None,
                "count": 0,
                "agencies": Counter(),
            },
        )
        entry["count"] += 1
        entry["agencies"][f.agency or ""] += 1
    out = sorted(rows.values(), key=lambda r: (-r["count"], r["rule"]))
    for r in out:
        r["agencies"] = dict(sorted(r["agencies"].items()))
    return out


def sum_figures(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures of several agencies added up (counts, levels and maturity alike)."""
    total: dict[str, Any] = {k: 0 for k in labels()["figures"]}
    total["electronic_levels"] = dict.fromkeys(labels()["levels"], 0)
    total["smart_by_maturity"] = dict.fromkeys(labels()["maturity"], 0)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict):
                for k, v in value.items():
                    total[key][k] += v
            elif key in total:
                total[key] += value
    return total


def _members(agencies: list[dict[str, Any]], level: str) -> dict[str, set[str]]:
    """For each unit of a level (agency code, family code, "national"), its agency codes."""
    out: dict[str, set[str]] = defaultdict(set)
    for a in agencies:
        unit = {"agency": a["code"], "family": a["family"], "national": "national"}[level]
        out[unit].add(a["code"])
    return out


def _pairs_by_agency(pairs: list[tuple[str | None, str | None]]) -> dict[str, set[int]]:
    """Each agency code → the indexes of the duplicate pairs it is in (either side).

    Why an index: a unit's pairs are then the union of its members' sets, read once per unit;
    scanning every pair for every agency took 1.6 s of the 50k report (1,746 agencies × 9,345 pairs)."""
    out: dict[str, set[int]] = defaultdict(set)
    for index, (a, b) in enumerate(pairs):
        for code in (a, b):
            if code is not None:
                out[code].add(index)
    return out


def _attach_findings(entry: dict[str, Any], members: set[str], findings: Mapping[str, list[Any]]) -> None:
    """Findings of the agencies `members` by severity and by rule, added to `entry`; the duplicate
    pairs and gap rows (what no score needs) are zero until `_attach_rows` fills them."""
    from khadamat.validation.report import rule_name

    own = [f for code in members for f in findings.get(code, [])]
    entry["findings"] = _severity_counts(own)
    entry["findings_by_rule"] = dict(sorted(Counter(rule_name(f.shape) for f in own).items()))
    entry["duplicate_pairs"], entry["gap_rows"] = 0, {}


def _attach_rows(
    entry: dict[str, Any], members: set[str], pairs_of: Mapping[str, set[int]], gaps: Mapping[str, Counter]
) -> None:
    """Duplicate pairs and gap rows of the agencies `members`, added to `entry`.

    A pair counts once for a unit, however many of the unit's agencies are in it."""
    entry["duplicate_pairs"] = len(set().union(*(pairs_of.get(code, ()) for code in members)))
    entry["gap_rows"] = {name: sum(c[m] for m in members) for name, c in gaps.items()}


def _check_scope(agencies: list[dict[str, Any]], agency: str | None, family: str | None) -> None:
    """Raise ScopeError unless the scope's code is in `agencies` (and a family is at the top)."""
    code = agency or family
    if code and not any(a["code"] == code for a in agencies):
        raise ScopeError(f"no agency with code '{code}' in the store (دستگاهی با کد «{code}» نیست)")
    if family and any(a["code"] == family and a["family"] != family for a in agencies):
        raise ScopeError(f"'{family}' is not a family: it is under another agency (خانواده نیست)")


def evaluate(
    store: Store,
    on_date: dt.date,
    *,
    agency: str | None = None,
    family: str | None = None,
    with_findings: bool = True,
    meanwhile: Callable[[dict[str, Any]], Any] | None = None,
) -> Evaluation:
    """The whole evaluation on `on_date`: agencies, families, national figures and rankings.

    `agency` limits it to that agency and everything below it; `family` to one family (a top
    agency with everything below it). The national figures are then those of the scope.

    `meanwhile` is called with the report's data as soon as the scores are known (every figure,
    finding, ranking and province; the duplicate pairs and gap rows still zero), while the
    duplicate and gap queries may still run; its answer is `Evaluation.meanwhile`. The HTML page
    draws its charts there (none shows those rows): matplotlib holds the GIL, the queries do not,
    so the drawing takes the core the queries leave free instead of waiting for them to end."""
    from khadamat.report.scoring import rank_all

    agency, family = agency or None, family or None  # an empty code (`?family=`) asks for no scope
    code = agency or family
    try:
        scope_iri = store.minter.agency(code).value if code else None
    except ValueError:  # a code no agency can have (control characters): no such agency
        raise ScopeError(f"no agency with code {code!r} in the store (چنین دستگاهی نیست)") from None
    # The parts are independent reads of one store: run side by side, they keep both cores busy
    # (pyoxigraph releases the GIL while it evaluates; the validation runs its own queries on
    # _VALIDATION_WORKERS threads of its own).
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        # The agency list goes first. A scope is checked against it before anything else starts;
        # a national report reads it beside the other queries (0.2 s at 50k that no core idles for).
        agencies_of = pool.submit(agency_rows, store, scope_iri)
        if code:
            _check_scope(agencies_of.result(), agency, family)
        # Every query is its own task, the long ones first: what the scores and charts need (at
        # 50k: the validation 5.8 s, the figures 2.6 s, the provinces 0.6 s), then the duplicate
        # queries (4.4 s) and the eleven gap queries (0.03–0.5 s), which they do not, so that
        # the scores are known early and both cores stay busy to the end.
        found = pool.submit(findings_of, store, on_date, code) if with_findings else None
        figures_of = pool.submit(figure_rows, store, "agency", on_date, scope_iri)
        provinces_of = pool.submit(province_rows, store, scope_iri)
        duplicates = duplicate_answers(store, code, pool.map)
        gap_names, gap_found = gap_answers(store, on_date, scope_iri, pool.map)
        agencies = agencies_of.result()
        by_code = {a["code"]: a for a in agencies}
        findings: dict[str, list[Any]] = defaultdict(list)
        every_finding: list[Any] = []
        for f in found.result() if found is not None else []:
            if code is None or f.agency in by_code:
                findings[f.agency or ""].append(f)
                every_finding.append(f)
        units = _unit_tables(agencies, by_code, figures_of.result(), findings)
        tables = {level: [entry for entry, _ in rows] for level, rows in units.items()}
        data = {
            "date": on_date.isoformat(),
            "date_jalali": to_jalali(on_date, persian_digits=False),
            "valid_since": valid_since(on_date).isoformat(),
            "scope": {"agency": agency, "family": family},
            "national": tables["national"][0] if tables["national"] else {},
            "families": tables["family"],
            "agencies": tables["agency"],
            "rankings": rank_all(tables["agency"], tables["family"]),
            "findings_by_rule": [
                {k: v for k, v in r.items() if k != "agencies"} | {"agencies": r["agencies"]}
                for r in rules_table(every_finding)
            ],
            "provinces": provinces_of.result(),
        }
        early = meanwhile(data) if meanwhile is not None else None
        pairs_of = _pairs_by_agency(duplicate_pairs(store, duplicates))
        gaps = gap_counts(store, gap_names, gap_found)
    for rows in units.values():
        for entry, members in rows:
            _attach_rows(entry, members, pairs_of, gaps)
    return Evaluation(data, early)


def _unit_tables(
    agencies: list[dict[str, Any]],
    by_code: Mapping[str, dict[str, Any]],
    figure_answer: list[dict[str, Any]],
    findings: Mapping[str, list[Any]],
) -> dict[str, list[tuple[dict[str, Any], set[str]]]]:
    """Per level, each unit's entry (its figures and findings) with the agency codes it sums."""
    out: dict[str, list[tuple[dict[str, Any], set[str]]]] = {}
    # report-figures.rq runs once, per agency; a family's and the nation's figures are the sums
    # of their agencies' (each card counts for one provider), which is what the query gives at
    # level=family and level=national (tests/test_report_figures.py checks they agree).
    per_agency = {plain(r.pop("unit")): r for r in figure_answer}
    for level in LEVELS:
        members = _members(agencies, level)
        rows = []
        for key in sorted(members) if agencies else []:
            codes = members[key]
            if level == "family" and key not in by_code:
                continue  # --agency below the top: its family is not all in the scope
            row = sum_figures(per_agency.get(by_code[c]["iri"], {}) for c in codes)
            if level == "agency":
                head = {"code": key, "name": by_code[key]["name"]}
                head |= {k: by_code[key].get(k) for k in ("kind", "parent", "family", "province")}
            elif level == "family":
                head = {"code": key, "name": by_code[key]["name"], "agencies": len(codes)}
            else:
                head = {"agencies": len(agencies), "families": len(_members(agencies, "family"))}
            entry = head | row
            # Findings and gap rows of no agency (a law graph, an article) count nationally only.
            extra = {""} if level == "national" else set()
            _attach_findings(entry, codes | extra, findings)
            rows.append((entry, codes | extra))
        out[level] = rows
    return out
