"""Who is asking: the principal of a request, from its `Authorization: Bearer TOKEN` header.

`principal_of` is a FastAPI dependency: no header is the public (read-only routes work as they
always did); a header with a token that is malformed, unknown or revoked is a 401 with
`WWW-Authenticate: Bearer` — never treated as the public, so that a client whose token was revoked
learns it at once instead of reading on as someone else. `require(*roles)` guards a route: the
public gets 401 (a token is needed), a principal of another role 403.

A token is read from the header only, never from the URL (URLs end up in access logs), and no
answer or log line carries it: messages name the token by nothing at all.

The tokens file is the server's (`app.state.tokens`, a khadamat.accounts.TokenStore), by default
`tokens.json` in the store folder, or the file in KHADAMAT_TOKENS (`khadamat serve --tokens FILE`
sets it for every worker). `TokenStore.verify` re-reads the file when it changes, so a revocation
holds from the next request on, in every worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from khadamat.api.respond import ApiError

from khadamat.accounts import PUBLIC, Principal, Role, TokenStore, tokens_file_from_env

_CHALLENGE = 'Bearer realm="khadamat"'
router = APIRouter(tags=["accounts"])


def tokens_of(request: Request) -> TokenStore:
    """The server's tokens (made on first use from the settings and KHADAMAT_TOKENS)."""
    state = request.app.state
    tokens = getattr(state, "tokens", None)
    if tokens is None:
        tokens = state.tokens = TokenStore.for_store(state.settings.store_dir, tokens_file_from_env())
    return tokens


def _unauthorized(message: str, message_fa: str, error: str | None = None) -> ApiError:
    challenge = f'{_CHALLENGE}, error="{error}"' if error else _CHALLENGE
    return ApiError(401, message, message_fa, headers={"WWW-Authenticate": challenge})


async def principal_of(request: Request) -> Principal:
    """The request's principal: PUBLIC without a header; 401 for a bad or revoked token."""
    header = request.headers.get("authorization")
    if header is None:
        return PUBLIC
    scheme, _, token = header.strip().partition(" ")
    principal = tokens_of(request).verify(token.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        raise _unauthorized(
            "the token is not valid (malformed, unknown or revoked); send `Authorization: Bearer TOKEN` "
            "with a token from `khadamat token add`",
            "توکن معتبر نیست (نادرست، ناشناخته یا باطل‌شده)",
            "invalid_token",
        )
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through the principals of `roles` only: 401 public, 403 others."""
    allowed = frozenset(Role(r) for r in roles)
    names = " or ".join(sorted(r.value for r in allowed))

    async def dependency(principal: Principal = Depends(principal_of)) -> Principal:  # noqa: B008
        if principal.role in allowed:
            return principal
        if principal.role is Role.PUBLIC:
            raise _unauthorized(
                f"this needs a token ({names}); send `Authorization: Bearer TOKEN`",
                "این کار به توکن دسترسی نیاز دارد",
            )
        raise ApiError(
            403,
            f"a token of role {principal.role.value} may not do this; it needs {names}",
            "این توکن اجازهٔ این کار را ندارد",
        )

    return dependency


@router.get("/whoami")
async def whoami(principal: Principal = Depends(principal_of)) -> dict[str, str | None]:  # noqa: B008
    """Who the server takes the caller for: a data officer checks a token with this (never echoed)."""
    return {
        "name": principal.name,
        "role": principal.role.value,
        "agency": principal.agency,
        "token_id": principal.token_id,
    }
