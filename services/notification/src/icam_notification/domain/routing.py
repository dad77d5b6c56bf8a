"""Channel preference and fallbacks per recipient.

A message goes out on the channels its trigger asks for that the recipient can be reached on;
when none of those is possible, on the first reachable channel of ``FALLBACK_ORDER``. Formal
letters (invitations, outcomes, closure) add a postal letter whenever an address is known: the
letter is the record a person can keep and show. A channel that fails permanently falls back to
the next reachable channel not tried yet.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final

from icam_contracts.enums import Channel
from icam_notification.domain.recipients import Recipient

FALLBACK_ORDER: Final = (Channel.EMAIL, Channel.SMS, Channel.POSTAL_LETTER)


def reachable_on(recipient: Recipient, channel: Channel) -> bool:
    """Whether we hold the contact detail ``channel`` needs."""
    if channel is Channel.EMAIL:
        return bool(recipient.email)
    if channel is Channel.SMS:
        return bool(recipient.phone)
    return recipient.postal_address is not None


def plan_channels(
    recipient: Recipient, requested: Sequence[Channel] = (), *, with_letter: bool = False
) -> tuple[Channel, ...]:
    """The channels to send on, in order; empty when the recipient cannot be reached at all."""
    chosen = [c for c in dict.fromkeys(requested) if reachable_on(recipient, c)]
    if not chosen:
        first = next((c for c in FALLBACK_ORDER if reachable_on(recipient, c)), None)
        chosen = [first] if first is not None else []
    if with_letter and Channel.POSTAL_LETTER not in chosen and reachable_on(recipient, Channel.POSTAL_LETTER):
        chosen.append(Channel.POSTAL_LETTER)
    return tuple(chosen)


def next_fallback(recipient: Recipient, tried: Collection[Channel]) -> Channel | None:
    """The next channel to try after a permanent failure, or None when all are exhausted."""
    return next((c for c in FALLBACK_ORDER if c not in tried and reachable_on(recipient, c)), None)
