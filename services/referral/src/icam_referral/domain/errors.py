"""The rules a command can break, each with a stable problem code (the kernel maps them to HTTP)."""

from __future__ import annotations

from icam_kernel.errors import Conflict, DomainRuleViolation


class ReferralClosed(Conflict):
    """The referral was rejected, withdrawn or completed: nothing more can happen to it."""

    code = "referral-closed"


class AlreadyAcknowledged(Conflict):
    """The partner acknowledged this referral before."""

    code = "referral-already-acknowledged"


class NotAcknowledged(Conflict):
    """A departure is recorded only on a referral the partner took on."""

    code = "referral-not-acknowledged"


class InvalidDeparture(DomainRuleViolation):
    """The departure's date or persons do not fit the referral."""

    code = "invalid-departure"
