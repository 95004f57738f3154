"""The auditor's HTML report: one standalone right-to-left page to open, filter and print.

No external file, font or script is fetched, so the page works offline and can be mailed; the
filter box hides rows that do not contain the typed text; print CSS drops the controls.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from pyoxigraph import NamedNode

from khadamat.jalali import to_jalali
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
        "ok": "هیچ یافته‌ای نیست.",
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
        "ok": "No findings.",
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
.meta{color:#556;margin-bottom:1rem}
input#filter{width:100%;max-width:32rem;padding:.45rem .6rem;font:inherit;border:1px solid #aab;
border-radius:.3rem}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.92rem}
th,td{border:1px solid #d5d8e0;padding:.3rem .45rem;vertical-align:top;text-align:start}
th{background:#eef1f6}
td.iri,td.ltr{direction:ltr;unicode-bidi:isolate;font-family:ui-monospace,Consolas,monospace;font-size:.8rem;word-break:break-all}
tr.Violation td.sev{color:#a1161b;font-weight:bold}
tr.Warning td.sev{color:#8a5a00;font-weight:bold}
tr.Info td.sev{color:#285e9c}
@media print{input#filter{display:none}body{margin:0}tr{page-break-inside:avoid}th{background:#eee!important}}
"""

_SCRIPT = """
document.getElementById('filter').addEventListener('input',function(e){
  var q=e.target.value.trim().toLowerCase();
  document.querySelectorAll('#findings tbody tr').forEach(function(r){
    r.style.display=(!q||r.textContent.toLowerCase().indexOf(q)>=0)?'':'none';});
});
"""


def _cell(value: object, css: str = "") -> str:
    text = "" if value is None else str(value)
    return f'<td class="{css}">{escape(text)}</td>' if css else f"<td>{escape(text)}</td>"


def _item(f: Finding) -> str:
    """The item's title (else its IRI), linked to its entity page when the IRI is http(s)."""
    iri = getattr(f.focus, "value", str(f.focus))
    text = escape(f.title or iri)
    if isinstance(f.focus, NamedNode) and iri.lower().startswith(("http://", "https://")):
        return f'<td dir="auto"><a href="{escape(iri, quote=True)}">{text}</a></td>'
    return f'<td dir="auto">{text}</td>'


def _source(f: Finding) -> str:
    file, sheet, row = source_parts(f.source)
    if file is None:
        return _cell(None)
    if sheet is None:
        return _cell(f.source, "ltr")
    return _cell(f"{file} · {sheet} · {row}", "ltr")


def _agency(f: Finding) -> str | None:
    return f"{f.agency} ({f.agency_name})" if f.agency and f.agency_name else f.agency


def _notices(report: Report, t: dict[str, str]) -> str:
    """What the loader skipped in the submission (sheets not of the format), before the findings."""
    if not report.notices:
        return ""
    items = "".join(f'<li dir="auto">{escape(n)}</li>' for n in report.notices)
    return f'<h2>{t["notices"]}</h2><ul id="notices">{items}</ul>'


def _summary(report: Report, t: dict[str, str]) -> str:
    rows = []
    for agency, entry in report.summary().items():
        by_sev = "، ".join(f"{t.get(k, k)} {v}" for k, v in entry["bySeverity"].items())
        by_rule = "، ".join(f"{k} {v}" for k, v in entry["byRule"].items())
        rows.append(
            f"<tr>{_cell(agency or '—')}{_cell(entry['total'])}{_cell(by_sev)}{_cell(by_rule, 'ltr')}</tr>"
        )
    head = f"<tr><th>{t['agency']}</th><th>{t['total']}</th><th>{t['severity']}</th><th>{t['rule']}</th></tr>"
    return f"<h2>{t['summary']}</h2><table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _findings(report: Report, lang: str, t: dict[str, str]) -> str:
    rows = []
    for f in report.sorted():
        sev = severity_name(f.severity)
        legal = f.legal
        law = ""
        if legal:
            law = legal.labels.get(lang) or legal.labels.get("fa") or f"{legal.instrument}:{legal.article}"
            if legal.part and not legal.labels:
                law += f":{legal.part}"
        value = f.value.value if f.value is not None and hasattr(f.value, "value") else f.value
        rows.append(
            f'<tr class="{sev}">{_cell(_agency(f))}{_cell(f.service_id, "ltr")}{_item(f)}{_source(f)}'
            f"{_cell(t.get(sev, sev), 'sev')}"
            f"{_cell(rule_name(f.shape), 'ltr')}{_cell(message(f, lang))}{_cell(law)}"
            f"{_cell(f.path.text() if f.path else '', 'ltr')}{_cell(value, 'iri')}"
            f"{_cell(getattr(f.focus, 'value', f.focus), 'iri')}</tr>"
        )
    cols = (
        "agency",
        "service",
        "item",
        "source",
        "severity",
        "rule",
        "message",
        "law",
        "path",
        "value",
        "focus",
    )
    head = "".join(f"<th>{t[c]}</th>" for c in cols)
    return f'<table id="findings"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_html(report: Report, lang: str = "fa") -> str:
    """The whole page as a string."""
    t = _TEXT[lang]
    date_text = to_jalali(report.on_date, persian_digits=lang == "fa")
    body = _findings(report, lang, t) if report.findings else f"<p>{t['ok']}</p>"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{t["dir"]}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t["title"]}</title>'
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>{t["title"]}</h1><div class="meta">{t["date"]}: {escape(date_text)} · '
        f"{t['scope']}: {escape(report.scope)} · {len(report.findings)}</div>"
        f'<input id="filter" type="search" placeholder="{t["filter"]}" aria-label="{t["filter"]}">'
        f"{_notices(report, t)}{_summary(report, t)}{body}<script>{_SCRIPT}</script></body></html>\n"
    )
