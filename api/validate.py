"""The validation service for auditors (issue 5 §3): `GET /validate` and `POST /validate`.

Answers are the JSON of `khadamat validate --format json` (khadamat.validation's
Report.to_json), or HTML / Turtle / CSV by Accept. An upload is read by the loader's
build_submission (which writes nothing) and validated with the store as its context in an
in-memory overlay; the server's store is read-only besides, so validating never writes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from khadamat.api.deps import config_of, store_of
from khadamat.api.execution import run_limited
from khadamat.api.findings import validation_module
from khadamat.api.negotiation import choose
from khadamat.api.respond import ApiError

from khadamat.jalali import DateFormatError, parse_date

router = APIRouter(tags=["Validation"])

REPORT_TYPES = ["application/json", "text/html", "text/turtle", "text/csv"]
_UPLOAD_SUFFIXES = {".xlsx", ".csv", ".ttl", ".nt", ".nq", ".trig", ".rdf", ".owl", ".jsonld", ".xml", ".n3"}
_MAX_UPLOAD = 50 * 1024 * 1024


def _module() -> Any:
    module = validation_module()
    if module is None:
        raise ApiError(
            501, "validation is not available in this build", "اعتبارسنجی در این نسخه در دسترس نیست"
        )
    return module


def _render(request: Request, report: Any, lang: str) -> Response:
    media = choose(request.headers.get("accept"), REPORT_TYPES) or "application/json"
    headers = {"Vary": "Accept"}
    if media == "text/html":
        return HTMLResponse(report.to_html(lang), headers=headers)
    if media == "text/turtle":
        return Response(report.to_turtle(), media_type="text/turtle", headers=headers)
    if media == "text/csv":
        return PlainTextResponse(report.to_csv(), media_type="text/csv", headers=headers)
    return JSONResponse(report.to_json(lang), headers=headers)


def _day(date: str | None) -> Any:
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
    on_date = _day(date)
    if with_affiliates and not agency:
        raise ApiError(422, "with_affiliates needs agency", "with_affiliates بدون agency معنا ندارد")

    def job() -> Any:
        return module.validate(store, agency=agency, with_affiliates=with_affiliates, on_date=on_date)

    try:
        report = await run_limited(job, config_of(request).validate_timeout)
    except (module.UnknownAgency, ValueError, SyntaxError) as exc:  # a code that can name no agency
        raise ApiError(
            404,
            f"no agency with code '{agency}' is loaded ({exc})",
            f"دستگاهی با کد «{agency}» بارگذاری نشده است",
        ) from exc
    return _render(request, report, lang)


async def _save_uploads(files: list[UploadFile], folder: Path) -> list[Path]:
    """Uploads on disk as the loader reads them: .csv files together in one folder, others as files."""
    csv_folder = folder / "csv"
    paths: list[Path] = []
    for upload in files:
        name = Path(upload.filename or "upload").name
        suffix = Path(name).suffix.lower()
        if suffix not in _UPLOAD_SUFFIXES:
            raise ApiError(
                415,
                f"'{name}' is not a workbook (.xlsx), a .csv sheet or an RDF file",
                f"«{name}» کاربرگ xlsx، برگهٔ csv یا پروندهٔ RDF نیست",
            )
        data = await upload.read(_MAX_UPLOAD + 1)
        if len(data) > _MAX_UPLOAD:
            raise ApiError(
                413, f"'{name}' is larger than {_MAX_UPLOAD // 2**20} MiB", f"«{name}» بیش از اندازه بزرگ است"
            )
        target = (csv_folder if suffix == ".csv" else folder) / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        if suffix != ".csv":
            paths.append(target)
    if csv_folder.exists():
        paths.insert(0, csv_folder)
    return paths


@router.post("/validate", summary="Validate an uploaded submission (never loaded, never written)")
async def validate_upload(
    request: Request,
    files: Annotated[
        list[UploadFile],
        File(description="an .xlsx workbook, .csv sheets (agencies.csv, services.csv …) or RDF files"),
    ],
    date: Annotated[str | None, Query(max_length=20)] = None,
    lang: Annotated[str, Query(pattern="^(fa|en)$")] = "fa",
) -> Response:
    module = _module()
    from khadamat.loader.errors import SubmissionError
    from khadamat.loader.submission import build_submission

    store = store_of(request)
    on_date = _day(date)
    with tempfile.TemporaryDirectory(prefix="khadamat-upload-") as tmp:
        paths = await _save_uploads(files, Path(tmp))

        def job() -> Any:
            submission = build_submission(paths, store)
            return module.validate(store, submission=submission, on_date=on_date)

        try:
            report = await run_limited(job, config_of(request).validate_timeout)
        except SubmissionError as exc:
            raise ApiError(
                422,
                f"the submission has {len(exc.errors)} input error(s)",
                f"ارسال {len(exc.errors)} خطای ورودی دارد",
                errors=[str(e) for e in exc.errors],
            ) from exc
    # The scope names the uploaded files, not the server's temporary folder.
    report.scope = "submission: " + ", ".join(sorted(Path(f.filename or "upload").name for f in files))
    return _render(request, report, lang)
