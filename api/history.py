"""The history over HTTP: `GET /agencies/{code}/history`, and the data behind `GET /submissions`
and `GET /submissions/{id}` (whose routes live in api/submissions.py and call the functions here).

Who may read: auditors and admins everything; an agency's editor the history of its agency and
of its provincial and county units. Versions carry token names and public ids, never secrets.
Only versions that became visible are listed (a write killed before its switch is not one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from khadamat.api.auth import require
from khadamat.api.deps import in_thread, settings_of, store_of
from khadamat.api.respond import ApiError

from khadamat import history
from khadamat.accounts import Principal, Role

router = APIRouter(tags=["history"])
READERS = (Role.AUDITOR, Role.ADMIN, Role.EDITOR)
Reader = Annotated[Principal, Depends(require(*READERS))]


@router.get(
    "/agencies/{code}/history",
    summary="Versions that changed an agency's data — تاریخچه داده یک دستگاه",
    responses={
        401: {"description": "no token or a bad one"},
        403: {"description": "not allowed"},
        404: {"description": "no such agency"},
    },
)
async def agency_history(code: str, request: Request, principal: Reader) -> dict[str, Any]:
    """Every version that wrote the agency's graphs (or its units'), oldest first: who (token name,
    role, agency, public token id), when, files with sizes and checksums, graphs, triples, findings."""
    store = store_of(request)
    store_dir = settings_of(request).store_dir
    # Checked first: an editor of another agency learns nothing, not even whether it exists.
    if principal.role == Role.EDITOR and principal.agency != code:
        own = principal.agency or ""
        family = await in_thread(request, lambda: history.agency_graph_iris(store, own))
        if store.minter.agency_graph(code).value not in family:
            raise ApiError(
                403,
                f"an editor of '{own}' may read the history of that agency and its units only",
                f"ویرایشگر «{own}» فقط تاریخچه همان دستگاه و واحدهای آن را می‌بیند",
            )

    def read() -> tuple[list[str], list[history.VersionInfo]] | None:
        graphs = history.agency_graph_iris(store, code)
        ever = {g.value for g in history.written_graphs(store_dir, store=store)}
        known = store.ask(f"ASK {{ {store.minter.agency(code)} ?p ?o }}")
        if not known and not ever & set(graphs):
            return None
        return graphs, history.versions(store_dir, code, store=store)

    found = await in_thread(request, read)
    if found is None:
        raise ApiError(404, f"no agency with code '{code}'", f"دستگاهی با کد «{code}» نیست")
    graphs, versions = found
    return {"agency": code, "graphs": graphs, "versions": [history.version_dict(v) for v in versions]}


async def submission_list(request: Request, agency: str | None = None) -> list[dict[str, Any]]:
    """Every version (oldest first), or one agency's, as `GET /submissions` lists them."""
    store, store_dir = store_of(request), settings_of(request).store_dir
    found = await in_thread(request, lambda: history.versions(store_dir, agency, store=store))
    return [history.version_dict(v) for v in found]


async def submission_detail(request: Request, version_id: str) -> dict[str, Any] | None:
    """One version as `GET /submissions/{id}` shows it, or None when there is no such version."""
    if not history.is_version_id(version_id):
        return None
    store, store_dir = store_of(request), settings_of(request).store_dir
    try:
        info = await in_thread(request, lambda: history.version(store_dir, version_id, store))
    except history.HistoryError:
        return None
    return history.version_dict(info)
