"""The referral domain, pure: partner selection, working days, the referral aggregate and its rules.

No I/O: time, ids, the partner catalogue and the calendar are passed in (mypy --strict checks it).
"""

from icam_referral.domain.errors import AlreadyAcknowledged, InvalidDeparture, NotAcknowledged, ReferralClosed
from icam_referral.domain.rules import (
    RETURN_RELEVANT_VULNERABILITIES,
    acknowledge,
    decide_referral,
    mark_overdue,
    minimise,
    record_departure,
    refer_onward,
    reject,
    withdraw,
)
from icam_referral.domain.state import OPEN, REFERRAL, Household, Referral, ReferralStatus, evolve, fold

__all__ = [
    "OPEN",
    "REFERRAL",
    "RETURN_RELEVANT_VULNERABILITIES",
    "AlreadyAcknowledged",
    "Household",
    "InvalidDeparture",
    "NotAcknowledged",
    "Referral",
    "ReferralClosed",
    "ReferralStatus",
    "acknowledge",
    "decide_referral",
    "evolve",
    "fold",
    "mark_overdue",
    "minimise",
    "record_departure",
    "refer_onward",
    "reject",
    "withdraw",
]
