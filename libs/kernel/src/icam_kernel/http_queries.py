"""What every query route shares: paging parameters bounded so that no client value reaches the
database out of range (an offset past int64 is a 422 problem, never a 500), the service's
application and its settings as dependencies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from icam_kernel.application import Application

MAX_PAGE = 200
MAX_OFFSET = 1_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page (at most {MAX_PAGE}).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


async def _application(request: Request) -> Application:
    application: Application = request.app.state.application
    return application


App = Annotated[Application, Depends(_application)]
"""The service's application: its pool for queries, `load` for folded streams."""


async def settings_of(request: Request) -> Any:
    """The service's own settings object, as `create_app` put it on the app's state."""
    return request.app.state.settings
