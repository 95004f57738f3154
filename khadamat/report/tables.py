"""The evaluation as flat tables: the one shape CSV, XLSX and the HTML tables are written from.

Why one module: the four formats must carry the same tables with the same columns; the nested
JSON (findings by severity, levels, rankings) is flattened here once, with each column's header
in Persian and English taken from labels.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from khadamat.report.figures import SEVERITIES, labels, word
from khadamat.report.scoring import rankings_spec

TABLE_TITLES = {
    "national": ("شاخص‌های کشوری", "National figures"),
    "families": ("خانواده‌های دستگاه‌ها", "Families of agencies"),
    "agencies": ("دستگاه‌ها", "Agencies"),
    "rankings": ("رتبه‌بندی‌ها", "Rankings"),
    "findings_by_rule": ("یافته‌ها بر پایه قاعده", "Findings by rule"),
    "provinces": ("پوشش استان‌ها", "Coverage by province"),
}


@dataclass(frozen=True)
class Column:
    key: str
    fa: str
    en: str

    def header(self, lang: str) -> str:
        return self.en if lang == "en" else self.fa


def _figure_columns() -> list[Column]:
    data = labels()
    cols = [Column(k, v["fa"], v["en"]) for k, v in data["figures"].items()]
    cols += [Column(f"level_{k}", v["fa"], v["en"]) for k, v in data["levels"].items()]
    cols += [Column(f"maturity_{k}", v["fa"], v["en"]) for k, v in data["maturity"].items()]
    cols += [Column(s, word(s, "fa"), word(s, "en")) for s in SEVERITIES]
    cols += [Column(k, word(k, "fa"), word(k, "en")) for k in ("duplicate_pairs", "gap_rows")]
    return cols


def _ranking_columns() -> list[Column]:
    cols = []
    for r in rankings_spec():
        cols.append(Column(f"score_{r['key']}", f"{word('score', 'fa')}: {r['fa']}", f"Score: {r['en']}"))
        cols.append(Column(f"rank_{r['key']}", f"{word('rank', 'fa')}: {r['fa']}", f"Rank: {r['en']}"))
    return cols


def _w(key: str) -> Column:
    return Column(key, word(key, "fa"), word(key, "en"))


def columns(table: str) -> list[Column]:
    """The columns of one table, in order."""
    if table == "national":
        return [_w("agencies"), Column("families", "خانواده‌ها", "Families"), *_figure_columns()]
    if table == "families":
        return [_w("code"), _w("name"), _w("agencies"), *_figure_columns(), *_ranking_columns()]
    if table == "agencies":
        head = [_w(k) for k in ("code", "name", "kind", "parent", "family", "province")]
        return [*head, *_figure_columns(), *_ranking_columns()]
    if table == "rankings":
        return [
            Column("ranking", "رتبه‌بندی", "Ranking"),
            Column("level", "سطح", "Level"),
            _w("rank"),
            _w("code"),
            _w("name"),
            _w("score"),
        ]
    if table == "findings_by_rule":
        return [
            _w("rule"),
            _w("severity"),
            _w("article"),
            Column("article_label", "عنوان ماده", "Article title"),
            _w("count"),
        ]
    if table == "provinces":
        keys = ("agencies_located", "services_delivered", "counter_offices", "services_delegated")
        return [_w("province"), *[_w(k) for k in keys]]
    raise KeyError(table)


def _flat(entry: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in entry.items() if not isinstance(v, dict)}
    row |= {f"level_{k}": v for k, v in entry.get("electronic_levels", {}).items()}
    row |= {f"maturity_{k}": v for k, v in entry.get("smart_by_maturity", {}).items()}
    row |= dict(entry.get("findings", {}))
    row["gap_rows"] = sum(entry.get("gap_rows", {}).values())
    for key, value in entry.get("rankings", {}).items():
        row[f"score_{key}"], row[f"rank_{key}"] = value["score"], value["rank"]
    row |= {f"{key}__change": delta for key, delta in entry.get("change", {}).items()}
    return row


def _numbers(entry: dict[str, Any]) -> dict[str, float]:
    flat = _flat({k: v for k, v in entry.items() if k != "change"})
    return {
        k: v
        for k, v in flat.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and not k.startswith("rank")
    }


def add_changes(now: dict[str, Any], then: dict[str, Any], source: str) -> None:
    """Put beside each figure of `now` its change since `then` (`change`: {column: now − then}),
    matching families and agencies by code; an agency absent then changes from zero."""
    now["since"] = {"source": source, "date": then.get("date")}
    if now.get("national"):
        before = _numbers(then.get("national") or {})
        now["national"]["change"] = _delta(_numbers(now["national"]), before)
    for level in ("families", "agencies"):
        before_rows = {e["code"]: _numbers(e) for e in then.get(level, [])}
        for entry in now.get(level, []):
            entry["change"] = _delta(_numbers(entry), before_rows.get(entry["code"], {}))


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """now − then per column; a score only where there was one then (a count starts from zero)."""
    out: dict[str, float] = {}
    for key, value in after.items():
        if key.startswith("score") and key not in before:
            continue
        change = value - before.get(key, 0)
        out[key] = round(change, 1) if isinstance(change, float) else change
    return out


def _kind(entry: dict[str, Any], lang: str) -> dict[str, Any]:
    """The agency kind as the ontology names it in `lang` (ministry → وزارتخانه)."""
    from khadamat.formatting import label
    from khadamat.namespaces import KHC

    kind = entry.get("kind")
    return {"kind": label(f"{KHC}agency-kind-{kind}", lang) or kind} if kind else {}


def rows(data: dict[str, Any], table: str, lang: str = "fa") -> list[dict[str, Any]]:
    """The rows of one table of the JSON report, flat (one value per column key)."""
    if table == "national":
        return [_flat(data["national"])] if data.get("national") else []
    if table in ("families", "agencies"):
        return [_flat(e) | _kind(e, lang) for e in data[table]]
    if table == "rankings":
        out = []
        for r in data["rankings"]:
            title = r["en"] if lang == "en" else r["fa"]
            for level in ("agencies", "families"):
                out += [{"ranking": title, "level": level, **e} for e in r[level]]
        return out
    if table == "findings_by_rule":
        return [
            {**r, "article_label": r["article_en"] if lang == "en" else r["article_fa"]}
            for r in data["findings_by_rule"]
        ]
    if table == "provinces":
        return list(data["provinces"])
    raise KeyError(table)


Table = tuple[str, str, list[Column], list[dict[str, Any]]]


def tables(data: dict[str, Any], lang: str = "fa") -> Iterator[Table]:
    """(name, title, columns, rows) of every table, in the report's order."""
    for name, (fa, en) in TABLE_TITLES.items():
        yield name, en if lang == "en" else fa, columns(name), rows(data, name, lang)
