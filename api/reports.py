"""The annual evaluation over HTTP: `GET /reports` and `GET /reports/diff?from=…&to=…`.

Thin faces over khadamat.report (the same function as `khadamat report`) and khadamat.diff (as
`khadamat diff`): JSON, CSV, HTML or XLSX by the Accept header (api/negotiation.py). Answers are
shared and cached per store generation like the library's (api/answer_cache.py), since a
generation never changes. `/reports` reads what every page shows, so it is public; a diff reads
the history, which auditors and admins read (api/history.py), so it asks for their token. Only
version ids name the sides of a diff here: a client never names a folder or file of the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from khadamat.api.auth import require
from khadamat.api.deps import config_of, settings_of, store_of
from khadamat.api.negotiation import choose
from khadamat.api.respond import ApiError
from khadamat.api.sparql import answers_of
from khadamat.api.validate import validation_day

from khadamat.accounts import Principal, Role
from khadamat.formatting import language

router = APIRouter(tags=["Reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFFERED = {"application/json": "json", "text/csv": "csv", "text/html": "html", XLSX: "xlsx"}
MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xlsx": XLSX,
}
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR, Role.ADMIN))]


def _format(request: Request) -> str:
    media = choose(request.headers.get("accept"), list(OFFERED))
    if media is None:
        raise ApiError(
            406,
            "this resource is JSON, CSV, HTML or XLSX: " + ", ".join(OFFERED),
            "این گزارش به صورت JSON، CSV، HTML یا XLSX است",
        )
    return OFFERED[media]


def _answer(body: bytes, fmt: str, name: str) -> Response:
    headers = {"Vary": "Accept, Accept-Language"}
    if fmt in ("csv", "xlsx"):
        headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return Response(body, media_type=MEDIA[fmt], headers=headers)


@router.get(
    "/reports",
    summary="The annual evaluation: figures per agency, family and nation, rankings — ارزیابی سالانه",
    responses={
        406: {"description": "none of JSON, CSV, HTML or XLSX is acceptable"},
        422: {"description": "unknown agency or family, or a date that does not read"},
    },
)
async def reports(
    request: Request,
    agency: str | None = None,
    family: str | None = None,
    date: str | None = None,
    lang: str | None = None,
) -> Response:
    """Circular 29168 art. 12; regulation on electronic services art. 18–19. `date` is Jalali or
    ISO (default today); `agency` or `family` narrows it; `lang` (or Accept-Language) fa or en."""
    from khadamat.report import ScopeError
    from khadamat.report.writers import render

    if agency and family:
        raise ApiError(422, "give agency or family, not both", "یا دستگاه یا خانواده، نه هر دو")
    fmt, day = _format(request), validation_day(date) or dt.date.today()
    reader = language(lang, request.headers.get("accept-language"))
    store = store_of(request)

    def compute() -> bytes:
        return render(store, day, fmt, reader, agency=agency, family=family)

    key = ("report", agency, family, day.isoformat(), reader, fmt)
    try:
        body, _ = await answers_of(request).get(key, compute, config_of(request).validate_timeout)
    except ScopeError as exc:
        raise ApiError(422, str(exc), str(exc)) from exc
    return _answer(body, fmt, f"evaluation-{day.isoformat()}")


@router.get(
    "/reports/diff",
    summary="What changed between two versions, per agency — تغییرات میان دو نسخه",
    responses={
        401: {"description": "no token or a bad one"},
        403: {"description": "not an auditor or admin"},
        404: {"description": "no such version"},
    },
)
async def report_diff(
    request: Request,
    principal: Auditor,
    from_: Annotated[str, Query(alias="from", description="the older version, v000012")],
    to: str | None = None,
    date: str | None = None,
    findings: bool = True,
    agency: str | None = None,
    lang: str | None = None,
) -> Response:
    """Services added, removed, retitled, moved, renumbered, card fields changed, findings fixed
    and new — from version `from` to version `to` (default: the catalog as it is now)."""
    from khadamat import history
    from khadamat.commands.diff import formatted
    from khadamat.diff import compare, version_store

    older = from_
    for side in (older, to):
        if side is not None and not history.is_version_id(side):
            raise ApiError(422, f"{side!r} is not a version id (v000012)", f"«{side}» شناسه نسخه نیست")
    fmt, day = _format(request), validation_day(date) or dt.date.today()
    reader = language(lang, request.headers.get("accept-language"))
    store, store_dir = store_of(request), settings_of(request).store_dir

    def compute() -> bytes:
        old = version_store(store, store_dir, older)
        new = version_store(store, store_dir, to) if to else store
        result = compare(
            old, new, old_name=older, new_name=to or "now", findings=findings, on_date=day, agency=agency
        )
        return formatted(result, fmt, reader)

    key = ("report-diff", older, to, day.isoformat(), findings, agency, reader, fmt)
    try:
        body, _ = await answers_of(request).get(key, compute, config_of(request).validate_timeout)
    except history.HistoryError as exc:
        raise ApiError(404, str(exc), "چنین نسخه‌ای نیست") from exc
    return _answer(body, fmt, f"diff-{older}-{to or 'now'}")
