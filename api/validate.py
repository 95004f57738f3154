"""The validation service for auditors (issue 5 §3): `GET /validate` and `POST /validate`.

Answers are the JSON of `khadamat validate --format json` (khadamat.validation's
Report.to_json), or HTML / Turtle / CSV by Accept. An upload is read by the loader's
build_submission (which writes nothing) and validated with the store as its context in an
in-memory overlay; the server's store is read-only besides, so validating never writes.
"""

from __future__ import annotations

import functools
import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from khadamat.api.config import ApiConfig
from khadamat.api.deps import config_of, settings_of, store_of
from khadamat.api.execution import QueryTimeout, run_limited
from khadamat.api.findings import validation_module
from khadamat.api.negotiation import choose
from khadamat.api.respond import ApiError
from khadamat.api.uploads import REQUEST_BODY, SavedUpload, check_declared_length, gate_of, receive_upload
from khadamat.loader.resolve import read_snapshot

from khadamat.config import Settings
from khadamat.jalali import DateFormatError, parse_date
from khadamat.sandbox import IsolatedError, IsolatedMemoryExceeded, IsolatedTimeout, run_isolated
from khadamat.store import StoreError, open_store
from khadamat.submissions import Prepared, build_detached, check, prepare

router = APIRouter(tags=["Validation"])

REPORT_TYPES = ["application/json", "text/html", "text/turtle", "text/csv"]
log = logging.getLogger("khadamat.api.validate")


def _module() -> Any:
    module = validation_module()
    if module is None:
        raise ApiError(
            501, "validation is not available in this build", "اعتبارسنجی در این نسخه در دسترس نیست"
        )
    return module


def _media(request: Request) -> str:
    return choose(request.headers.get("accept"), REPORT_TYPES) or "application/json"


def render_report(report: Any, media: str, lang: str) -> str:
    """The report as the text of `media` (JSON, HTML, Turtle or CSV)."""
    if media == "text/html":
        return report.to_html(lang)
    if media == "text/turtle":
        return report.to_turtle()
    if media == "text/csv":
        return report.to_csv()
    return json.dumps(report.to_json(lang), ensure_ascii=False, separators=(",", ":"))


def _response(body: str, media: str) -> Response:
    return Response(body, media_type=media, headers={"Vary": "Accept"})


def validation_day(date: str | None) -> Any:
    """The validation date a route was asked for (Jalali or ISO; today when absent): one reading
    for `/validate` and `/submissions`, 422 naming the value when it is not a date."""
    if not date:
        return None
    try:
        return parse_date(date)
    except DateFormatError as exc:
        raise ApiError(422, str(exc), f"تاریخ «{date}» معتبر نیست") from exc


@router.get("/validate", summary="Validate the loaded catalog, or one agency")
async def validate_loaded(
    request: Request,
    agency: Annotated[str | None, Query(description="agency code; the whole catalog when absent")] = None,
    with_affiliates: Annotated[bool, Query(description="with agency: its affiliates and units too")] = False,
    date: Annotated[
        str | None, Query(description="validation date, Jalali or ISO (default today)", max_length=20)
    ] = None,
    lang: Annotated[str, Query(pattern="^(fa|en)$")] = "fa",
) -> Response:
    module = _module()
    store = store_of(request)
    on_date = validation_day(date)
    if with_affiliates and not agency:
        raise ApiError(422, "with_affiliates needs agency", "with_affiliates بدون agency معنا ندارد")

    def job() -> Any:
        return module.validate(store, agency=agency, with_affiliates=with_affiliates, on_date=on_date)

    try:
        report = await run_limited(job, config_of(request).validate_timeout)
    except (module.UnknownAgency, ValueError, SyntaxError) as exc:  # a code that can name no agency
        raise ApiError(
            404,
            f"no agency with code '{agency}' is loaded",
            f"دستگاهی با کد «{agency}» بارگذاری نشده است",
        ) from exc
    media = _media(request)
    return _response(render_report(report, media, lang), media)


class UnreadableSubmission(Exception):
    """Nothing could be read from the upload (no sheet, no triples): never a conforming report."""


def check_upload(
    store_dir: str, base: str, paths: list[str], names: list[str], on_date: Any, media: str, lang: str
) -> tuple[int, Any]:
    """Read and validate an upload on the embedded store; runs in a sandboxed child
    (khadamat.sandbox.run_isolated), which opens the store read-only by its folder, like any
    worker, and writes nothing. What it returns is `upload_answer`'s: plain values only."""
    _module()
    store = open_store(Settings(store_dir=Path(store_dir), base=base), read_only=True)
    try:
        prepared = prepare(store, [Path(p) for p in paths], None, on_date=on_date, names=names)
        return upload_answer(prepared, media, lang)
    finally:
        store.close()


def upload_answer(prepared: Prepared, media: str, lang: str) -> tuple[int, Any]:
    """(200, the rendered report) or (422, the submission's input errors and notices as text);
    raises UnreadableSubmission when nothing could be read (never a conforming report)."""
    if prepared.refusal is not None:
        refusal = prepared.refusal
        return 422, ([str(e) for e in refusal.errors], [str(n) for n in refusal.notices])
    if prepared.nothing_read:
        raise UnreadableSubmission
    return 200, render_report(prepared.report, media, lang)


async def _checked(
    request: Request, saved: SavedUpload, on_date: Any, media: str, lang: str
) -> tuple[int, Any]:
    """`check_upload`'s answer. On a SPARQL server the child cannot connect (it has no network):
    it gets the store's snapshot as plain data and only reads and maps the files
    (khadamat.submissions.build_detached); this process, which reaches the server, validates."""
    settings, config = settings_of(request), config_of(request)
    paths = [str(p) for p in saved.paths]
    limits = {"timeout": config.validate_timeout, "memory_bytes": config.uploads.memory_bytes}
    if settings.endpoint is None:
        args = (str(settings.store_dir), settings.base, paths, saved.names, on_date, media, lang)
        job = functools.partial(run_isolated, check_upload, *args, **limits)
        # The thread only waits on the child; run_isolated kills it at the limits, so it always ends.
        return await anyio.to_thread.run_sync(job)
    store = store_of(request)
    snapshot = await run_limited(lambda: read_snapshot(store), config.validate_timeout)
    job = functools.partial(run_isolated, build_detached, store.minter, snapshot, paths, None, **limits)
    built = await anyio.to_thread.run_sync(job)
    checked = functools.partial(check, store, built, on_date=on_date, names=saved.names)
    return await run_limited(lambda: upload_answer(checked(), media, lang), config.validate_timeout)


def _files(names: list[str]) -> str:
    """'a.xlsx', or one of 'a.csv', 'b.csv': the file(s) a message is about."""
    quoted = ", ".join(f"'{n}'" for n in names)
    return quoted if len(names) == 1 else f"one of {quoted}"


def upload_refusal(exc: Exception, names: list[str], config: ApiConfig) -> ApiError:
    """The fixed answer for a child that gave no report (its own text never reaches the client)."""
    files = _files(names)
    if isinstance(exc, IsolatedMemoryExceeded):
        budget = config.uploads.memory_bytes // 2**20
        return ApiError(
            413,
            f"the submission ({files}) needs more than {budget} MiB to read and validate; "
            f"the limit is {budget} MiB per upload",
            f"خواندن و اعتبارسنجی ارسال ({files}) بیش از {budget} مگابایت حافظه می‌خواهد؛ سقف همین است",
        )
    if isinstance(exc, IsolatedTimeout | QueryTimeout):
        return ApiError(
            503,
            f"validating the submission ({files}) took longer than {config.validate_timeout:g} s "
            "and was stopped",
            f"اعتبارسنجی ارسال ({files}) از زمان مجاز بیشتر طول کشید و متوقف شد",
        )
    if isinstance(exc, UnreadableSubmission):
        return ApiError(
            422,
            f"nothing could be read from {files}: expected a workbook with the catalog's sheets, "
            "its .csv sheets or RDF files with triples",
            f"از {files} چیزی خوانده نشد: کاربرگ، برگه‌های csv یا پرونده‌های RDF با داده لازم است",
        )
    return ApiError(
        422,
        f"the file could not be read safely: {files} is not a well-formed workbook, .csv sheet or RDF file",
        f"پرونده را نمی‌توان به‌سلامت خواند: {files} کاربرگ، برگهٔ csv یا پروندهٔ RDF سالمی نیست",
    )


async def _check_isolated(request: Request, saved: SavedUpload, on_date: Any, lang: str) -> Response:
    config = config_of(request)
    media = _media(request)
    try:
        status, value = await _checked(request, saved, on_date, media, lang)
    except (IsolatedError, UnreadableSubmission, QueryTimeout) as exc:
        raise upload_refusal(exc, saved.names, config) from exc
    except StoreError:
        raise  # the server's trouble, not the upload's: a 500 with a request id (api/respond.py)
    except Exception as exc:  # the loader failed on the input in a way it does not report yet
        log.warning("upload %s could not be read: %r", saved.names, exc)
        raise upload_refusal(exc, saved.names, config) from exc
    if status == 422:
        folder = str(saved.folder) + "/"
        errors, notices = ([e.replace(folder, "") for e in texts] for texts in value)  # never the tmp folder
        raise ApiError(
            422,
            f"the submission has {len(errors)} input error(s)",
            f"ارسال {len(errors)} خطای ورودی دارد",
            errors=errors,
            notices=notices,
        )
    return _response(value, media)


@router.post(
    "/validate",
    summary="Validate an uploaded submission (never loaded, never written)",
    openapi_extra={"requestBody": REQUEST_BODY},
    responses={
        413: {"description": "the upload is over a limit (bytes, files, memory to validate it)"},
        415: {"description": "not multipart/form-data, or a file of an unknown kind"},
        422: {"description": "the submission has input errors, or cannot be read"},
        503: {"description": "too many uploads at once (Retry-After), or validation ran out of time"},
    },
)
async def validate_upload(
    request: Request,
    date: Annotated[str | None, Query(max_length=20)] = None,
    lang: Annotated[str, Query(pattern="^(fa|en)$")] = "fa",
) -> Response:
    """The upload is streamed to a temporary folder within the upload limits (api/uploads.py),
    then read and validated in a child process with a memory budget and a time limit, so that
    no upload can take the server's memory, crash it or hold its event loop."""
    _module()
    on_date = validation_day(date)
    limits = config_of(request).uploads
    check_declared_length(request, limits)
    gate = gate_of(request, limits)
    gate.enter()
    try:
        with tempfile.TemporaryDirectory(prefix="khadamat-upload-") as tmp:
            saved = await receive_upload(request, Path(tmp), limits)
            return await _check_isolated(request, saved, on_date, lang)
    finally:
        gate.leave()
