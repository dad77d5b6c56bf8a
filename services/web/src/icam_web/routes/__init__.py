"""The web's routes, one module per role or screen."""

from __future__ import annotations

from fastapi import APIRouter

from icam_web.routes import (
    agenda,
    audit,
    auth,
    case_actions,
    case_file,
    caseload,
    desk,
    invitations,
    ops,
    partner,
    team,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    agenda.router,
    caseload.router,
    invitations.router,
    case_actions.router,
    team.router,
    case_file.router,
    desk.router,
    partner.router,
    ops.router,
    audit.router,
)
