"""The auditor's HTML report: one standalone right-to-left page to open, filter and print.

Findings are grouped by agency, then by rule; each names its item by title and service ID,
links to the item's page (its IRI, which the server dereferences), says which workbook file,
sheet and row it came from, and keeps the text of the article it enforces one click away (a
<details> element, read from the legal corpus). Numbers and dates go through
khadamat.formatting. No external file, font or script is fetched, so the page works offline and
can be mailed; the filter box hides rows that do not contain the typed text (the page reads
without it); print CSS drops the controls and opens the groups.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from html import escape
from typing import TYPE_CHECKING

import pyoxigraph as ox
from pyoxigraph import NamedNode

from khadamat import formatting
from khadamat.resources import data_path
from khadamat.validation.report import message, rule_name, severity_name, source_parts

if TYPE_CHECKING:
    from khadamat.validation.engine import Finding
    from khadamat.validation.report import Report

_TEXT = {
    "fa": {
        "title": "گزارش اعتبارسنجی شناسنامه خدمات",
        "date": "تاریخ اعتبارسنجی",
        "scope": "دامنه",
        "filter": "جستجو در یافته‌ها…",
        "summary": "خلاصه به تفکیک دستگاه",
        "agency": "دستگاه",
        "total": "جمع",
        "service": "شناسه خدمت",
        "rule": "قاعده",
        "severity": "شدت",
        "path": "مسیر",
        "value": "مقدار",
        "message": "پیام",
        "law": "مبنای قانونی",
        "focus": "گره",
        "item": "عنوان",
        "source": "مبدأ (فایل، کاربرگ، ردیف)",
        "file": "فایل",
        "sheet": "کاربرگ",
        "row": "ردیف",
        "ok": "هیچ یافته‌ای نیست.",
        "no_agency": "بدون دستگاه",
        "count_noun": "یافته",
        "article_text": "متن ماده",
        "by_rule": "خلاصه به تفکیک قاعده",
        "notices": "خوانده نشد",
        "Violation": "تخلف",
        "Warning": "هشدار",
        "Info": "اطلاع",
        "dir": "rtl",
    },
    "en": {
        "title": "Service card validation report",
        "date": "Validation date",
        "scope": "Scope",
        "filter": "Filter findings…",
        "summary": "Summary by agency",
        "agency": "Agency",
        "total": "Total",
        "service": "Service ID",
        "rule": "Rule",
        "severity": "Severity",
        "path": "Path",
        "value": "Value",
        "message": "Message",
        "law": "Legal source",
        "focus": "Node",
        "item": "Title",
        "source": "Source (file, sheet, row)",
        "file": "File",
        "sheet": "Sheet",
        "row": "Row",
        "ok": "No findings.",
        "no_agency": "no agency",
        "count_noun": "findings",
        "article_text": "Text of the article",
        "by_rule": "Summary by rule",
        "notices": "Not read",
        "Violation": "Violation",
        "Warning": "Warning",
        "Info": "Info",
        "dir": "ltr",
    },
}

_STYLE = """
body{font-family:Vazirmatn,"Vazir","Sahel","IRANSans","B Nazanin",Tahoma,"Noto Naskh Arabic",
"Segoe UI",sans-serif;margin:1.5rem;color:#1d2330;line-height:1.6}
h1{font-size:1.4rem;margin:0 0 .3rem}
h2{font-size:1.15rem;margin:1.2rem 0 .3rem;border-bottom:2px solid #0d4a6b}
a{color:#0b4f7a}
.meta{color:#4a5060;margin-bottom:1rem}
input#filter{width:100%;max-width:32rem;padding:.45rem .6rem;font:inherit;border:1px solid #767c8a;
border-radius:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #d5d8e0;padding:.3rem .45rem;vertical-align:top;text-align:start}
th{background:#eef1f6}
.ltr{direction:ltr;unicode-bidi:isolate;font-family:ui-monospace,Consolas,monospace;font-size:.85rem}
details.rule{margin:.4rem 0 .8rem}
details.rule>summary{cursor:pointer;font-weight:600}
details.law{margin:.2rem 0}
details.law>summary{cursor:pointer;color:#0b4f7a}
blockquote{margin:.3rem 1rem;padding:.3rem .8rem;border-inline-start:3px solid #0d4a6b;background:#f2f6f9}
.Violation{color:#a1161b}.Warning{color:#7a4f00}.Info{color:#285e9c}
@media print{input#filter{display:none}body{margin:0}tr{page-break-inside:avoid}th{background:#eee!important}
details>summary{list-style:none}details:not([open])>*:not(summary){display:block}}
@media (max-width:40rem){body{margin:.5rem}table,thead,tbody,tr,td,th{display:block}thead{display:none}
td{border:0;padding:.1rem .3rem}tr{border-bottom:1px solid #d5d8e0;padding:.3rem 0}}
"""

_SCRIPT = """
document.getElementById('filter').addEventListener('input',function(e){
  var q=e.target.value.trim().toLowerCase();
  document.querySelectorAll('table.findings tbody tr').forEach(function(r){
    r.style.display=(!q||r.textContent.toLowerCase().indexOf(q)>=0)?'':'none';});
});
"""
LEGAL_CORPUS = "legal-corpus.ttl"
_TEXT_PREDICATE = "https://w3id.org/khadamat/ontology#text"


@cache
def legal_texts() -> dict[str, str]:
    """{path of a legal node after the base ("law/circ-29168/article/4"): its text}, from the corpus."""
    path = data_path("ontology") / LEGAL_CORPUS
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for triple in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE):
        if triple.predicate.value == _TEXT_PREDICATE and isinstance(triple.subject, NamedNode):
            key = _law_path(triple.subject.value)
            if key and (isinstance(triple.object, ox.Literal) and triple.object.language in (None, "fa")):
                out.setdefault(key, triple.object.value)
    return out


def _law_path(iri: str) -> str | None:
    at = iri.find("/law/")
    return iri[at + 1 :] if at >= 0 else None


def article_text(node: NamedNode) -> str | None:
    """The text of the legal node a rule enforces, else of the article it is part of."""
    key = _law_path(node.value)
    texts = legal_texts()
    while key:
        if key in texts:
            return texts[key]
        key = key.rsplit("/part/", 1)[0] if "/part/" in key else None
    return None


def _cell(value: object, css: str = "") -> str:
    text = "" if value is None else str(value)
    return f'<td class="{css}">{escape(text)}</td>' if css else f'<td dir="auto">{escape(text)}</td>'


def _href(f: Finding) -> str | None:
    iri = getattr(f.focus, "value", str(f.focus))
    ok = isinstance(f.focus, NamedNode) and iri.lower().startswith(("http://", "https://"))
    return iri if ok else None


def _item(f: Finding, lang: str) -> str:
    """The item's title and service ID (else its IRI), linked to its entity page when it has one."""
    iri = getattr(f.focus, "value", str(f.focus))
    text = escape(f.title or iri)
    ident = f' <bdi class="ltr">{escape(f.service_id)}</bdi>' if f.service_id else ""
    href = _href(f)
    if href:
        return f'<td dir="auto"><a href="{escape(href, quote=True)}">{text}</a>{ident}</td>'
    return f'<td dir="auto">{text}{ident}</td>'


def _source(f: Finding, lang: str) -> str:
    file, sheet, row = source_parts(f.source)
    if file is None:
        return "<td></td><td></td><td></td>"
    if sheet is None:
        return f'<td class="ltr" colspan="3">{escape(f.source or "")}</td>'
    number = formatting.number(row, lang)
    return f'<td class="ltr">{escape(file)}</td><td class="ltr">{escape(sheet)}</td><td>{number}</td>'


def _agency(f: Finding) -> str:
    return f"{f.agency_name} ({f.agency})" if f.agency and f.agency_name else (f.agency or "")


def _path(f: Finding, lang: str) -> str:
    """The property a finding is about, by its label (its SHACL path when it has none)."""
    if isinstance(f.path_node, NamedNode) and (label := formatting.label(f.path_node.value, lang)):
        return label
    return f.path.text() if f.path else ""


def _value(term: object, lang: str) -> object:
    """The value found, as people read it (a date in Jalali)."""
    if isinstance(term, ox.Literal) and term.datatype.value.endswith("#date"):
        return formatting.jalali_date(term.value, lang)
    return getattr(term, "value", term)


def _notices(report: Report, t: dict[str, str]) -> str:
    """What the loader skipped in the submission (sheets not of the format), before the findings."""
    if not report.notices:
        return ""
    items = "".join(f'<li dir="auto">{escape(n)}</li>' for n in report.notices)
    return f'<h2>{t["notices"]}</h2><ul id="notices">{items}</ul>'


def _summary(report: Report, lang: str, t: dict[str, str]) -> str:
    names = {f.agency: _agency(f) for f in report.findings}
    rows = []
    for agency, entry in report.summary().items():
        by_sev = "، ".join(
            f"{t.get(k, k)} {formatting.number(v, lang)}" for k, v in entry["bySeverity"].items()
        )
        by_rule = "، ".join(f"{k} {formatting.number(v, lang)}" for k, v in entry["byRule"].items())
        name = escape(names.get(agency) or t["no_agency"])
        link = f'<a href="#agency-{escape(agency, quote=True)}">{name}</a>' if agency else name
        rows.append(
            f'<tr><td dir="auto">{link}</td>{_cell(formatting.number(entry["total"], lang))}'
            f"{_cell(by_sev)}{_cell(by_rule, 'ltr')}</tr>"
        )
    head = f"<tr><th>{t['agency']}</th><th>{t['total']}</th><th>{t['severity']}</th><th>{t['rule']}</th></tr>"
    by_rule: dict[str, int] = defaultdict(int)
    for f in report.findings:
        by_rule[rule_name(f.shape)] += 1
    rule_rows = "".join(
        f"<tr>{_cell(rule, 'ltr')}{_cell(formatting.number(n, lang))}</tr>"
        for rule, n in sorted(by_rule.items())
    )
    return (
        f'<h2>{t["summary"]}</h2><table id="summary"><thead>{head}</thead>'
        f'<tbody>{"".join(rows)}</tbody></table><h2>{t["by_rule"]}</h2><table id="summary-rules">'
        f"<thead><tr><th>{t['rule']}</th><th>{t['total']}</th></tr></thead><tbody>{rule_rows}</tbody></table>"
    )


def _law(f: Finding, lang: str, t: dict[str, str]) -> str:
    """The legal source of a rule: its label, and the article's text one click away."""
    legal = f.legal
    if not legal:
        return ""
    label = legal.labels.get(lang) or legal.labels.get("fa") or f"{legal.instrument}:{legal.article}"
    if legal.part and not legal.labels:
        label += f":{legal.part}"
    text = article_text(legal.node)
    if not text:
        return f'<p dir="auto">{t["law"]}: {escape(label)}</p>'
    return (
        f'<details class="law"><summary>{t["law"]}: {escape(label)} — {t["article_text"]}</summary>'
        f'<blockquote dir="auto" lang="fa">{escape(text)}</blockquote></details>'
    )


def _findings(report: Report, lang: str, t: dict[str, str]) -> str:
    """One section per agency; in it one folded group per rule, with a row per finding."""
    by_agency: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in report.sorted():
        by_agency[f.agency or ""][rule_name(f.shape)].append(f)
    head = "".join(
        f"<th>{t[c]}</th>" for c in ("item", "severity", "message", "path", "value", "file", "sheet", "row")
    )
    sections = []
    for agency, rules in by_agency.items():
        first = next(iter(rules.values()))[0]
        title = escape(_agency(first) or t["no_agency"])
        groups = []
        for rule, findings in rules.items():
            rows = []
            for f in findings:
                sev = severity_name(f.severity)
                value = _value(f.value, lang)
                rows.append(
                    f'<tr class="finding">{_item(f, lang)}<td class="{sev}">{escape(t.get(sev, sev))}</td>'
                    f"{_cell(message(f, lang))}{_cell(_path(f, lang))}"
                    f"{_cell(value, 'ltr')}{_source(f, lang)}</tr>"
                )
            count = formatting.counted(len(findings), t["count_noun"], t["count_noun"], lang)
            groups.append(
                f'<details class="rule" open><summary><span class="ltr">{escape(rule)}</span> — '
                f"{count}</summary>{_law(findings[0], lang, t)}"
                f'<table class="findings"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
                "</table></details>"
            )
        anchor = escape(agency or "none", quote=True)
        sections.append(
            f'<section class="agency" id="agency-{anchor}"><h2 dir="auto">{title}</h2>'
            f"{''.join(groups)}</section>"
        )
    return f'<div id="findings">{"".join(sections)}</div>'


def render_html(report: Report, lang: str = "fa") -> str:
    """The whole page as a string."""
    t = _TEXT[lang]
    date_text = formatting.jalali_date(report.on_date, lang)
    body = _findings(report, lang, t) if report.findings else f"<p>{t['ok']}</p>"
    total = formatting.counted(len(report.findings), t["count_noun"], t["count_noun"], lang)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{t["dir"]}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t["title"]}</title>'
        f"<style>{_STYLE}</style></head><body><main>"
        f'<h1>{t["title"]}</h1><div class="meta">{t["date"]}: {escape(date_text)} · '
        f"{t['scope']}: {escape(report.scope)} · {total}</div>"
        f'<input id="filter" type="search" placeholder="{t["filter"]}" aria-label="{t["filter"]}">'
        f"{_notices(report, t)}{_summary(report, lang, t)}{body}</main>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
