"""FastAPI dependencies: `CurrentPrincipal` in a route's signature authenticates the caller.

Tokens are checked by the app's own verifier when it has one (`install_verifier(app, settings)`,
kept in `app.state.token_verifier`), else by one built from the environment, cached per process.
Two apps in one process (tests) can so trust different issuers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from starlette.concurrency import run_in_threadpool

from icam_auth.principal import Principal, Role
from icam_auth.verify import AuthSettings, TokenVerifier, require_role


@lru_cache(maxsize=1)
def _verifier() -> TokenVerifier:
    return TokenVerifier(AuthSettings.from_env())


def install_verifier(app: FastAPI, settings: AuthSettings | TokenVerifier | None = None) -> TokenVerifier:
    """Give `app` its own verifier (from `settings`, else the environment, read now); returns it."""
    if isinstance(settings, TokenVerifier):
        verifier = settings
    else:
        verifier = TokenVerifier(settings or AuthSettings.from_env())
    app.state.token_verifier = verifier
    return verifier


def verifier_of(request: Request) -> TokenVerifier:
    """The verifier of the app serving `request`: its own if installed, else the process's."""
    verifier = getattr(request.app.state, "token_verifier", None)
    return verifier if isinstance(verifier, TokenVerifier) else _verifier()


async def current_principal(
    request: Request,
    authorization: Annotated[str | None, Header(description="`Bearer <JWT>` from the ICAM issuer")] = None,
) -> Principal:
    # async on purpose: a sync dependency costs a thread-pool hop per request. Checking a signature
    # against keys in memory is microseconds; only a remote JWKS may block, so that goes to a thread.
    verifier = verifier_of(request)
    if verifier.remote:
        return await run_in_threadpool(verifier.from_header, authorization)
    return verifier.from_header(authorization)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def roles(*allowed: Role):  # type: ignore[no-untyped-def]
    """`Depends(roles(Role.COACH, Role.TEAM_LEAD))`: authenticate, then check the role."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        return require_role(principal, *allowed)

    return dependency
