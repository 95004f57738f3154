"""The evaluation beside last year's: each figure with its change, and what changed in the catalog.

Why both: a figure's change says how much an agency moved (three more services with an ID); the
catalog diff (khadamat.diff) says which services did (added, removed, retitled, moved, renumbered,
card fields changed). The older side is anything `khadamat diff` reads: a version of the history,
a store folder, or an export.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from khadamat.diff import KINDS, compare
from khadamat.report.figures import evaluate
from khadamat.report.tables import add_changes
from khadamat.store import Store


def evaluate_since(
    store: Store,
    older: Store,
    source: str,
    on_date: dt.date,
    *,
    since_date: dt.date | None = None,
    agency: str | None = None,
    family: str | None = None,
) -> dict[str, Any]:
    """The evaluation of `store` on `on_date`, each figure with its change since `older` (evaluated
    on `since_date`, by default the same date, so that only the catalog differs), and the diff."""
    now = evaluate(store, on_date, agency=agency, family=family).data
    then = evaluate(older, since_date or on_date, agency=agency, family=family).data
    add_changes(now, then, source)
    members = {a["code"] for a in now["agencies"]}
    diff = compare(older, store, old_name=source, new_name="now", findings=False)
    summary = {a: counts for a, counts in diff.summary().items() if not (agency or family) or a in members}
    # Findings fixed and new are the change of the findings columns above (the diff would
    # validate both sides again).
    now["diff"] = {"kinds": [k for k in KINDS if not k.startswith("finding")], "summary": summary}
    return now
