"""Tempo prescriptions (``UP-HOLD-DOWN-REST`` seconds) and compliance rules.

A coach's "2 s up" is the time of the whole movement from the bottom to the top. The
reported phases (the JSON contract) are measured between 10 % and 90 % of the excursion,
which is shorter. To compare the two, each phase is converted to a movement time with
the minimum-jerk model of smooth human point-to-point movement (Flash & Hogan 1985): a
minimum-jerk movement spends the fraction ``1 - 2 * TAU10`` of its duration between 10 %
and 90 % of its path, ``TAU10`` = 0.2479.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

#: Fraction of a minimum-jerk movement's duration spent before it reaches 10 % of its path.
TAU10 = float(brentq(lambda u: u**3 * (10 - 15 * u + 6 * u * u) - 0.1, 0.0, 0.5))


class TempoError(ValueError):
    """A tempo string that cannot be parsed."""


@dataclass(frozen=True)
class TempoPrescription:
    """Seconds up / hold at the top / down / rest at the bottom."""

    up_s: float
    hold_s: float
    down_s: float
    rest_s: float

    @classmethod
    def parse(cls, text: str) -> TempoPrescription:
        """Parse ``UP-HOLD-DOWN-REST`` (e.g. ``2-1-3-0``; decimals allowed)."""
        parts = text.strip().split("-")
        if len(parts) != 4:
            raise TempoError(f"tempo {text!r} must be UP-HOLD-DOWN-REST in seconds, e.g. 2-1-3-0")
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise TempoError(f"tempo {text!r} has a part that is not a number") from None
        if any(v < 0 or not np.isfinite(v) for v in vals) or vals[0] <= 0 or vals[2] <= 0:
            raise TempoError(f"tempo {text!r}: up and down must be > 0, hold and rest >= 0")
        return cls(*vals)

    def __str__(self) -> str:
        return "-".join(f"{v:g}" for v in (self.up_s, self.hold_s, self.down_s, self.rest_s))


@dataclass(frozen=True)
class TempoTolerance:
    """A phase passes when |measured - target| <= max(abs_s, rel * target)."""

    abs_s: float = 0.5
    rel: float = 0.25

    def passes(self, measured_s: float | None, target_s: float) -> bool | None:
        if measured_s is None or not np.isfinite(measured_s):
            return None
        return bool(abs(measured_s - target_s) <= max(self.abs_s, self.rel * target_s))

    def __str__(self) -> str:
        return f"+-max({self.abs_s:g} s, {100 * self.rel:g} %)"


def movement_times(
    concentric_s: float,
    hold_s: float,
    eccentric_s: float,
    gap_to_next_s: float | None,
    next_concentric_s: float | None,
) -> tuple[float, float, float, float | None]:
    """Movement times (up, hold, down, rest) from the 10-90 % phase times of a rep.

    ``gap_to_next_s`` is the next rep's ``start_s`` minus this rep's ``end_s``.
    """
    k = 1.0 - 2.0 * TAU10
    up = concentric_s / k
    down = eccentric_s / k
    hold = max(0.0, hold_s - TAU10 * (up + down))
    rest = None
    if gap_to_next_s is not None and next_concentric_s is not None:
        rest = max(0.0, gap_to_next_s - TAU10 * (down + next_concentric_s / k))
    return up, hold, down, rest
