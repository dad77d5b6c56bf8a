"""The web's routes, one module per role or screen."""

from __future__ import annotations

from fastapi import APIRouter

from icam_web.routes import (
    agenda,
    approvals,
    audit,
    auth,
    case_actions,
    case_file,
    caseload,
    desk,
    documents,
    invitations,
    mailbox,
    members,
    moves,
    ops,
    partner,
    privacy,
    team,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    agenda.router,
    caseload.router,
    invitations.router,
    case_actions.router,
    approvals.router,
    documents.router,
    members.router,
    moves.router,
    team.router,
    case_file.router,
    desk.router,
    partner.router,
    ops.router,
    audit.router,
    privacy.router,
    mailbox.router,
)
