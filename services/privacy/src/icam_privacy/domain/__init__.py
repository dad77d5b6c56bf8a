"""The privacy domain, pure: an erasure order per stream, a legal hold per stream."""

from icam_privacy.domain.erasure import ERASURE, ErasureOrder, erase
from icam_privacy.domain.holds import HOLD, Hold, place_hold, release_hold

__all__ = ["ERASURE", "HOLD", "ErasureOrder", "Hold", "erase", "place_hold", "release_hold"]
