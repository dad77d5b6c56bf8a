"""What the case routes share: the service's settings and application, as dependencies."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from icam_case.config import CaseSettings
from icam_kernel.application import Application


async def _settings(request: Request) -> CaseSettings:
    settings: CaseSettings = request.app.state.settings
    return settings


async def _application(request: Request) -> Application:
    application: Application = request.app.state.application
    return application


Settings = Annotated[CaseSettings, Depends(_settings)]
App = Annotated[Application, Depends(_application)]
CaseId = Annotated[
    uuid.UUID, Path(description="The case.", examples=["9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d"])
]
MinPosition = Annotated[
    int | None,
    Query(ge=1, le=2**62, description="Wait until the read model reflects this position (read-your-writes)."),
]
