"""What the invitation service does with the case's facts: the rows of its handler table."""

from __future__ import annotations

from datetime import timedelta

import structlog

from icam_contracts.events.case import InterviewHeld
from icam_invitation.domain import INVITATION, Invitation
from icam_invitation.domain import invitation as inv
from icam_kernel.application import Application, Plan
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.reactions import HandlerTable, When

log = structlog.get_logger(__name__)

# The household's open invitation closest to the interview, within the matching window.
_CLOSEST_OPEN = """
select invitation_id from invitations
where household_id = $1 and status in ('sent', 'confirmed', 'declined', 'no_show')
  and appointment_at between $2::timestamptz - $3::interval and $2::timestamptz + $3::interval
order by abs(extract(epoch from appointment_at - $2::timestamptz)) limit 1
"""


def handler_table(application: Application, window: timedelta) -> HandlerTable:
    """InterviewHeld -> InvitationHonoured on the invitation the household came on.

    With ``invitation_id`` null (walk-ins, ad hoc meetings) the household's open invitation whose
    slot is closest to the interview, within ``window``, is taken; if there is none, nothing
    happens. An invitation this service does not know (another deployment's) is passed over.
    """

    async def honoured(conn: Connection, held: InterviewHeld, rec: RecordedEvent) -> Plan[Invitation] | None:
        invitation_id = held.invitation_id or await conn.fetchval(
            _CLOSEST_OPEN, held.household_id, rec.occurred_at, window
        )
        if invitation_id is None:
            log.info("interview_without_invitation", interview_id=str(held.interview_id))
            return None
        return Plan(
            str(invitation_id),
            lambda state: [
                e for e in [inv.honour(state, case_id=held.case_id, interview_id=held.interview_id)] if e
            ],
        )

    return HandlerTable(application, When(InterviewHeld, INVITATION, honoured))
