"""Motion primitives shared by the synthesizers: quintic end-state curves, a smooth
bump, AR(1) noise, and the glue that evaluates analytic phase functions onto a
:class:`~imu.synth.foot.FootTrack`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from imu.synth.foot import FootTrack

#: A phase of motion: absolute times (n,) -> (angles (n, 3), ball position (n, 3)).
PhaseFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def quintic(T: float, x0, v0, a0, x1, v1, a1) -> np.ndarray:
    """Ascending coefficients (6, d) of the quintic with given end states on [0, T]."""
    x0, v0, a0, x1, v1, a1 = (np.atleast_1d(np.asarray(x, float)) for x in (x0, v0, a0, x1, v1, a1))
    dx = x1 - x0
    c3 = (20 * dx - (8 * v1 + 12 * v0) * T - (3 * a0 - a1) * T**2) / (2 * T**3)
    c4 = (-30 * dx + (14 * v1 + 16 * v0) * T + (3 * a0 - 2 * a1) * T**2) / (2 * T**4)
    c5 = (12 * dx - 6 * (v1 + v0) * T - (a0 - a1) * T**2) / (2 * T**5)
    return np.stack(np.broadcast_arrays(x0, v0, a0 / 2, c3, c4, c5))


def polyval(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Evaluate ascending coefficients c (k, d) at s (n,): (n, d)."""
    s = np.asarray(s, float)[:, None]
    out = np.zeros((s.shape[0], c.shape[1]))
    for ck in c[::-1]:
        out = out * s + ck
    return out


def bump(u) -> np.ndarray:
    """64 u^3 (1-u)^3 on [0, 1] (0 elsewhere): zero with zero slope and curvature at the ends."""
    u = np.clip(np.asarray(u, float), 0.0, 1.0)
    return 64.0 * u**3 * (1.0 - u) ** 3


@dataclass
class Kin:
    """Angles (pitch, roll, yaw) and ball position, each with 1st and 2nd derivative."""

    ang: np.ndarray
    w: np.ndarray
    al: np.ndarray
    pos: np.ndarray
    vel: np.ndarray
    acc: np.ndarray


def state_at(fn: PhaseFn, t: float, forward: bool, h: float = 2e-5) -> Kin:
    """Value and first two derivatives of a phase at one end (one-sided differences)."""
    sgn = 1.0 if forward else -1.0
    ang, pos = fn(t + sgn * h * np.arange(4))

    def d(x):
        v = sgn * (-3 * x[0] + 4 * x[1] - x[2]) / (2 * h)
        a = (2 * x[0] - 5 * x[1] + 4 * x[2] - x[3]) / h**2
        return x[0].copy(), v, a

    a0, a1, a2 = d(ang)
    p0, p1, p2 = d(pos)
    return Kin(a0, a1, a2, p0, p1, p2)


def append_until(track: FootTrack, t_end: float, fn: PhaseFn) -> None:
    """Append the grid points after the track's last one up to ``t_end`` from ``fn``."""
    i1 = int(np.floor(t_end * track.fs + 1e-9))
    if i1 < track.n:
        return
    t = np.arange(track.n, i1 + 1) / track.fs
    ang, pos = fn(t)
    track.append(ang[:, 0], ang[:, 1], ang[:, 2], pos)


def ar1(rng: np.random.Generator, n: int, sd: float, rho: float = 0.5) -> np.ndarray:
    """Stationary AR(1) noise of standard deviation sd."""
    if n <= 0:
        return np.zeros(0)
    x = lfilter([np.sqrt(1 - rho**2)], [1.0, -rho], rng.normal(0.0, sd, n + 20))
    return x[20:]
