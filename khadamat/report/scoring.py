"""Scores and rankings of agencies and families, with the formula printed beside them.

Why a file of weights: which figure counts for how much is a policy of the evaluator, not of the
code; `weights.toml` holds it (documented there and in docs/report.md), and every report prints
the formula it used, so a reader can recompute any score from the table beside it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from khadamat.report.figures import labels, word

WEIGHTS_FILE = Path(__file__).resolve().parent / "weights.toml"


@lru_cache(maxsize=4)
def rankings_spec(path: Path = WEIGHTS_FILE) -> list[dict[str, Any]]:
    """The [[ranking]] tables of the weights file; an unknown share is an error naming it."""
    with path.open("rb") as handle:
        spec = tomllib.load(handle)["ranking"]
    known = {k for k, v in labels()["figures"].items() if "of" in v} | set(labels()["shares"])
    for ranking in spec:
        unknown = sorted(set(ranking["weights"]) - known)
        if unknown:
            raise ValueError(f"{path}: ranking {ranking['key']}: unknown share {', '.join(unknown)}")
    return spec


def share(entry: Mapping[str, Any], key: str) -> float:
    """One share of an agency's or family's figures, 0–1 (weights.toml says each)."""
    data = labels()
    if key == "free_of_violations":
        cards = entry.get("cards", 0)
        violations = entry.get("findings", {}).get("Violation", 0)
        return max(0.0, 1.0 - violations / cards) if cards else 0.0
    denominator = entry.get(data["figures"][key]["of"], 0)
    return entry.get(key, 0) / denominator if denominator else 0.0


def score(entry: Mapping[str, Any], weights: Mapping[str, float]) -> float | None:
    """100 × Σ weight × share / Σ weight, one decimal; None for an agency with no card."""
    if not entry.get("cards"):
        return None
    total = sum(weights.values())
    return round(100 * sum(w * share(entry, k) for k, w in weights.items()) / total, 1)


def ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4): equal scores share a rank; no score, no rank."""
    ordered = sorted((s for s in scores if s is not None), reverse=True)
    first = {}
    for i, s in enumerate(ordered, 1):
        first.setdefault(s, i)
    return [None if s is None else first[s] for s in scores]


def formula(weights: Mapping[str, float], lang: str) -> str:
    """The formula as people read it: `100 × (20 × share A + …) / 100`."""
    from khadamat.formatting import number

    terms = " + ".join(f"{number(w, lang)} × {word(k, lang)}" for k, w in weights.items())
    total = number(sum(weights.values()), lang)
    return f"{number(100, lang)} × ({terms}) ÷ {total}"


def rank_all(agencies: list[dict[str, Any]], families: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score and rank every agency and family for each ranking; the first gives `score`/`rank`.

    Returns the rankings as the JSON report lists them: key, titles, weights, formula, and the
    ranked codes in order."""
    out = []
    for i, ranking in enumerate(rankings_spec()):
        weights = ranking["weights"]
        described: dict[str, Any] = {
            "key": ranking["key"],
            "fa": ranking["fa"],
            "en": ranking["en"],
            "law": ranking.get("law"),
            "weights": dict(weights),
            "formula_fa": formula(weights, "fa"),
            "formula_en": formula(weights, "en"),
        }
        for level, rows in (("agencies", agencies), ("families", families)):
            scores = [score(r, weights) for r in rows]
            for row, s, r in zip(rows, scores, ranks(scores), strict=True):
                row.setdefault("rankings", {})[ranking["key"]] = {"score": s, "rank": r}
                if i == 0:
                    row["score"], row["rank"] = s, r
            ranked = sorted(
                (row for row in rows if row["rankings"][ranking["key"]]["rank"] is not None),
                key=lambda row, key=ranking["key"]: (row["rankings"][key]["rank"], row["code"]),
            )
            described[level] = [
                {"code": row["code"], "name": row.get("name"), **row["rankings"][ranking["key"]]}
                for row in ranked
            ]
        out.append(described)
    return out
