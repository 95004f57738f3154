"""Agencies submit their own data: `POST /submissions`, `GET /submissions[/{id}]`,
`DELETE /agencies/{code}/data`, and the form `/submit` for data officers who don't use curl.

A submission is an upload like `POST /validate`'s (streamed to a temporary folder within the
upload limits, api/uploads.py), read, scope-checked and validated in a sandboxed child process
(khadamat/sandbox.py: no network, a memory budget, a time limit); only the write itself — a new
store generation, switched in atomically, with its version recorded in the history — happens in
the server (khadamat/submissions.py). Every worker sees it from its next request on. On a SPARQL
server (`--endpoint`) the child, which cannot connect, reads and scope-checks the files against
the store's reference tables handed to it, and the server validates against the SPARQL server
before it writes (khadamat.submissions.prepare_isolated).

Who may do what: an editor token writes the data of its agency and of that agency's provincial and
county units, an admin token anything; without a token 401, with another role 403, a row, sheet or
graph outside the token's scope 403 with every refusal listed. A server with no tokens at all is
read-only: these routes answer 403 saying so. One write at a time: a submission that cannot get
the write lock within `submit.wait` seconds gets 503 with Retry-After.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from khadamat.api import history as history_api
from khadamat.api.auth import require, tokens_of
from khadamat.api.config import ApiConfig
from khadamat.api.deps import config_of, settings_of
from khadamat.api.pages import templates
from khadamat.api.respond import ApiError
from khadamat.api.uploads import REQUEST_BODY, check_declared_length, gate_of, receive_upload
from khadamat.api.validate import upload_refusal, validation_day

from khadamat.accounts import Principal, Role
from khadamat.sandbox import IsolatedError, run_isolated
from khadamat.store import StoreBusy
from khadamat.submissions import Outcome, UnknownAgency, submit, withdraw

router = APIRouter(tags=["Submissions"])
log = logging.getLogger("khadamat.api.submissions")
WRITERS = (Role.EDITOR, Role.ADMIN)
READERS = (Role.EDITOR, Role.AUDITOR, Role.ADMIN)


def writable(request: Request) -> None:
    """A server with no tokens runs read-only: every write route says so (403), before it even
    looks at the token (there is none that could be valid)."""
    if tokens_of(request).is_empty():
        raise ApiError(
            403,
            "this server is read-only: it has no tokens (khadamat token add --role editor --agency CODE); "
            "submissions are not accepted",
            "این کارگزار فقط‌خواندنی است (توکنی تعریف نشده) و ارسال نمی‌پذیرد",
        )


def _busy(config: ApiConfig) -> ApiError:
    return ApiError(
        503,
        f"another submission is being written; try again in a few seconds (waited {config.submit.wait:g} s)",
        "ارسال دیگری در حال نوشتن است؛ چند ثانیهٔ دیگر دوباره بفرستید",
        headers={"Retry-After": str(config.submit.retry_after)},
    )


def _strip(texts: list[str], folder: Path) -> list[str]:
    """Messages without the temporary folder's path (the client knows its files by name)."""
    prefix = str(folder) + "/"
    return [t.replace(prefix + "csv/", "").replace(prefix, "") for t in texts]


def _answer(outcome: Outcome, folder: Path) -> JSONResponse:
    """201 (written), 200 (dry run), 403 (scope) or 422 (input errors, or refused for violations)."""
    if outcome.scope_refused:
        raise ApiError(
            403,
            f"the submission writes outside the scope of this token ({len(outcome.errors)} refusal(s)); "
            "nothing was written",
            "ارسال به دادهٔ بیرون از حوزهٔ این توکن دست می‌زند؛ هیچ چیز نوشته نشد",
            errors=_strip(outcome.errors, folder),
        )
    if outcome.errors:
        raise ApiError(
            422,
            outcome.errors[0]
            if outcome.violations_refused
            else f"the submission has {len(outcome.errors)} input error(s); nothing was written",
            "ارسال رد شد؛ هیچ چیز نوشته نشد",
            errors=_strip(outcome.errors, folder),
            notices=_strip(outcome.notices, folder),
            report=outcome.report,
        )
    body = {
        "id": outcome.id,
        "dry_run": outcome.dry_run,
        "graphs": outcome.graphs,
        "triples": outcome.triples,
        "findings": outcome.findings,
        "notices": _strip(outcome.notices, folder),
        "report": outcome.report,
    }
    return JSONResponse(body, status_code=200 if outcome.dry_run else 201)


@router.post(
    "/submissions",
    summary="Submit an agency's data (editor or admin token): validated, then written as a version",
    openapi_extra={"requestBody": REQUEST_BODY},
    status_code=201,
    responses={
        200: {"description": "dry run: validated, nothing written"},
        401: {"description": "no token, or a token that is not valid"},
        403: {"description": "read-only server, a role that may not write, or data outside the scope"},
        413: {"description": "the upload is over a limit"},
        422: {"description": "input errors (every one listed), or Violations with --refuse-violations"},
        503: {"description": "another submission is being written (Retry-After), or too many uploads"},
    },
)
async def post_submission(
    request: Request,
    _writes: Annotated[None, Depends(writable)],
    principal: Annotated[Principal, Depends(require(*WRITERS))],
    dry_run: Annotated[bool, Query(description="validate only; write nothing")] = False,
    date: Annotated[str | None, Query(max_length=20, description="validation date (default today)")] = None,
    lang: Annotated[str, Query(pattern="^(fa|en)$")] = "fa",
) -> JSONResponse:
    settings, config = settings_of(request), config_of(request)
    on_date = validation_day(date)
    limits = config.uploads
    check_declared_length(request, limits)
    gate = gate_of(request, limits)
    gate.enter()
    try:
        with tempfile.TemporaryDirectory(prefix="khadamat-submission-") as tmp:
            saved = await receive_upload(request, Path(tmp), limits)
            isolate = functools.partial(
                _isolated, timeout=config.validate_timeout, memory_bytes=limits.memory_bytes
            )
            files = [(name, _saved_path(Path(tmp), name)) for name in saved.names]
            job = functools.partial(
                submit,
                settings,
                saved.paths,
                principal,
                dry_run=dry_run,
                refuse_violations=config.refuse_violations,
                on_date=on_date,
                wait=config.submit.wait,
                files=files,
                isolate=isolate,
                lang=lang,
            )
            try:
                outcome = await anyio.to_thread.run_sync(job)
            except StoreBusy:
                raise _busy(config) from None
            except PermissionError as exc:
                raise ApiError(403, str(exc), "این توکن اجازهٔ نوشتن ندارد") from None
            except IsolatedError as exc:
                raise upload_refusal(exc, saved.names, config) from exc
            if outcome.id:
                log.info(
                    "submission %s by %s (%s): %s",
                    outcome.id,
                    principal.token_id,
                    principal.role,
                    outcome.graphs,
                )
            return _answer(outcome, Path(tmp))
    finally:
        gate.leave()


def _saved_path(folder: Path, name: str) -> Path:
    """Where api/uploads.py put a file of the upload (the .csv sheets together in csv/)."""
    return folder / "csv" / name if name.lower().endswith(".csv") else folder / name


def _isolated(func: Any, *args: Any, timeout: float, memory_bytes: int) -> Any:
    """Run the untrusted part of a submission in a sandboxed child (khadamat/sandbox.py)."""
    return run_isolated(func, *args, timeout=timeout, memory_bytes=memory_bytes)


def _visible(principal: Principal, version: dict[str, Any]) -> bool:
    """Auditors and admins see every version; an editor those of its agency (and by its tokens)."""
    if principal.role in (Role.AUDITOR, Role.ADMIN):
        return True
    agency = principal.agency or ""
    tail = f"/graph/agency/{agency}"
    return version["who"].get("agency") == agency or any(g.endswith(tail) for g in version["graphs"])


@router.get(
    "/submissions", summary="The versions written, newest first (editor: its agency's; auditor, admin: all)"
)
async def list_submissions(
    request: Request, principal: Annotated[Principal, Depends(require(*READERS))]
) -> JSONResponse:
    agency = principal.agency if principal.role is Role.EDITOR else None
    found = await history_api.submission_list(request, agency)
    shown = list(reversed(found))  # an editor's are its agency's (and its units') already
    return JSONResponse({"submissions": shown, "count": len(shown)})


@router.get("/submissions/{version_id}", summary="One version: who, when, files, graphs, triples, findings")
async def get_submission(
    request: Request, version_id: str, principal: Annotated[Principal, Depends(require(*READERS))]
) -> JSONResponse:
    found = await history_api.submission_detail(request, version_id)
    if found is None:
        raise ApiError(404, f"no version {version_id} in the history", f"نسخهٔ «{version_id}» نیست")
    if not _visible(principal, found):
        raise ApiError(403, "this version is about another agency's data", "این نسخه از آن دستگاه دیگری است")
    return JSONResponse(found)


@router.delete(
    "/agencies/{code}/data",
    summary="Withdraw an agency's data (and its units'): a version too, kept in the history",
    responses={404: {"description": "no such agency"}, 503: {"description": "another write runs"}},
)
async def withdraw_agency(
    request: Request,
    code: str,
    _writes: Annotated[None, Depends(writable)],
    principal: Annotated[Principal, Depends(require(*WRITERS))],
) -> JSONResponse:
    settings, config = settings_of(request), config_of(request)
    job = functools.partial(withdraw, settings, code, principal, wait=config.submit.wait)
    try:
        outcome = await anyio.to_thread.run_sync(job)
    except StoreBusy:
        raise _busy(config) from None
    except UnknownAgency as exc:
        raise ApiError(404, str(exc), f"دستگاهی با کد «{code}» بارگذاری نشده است") from None
    except PermissionError as exc:
        raise ApiError(403, str(exc), "دادهٔ این دستگاه بیرون از حوزهٔ این توکن است") from None
    return JSONResponse({"id": outcome.id, "graphs": outcome.graphs, "triples": 0})


@router.get("/submit", response_class=HTMLResponse, summary="The submission form for data officers")
async def submit_page(request: Request) -> HTMLResponse:
    """The form sends the files with the token the officer types (never kept by the page)."""
    read_only = tokens_of(request).is_empty()
    return templates.TemplateResponse(
        request, "submit.html", {"title": "ارسال شناسنامهٔ خدمات", "read_only": read_only}
    )
