"""Reactions to other services' events, through the kernel's idempotent inbox consumer."""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog

from icam_contracts import parse
from icam_contracts.events.case import InterviewHeld
from icam_invitation.commands import Commands
from icam_invitation.domain import invitation as inv
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent

log = structlog.get_logger(__name__)

# The household's open invitation closest to the interview, within the matching window.
_CLOSEST_OPEN = """
select invitation_id from invitations
where household_id = $1 and status in ('sent', 'confirmed', 'declined', 'no_show')
  and appointment_at between $2::timestamptz - $3::interval and $2::timestamptz + $3::interval
order by abs(extract(epoch from appointment_at - $2::timestamptz)) limit 1
"""


def when_interview_held_mark_invitation_honoured(commands: Commands, window: timedelta):  # type: ignore[no-untyped-def]
    """InterviewHeld -> InvitationHonoured on the invitation the household came on.

    With ``invitation_id`` null (walk-ins, ad hoc meetings) the household's open invitation whose
    slot is closest to the interview, within ``window``, is taken; if there is none, nothing happens.
    An invitation this service does not know (another deployment's) is ignored.
    """

    async def handle(conn: Connection, event: RecordedEvent) -> None:
        if event.event_type != "InterviewHeld":
            return
        held = parse(event.event_type, event.event_version, event.data)
        assert isinstance(held, InterviewHeld)
        invitation_id = held.invitation_id or await conn.fetchval(
            _CLOSEST_OPEN, held.household_id, event.occurred_at, window
        )
        if invitation_id is None:
            log.info("interview_without_invitation", interview_id=str(held.interview_id))
            return
        if await commands.store.stream_version(conn, str(invitation_id)) == 0:
            log.warning("interview_for_unknown_invitation", invitation_id=str(invitation_id))
            return
        await commands.when_timer_due(
            conn,
            uuid.UUID(str(invitation_id)),
            lambda state: inv.honour(state, case_id=held.case_id, interview_id=held.interview_id),
            str(event.event_id),
            correlation=event.correlation_id,
        )

    return handle
