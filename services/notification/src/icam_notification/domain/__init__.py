"""The notification domain, pure: who is told what, in which language, on which channel.

No I/O here: time, ids and reference data are passed in (mypy --strict runs on this package).
"""

from icam_notification.domain.language import choose_language, official_language
from icam_notification.domain.notification import (
    FINAL,
    OUTCOMES,
    AlreadyFinal,
    Notification,
    RetryPolicy,
    Status,
    evolve,
    notification_id,
    record_delivery,
    record_failure,
    record_unreachable,
)
from icam_notification.domain.recipients import Household, Recipient, addressees
from icam_notification.domain.routing import FALLBACK_ORDER, next_fallback, plan_channels, reachable_on
from icam_notification.domain.triggers import TRIGGERS, MessageKind, PlannedMessage, Situation, plan_messages

__all__ = [
    "FALLBACK_ORDER",
    "FINAL",
    "OUTCOMES",
    "TRIGGERS",
    "AlreadyFinal",
    "Household",
    "MessageKind",
    "Notification",
    "PlannedMessage",
    "Recipient",
    "RetryPolicy",
    "Situation",
    "Status",
    "addressees",
    "choose_language",
    "evolve",
    "next_fallback",
    "notification_id",
    "official_language",
    "plan_channels",
    "plan_messages",
    "reachable_on",
    "record_delivery",
    "record_failure",
    "record_unreachable",
]
