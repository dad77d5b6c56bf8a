"""What the case routes share: the service's settings and application, as dependencies."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query

from icam_case.config import CaseSettings
from icam_kernel.http_queries import App, settings_of

__all__ = ["App", "CaseId", "MinPosition", "PersonIdPath", "Settings"]

Settings = Annotated[CaseSettings, Depends(settings_of)]
CaseId = Annotated[
    uuid.UUID, Path(description="The case.", examples=["9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d"])
]
PersonIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=50,
        pattern=r"^[0-9A-Za-z./\-]+$",
        description="A member's dossier reference.",
    ),
]
MinPosition = Annotated[
    int | None,
    Query(ge=1, le=2**62, description="Wait until the read model reflects this position (read-your-writes)."),
]
