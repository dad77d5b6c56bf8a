"""FastAPI dependencies: `CurrentPrincipal` in a route's signature authenticates the caller."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header

from icam_auth.principal import Principal, Role
from icam_auth.verify import AuthSettings, TokenVerifier, require_role


@lru_cache(maxsize=1)
def _verifier() -> TokenVerifier:
    return TokenVerifier(AuthSettings.from_env())


def current_principal(
    authorization: Annotated[str | None, Header(description="`Bearer <JWT>` from the ICAM issuer")] = None,
) -> Principal:
    return _verifier().from_header(authorization)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def roles(*allowed: Role):  # type: ignore[no-untyped-def]
    """`Depends(roles(Role.COACH, Role.TEAM_LEAD))`: authenticate, then check the role."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        return require_role(principal, *allowed)

    return dependency
