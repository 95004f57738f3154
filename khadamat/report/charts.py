"""The charts of the evaluation report, drawn with matplotlib as SVG for the one-file HTML page.

Why shaped text as paths: SVG text would need a Persian font on the reader's machine and a
browser that shapes it; instead each label is drawn with DejaVu Sans (bundled with matplotlib, it
covers Arabic script) and written as outlines (`svg.fonttype: path`), so the page needs nothing
else and reads the same offline everywhere. Persian must be shaped (letters joined) and laid out
right to left: matplotlib 3.11 does both itself (libraqm; its `text.language` setting is the sign),
and shaping the text again would reverse it; older matplotlib draws code points one by one, so
there each label is shaped with arabic-reshaper and put in visual order with python-bidi.
(Checked by looking at PNGs of both: tests/test_report_html.py keeps one for review.)
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import Any

import arabic_reshaper
import matplotlib
from bidi.algorithm import get_display

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from khadamat.formatting import number
from khadamat.report.figures import labels, word

STYLE = {
    "font.family": "DejaVu Sans",
    "svg.fonttype": "path",
    "svg.hashsalt": "khadamat",  # the same SVG for the same figures
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLORS = ("#1b6e8f", "#f28e2b", "#59a14f", "#9c9c9c", "#b07aa1", "#e15759", "#76b7b2")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
# matplotlib ≥ 3.11 lays text out with libraqm (bidi and Arabic shaping); it added this setting.
NATIVE_LAYOUT = "text.language" in matplotlib.rcParams


def shaped(text: Any, native: bool = NATIVE_LAYOUT) -> str:
    """A label ready to draw: Persian letters joined and in visual order; other text as it is."""
    text = str(text)
    if native or not _ARABIC.search(text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def _svg(fig: Any, title: str) -> str:
    """The figure as an SVG element (no XML prolog), with its title for screen readers."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    return re.sub(r"<!--.*?-->", "", svg, flags=re.S)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _bars(
    names: Sequence[str],
    values: Sequence[float],
    title: str,
    lang: str,
    color: str = COLORS[0],
    shown: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, the first name on top; each bar labelled with its value."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(names), 2) + 1.0))
        positions = list(range(len(names)))[::-1]
        ax.barh(positions, values, color=color)
        ax.set_yticks(positions, [shaped(n) for n in names])
        for y, v, text in zip(positions, values, shown or [number(v, lang) for v in values], strict=True):
            side = "right" if lang == "fa" else "left"  # outside the bar's end, whichever way it grows
            ax.text(v, y, f" {shaped(text)} ", va="center", ha=side, fontsize=9)
        ax.set_title(shaped(title), loc="right" if lang == "fa" else "left")
        ax.set_xlim(0, max([*values, 1]) * 1.15)
        if lang == "fa":
            ax.yaxis.tick_right()  # labels on the right, as a right-to-left reader starts
            ax.invert_xaxis()
            ax.spines["left"].set_visible(False)
            ax.spines["right"].set_visible(True)
        ax.tick_params(axis="x", labelbottom=False, bottom=False)
        return _svg(fig, title)


def electronic_levels(national: dict[str, Any], lang: str) -> str:
    """Services by electronic level and smart services by maturity level, nationally."""
    data = labels()
    names = [v[lang] for v in data["levels"].values()] + [v[lang] for v in data["maturity"].values()]
    values = list(national.get("electronic_levels", {}).values()) + list(
        national.get("smart_by_maturity", {}).values()
    )
    title = (
        "خدمات بر پایه سطح الکترونیکی و بلوغ هوشمندی"
        if lang == "fa"
        else "Services by electronic level and smart maturity"
    )
    return _bars(names, values, title, lang, COLORS[0])


def ranking(rows: Sequence[dict[str, Any]], title: str, lang: str, limit: int = 25) -> str:
    """Scores of the ranked agencies (or families), best first, the rank before each name."""
    top = list(rows)[:limit]
    names = [f"{number(r['rank'], lang)}. {r.get('name') or r['code']}" for r in top]
    return _bars(names, [r["score"] for r in top], title, lang, COLORS[2])


def findings_by_rule(rules: Sequence[dict[str, Any]], lang: str) -> str:
    """Findings by rule, most frequent first, each with the article it enforces."""
    # The article first in Persian, so that each label reads right to left from its start.
    names = [
        f"{r['rule']} ({r['article_en'] or ''})" if lang == "en" else f"{r['article_fa'] or ''} — {r['rule']}"
        for r in rules
    ]
    title = "یافته‌ها بر پایه قاعده" if lang == "fa" else "Findings by rule"
    return _bars(names, [r["count"] for r in rules], title, lang, COLORS[5])


def provinces(rows: Sequence[dict[str, Any]], lang: str) -> str:
    """A grid of provinces, one tile each, shaded by the services delivered there, with the
    counter offices and delegated services written in the tile."""
    title = "پوشش استان‌ها" if lang == "fa" else "Coverage by province"
    columns = max(1, min(6, len(rows)))
    lines = max(1, math.ceil(len(rows) / columns))
    top = max([r["services_delivered"] for r in rows] + [1])
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(1.6 * columns + 0.4, 1.25 * lines + 0.6))
        cmap = plt.get_cmap("Blues")
        for i, r in enumerate(rows):
            col = i % columns
            x = columns - 1 - col if lang == "fa" else col  # right to left in Persian
            y = lines - 1 - i // columns
            shade = 0.15 + 0.75 * r["services_delivered"] / top
            ax.add_patch(plt.Rectangle((x, y), 0.94, 0.9, color=cmap(shade)))
            ink = "white" if shade > 0.55 else "black"
            ax.text(x + 0.47, y + 0.64, shaped(r["province"]), ha="center", fontsize=9, color=ink)
            detail = (
                f"{word('services_delivered', lang)}: {number(r['services_delivered'], lang)}",
                f"{word('counter_offices', lang)}: {number(r['counter_offices'], lang)}",
            )
            for k, text in enumerate(detail):
                ax.text(x + 0.47, y + 0.38 - 0.2 * k, shaped(text), ha="center", fontsize=6.5, color=ink)
        ax.set_xlim(0, columns)
        ax.set_ylim(0, lines)
        ax.set_axis_off()
        ax.set_title(shaped(title), loc="right" if lang == "fa" else "left")
        return _svg(fig, title)


def all_charts(data: dict[str, Any], lang: str) -> dict[str, str]:
    """Every chart of the report, by name: SVG text to embed. None shows the duplicate pairs or
    gap rows, so `evaluate(meanwhile=…)` can draw them all before those queries end."""
    charts = {"levels": electronic_levels(data.get("national", {}), lang)}
    for r in data["rankings"]:
        if r["agencies"]:
            charts[f"ranking-{r['key']}"] = ranking(r["agencies"], r["en"] if lang == "en" else r["fa"], lang)
    if data["findings_by_rule"]:
        charts["findings"] = findings_by_rule(data["findings_by_rule"], lang)
    if data["provinces"]:
        charts["provinces"] = provinces(data["provinces"], lang)
    return charts
