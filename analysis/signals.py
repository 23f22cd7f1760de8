"""Samples onto a uniform grid, with gaps kept as gaps.

The detectors work on a uniform grid at the nominal rate, anchored at the file's first
timestamp, so every event time is on the file's ``t`` axis. Jitter and short losses (up to
``max_gap_samples`` nominal periods) are bridged by linear interpolation; longer gaps are
marked invalid and no event may be placed inside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class UniformSignal:
    """Samples on a uniform grid.

    Attributes
    ----------
    t0_s : float
        Time of the first grid point (file clock).
    fs_hz : float
    acc_mps2 : ndarray, shape (n, 3)
    gyr_dps : ndarray, shape (n, 3)
    valid : ndarray of bool, shape (n,)
        False inside gaps longer than ``max_gap_samples``.
    """

    t0_s: float
    fs_hz: float
    acc_mps2: np.ndarray
    gyr_dps: np.ndarray
    valid: np.ndarray

    @property
    def n(self) -> int:
        return int(self.valid.shape[0])

    @property
    def t_s(self) -> np.ndarray:
        return self.t0_s + np.arange(self.n) / self.fs_hz

    def time_of(self, index: np.ndarray | float) -> np.ndarray | float:
        """File time of a (fractional) grid index."""
        return self.t0_s + np.asarray(index) / self.fs_hz


def to_uniform(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    *,
    fs_hz: float,
    max_gap_samples: float = 3.0,
) -> UniformSignal:
    """Resample onto a uniform grid at ``fs_hz`` without bridging real gaps.

    Parameters
    ----------
    t_s : ndarray, shape (n,)
        Strictly increasing sample times (s).
    acc_mps2, gyr_dps : ndarray, shape (n, 3)
    fs_hz : float
        Grid rate (the nominal rate of the recording).
    max_gap_samples : float
        Spacings up to this many nominal periods are interpolated; longer ones are gaps.
    """
    t_s = np.asarray(t_s, float)
    n = int(np.floor((t_s[-1] - t_s[0]) * fs_hz + 1e-9)) + 1
    k = np.rint((t_s - t_s[0]) * fs_hz).astype(np.int64)  # nearest grid point
    on_grid = float(np.max(np.abs(t_s - t_s[0] - k / fs_hz))) <= 0.01 / fs_hz
    # Exact-rate recordings without losses need no interpolation (nor a copy) at all.
    if on_grid and len(t_s) == n:
        return UniformSignal(
            t0_s=float(t_s[0]),
            fs_hz=float(fs_hz),
            acc_mps2=np.asarray(acc_mps2, float),
            gyr_dps=np.asarray(gyr_dps, float),
            valid=np.ones(n, bool),
        )
    if on_grid:
        # On the nominal grid, some samples lost (BLE packets): place the samples and
        # interpolate only the missing grid points (the same values np.interp gives).
        acc = np.empty((n, 3))
        gyr = np.empty((n, 3))
        acc[k] = acc_mps2
        gyr[k] = gyr_dps
        have = np.zeros(n, bool)
        have[k] = True
        miss = np.flatnonzero(~have)
        t_miss = t_s[0] + miss / fs_hz
        for j in range(3):
            acc[miss, j] = np.interp(t_miss, t_s, acc_mps2[:, j])
            gyr[miss, j] = np.interp(t_miss, t_s, gyr_dps[:, j])
    else:
        # np.interp per channel: linear interpolation in C, without the (n, 6)
        # temporaries of fancy indexing (mostly saved page faults on long recordings).
        grid = t_s[0] + np.arange(n) / fs_hz
        acc = np.empty((n, 3))
        gyr = np.empty((n, 3))
        for j in range(3):
            acc[:, j] = np.interp(grid, t_s, acc_mps2[:, j])
            gyr[:, j] = np.interp(grid, t_s, gyr_dps[:, j])
    # Grid points inside a long gap between two samples (t_a <= g < t_b) are invalid;
    # found from the few gaps rather than a search for every grid point.
    valid = np.ones(n, bool)
    gaps = np.flatnonzero(np.diff(t_s) > max_gap_samples / fs_hz + 1e-9)
    if len(gaps):
        first = np.ceil((t_s[gaps] - t_s[0]) * fs_hz - 1e-9).astype(np.int64)
        stop = np.ceil((t_s[gaps + 1] - t_s[0]) * fs_hz - 1e-9).astype(np.int64)
        for a, b in zip(np.clip(first, 0, n), np.clip(stop, 0, n), strict=True):
            valid[a:b] = False
    return UniformSignal(
        t0_s=float(t_s[0]),
        fs_hz=float(fs_hz),
        acc_mps2=acc,
        gyr_dps=gyr,
        valid=valid,
    )


def moving_std(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving standard deviation along axis 0 (any trailing shape).

    Uses cumulative sums, so it is O(n) whatever the window.
    """
    x = np.asarray(x, float)
    window = max(1, int(window))
    c1 = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), x]), axis=0)
    c2 = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), x * x]), axis=0)
    n = x.shape[0]
    half = window // 2
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) - half + window, 0, n)
    cnt = (hi - lo).reshape((-1,) + (1,) * (x.ndim - 1))
    mean = (c1[hi] - c1[lo]) / cnt
    var = (c2[hi] - c2[lo]) / cnt - mean * mean
    return np.sqrt(np.maximum(var, 0.0))


def dilate(mask: np.ndarray, pad: int) -> np.ndarray:
    """Widen every True run of a boolean array by ``pad`` samples on both sides, in O(n)."""
    mask = np.asarray(mask, bool)
    n = len(mask)
    c = np.concatenate([[0], np.cumsum(mask)])
    i = np.arange(n)
    return c[np.minimum(i + pad + 1, n)] - c[np.maximum(i - pad, 0)] > 0


def runs(mask: np.ndarray) -> np.ndarray:
    """Start and stop (exclusive) indices of the True runs of a boolean array, shape (k, 2)."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(m[1:] != m[:-1])
    return d.reshape(-1, 2)


def block_mean(sig: UniformSignal, max_rate_hz: float) -> UniformSignal:
    """Average blocks of samples down to at most ``max_rate_hz`` (an anti-alias mean).

    Each block's time is its centre, so no delay is introduced.
    """
    k = max(1, int(np.floor(sig.fs_hz / max_rate_hz)))
    if k == 1:
        return sig
    m = sig.n // k

    def blocks(x: np.ndarray) -> np.ndarray:
        # A sum of k strided slices: much faster than .mean(axis=1) over (m, k, 3). An
        # (n, 3) array in column order (as pandas gives) is summed as its (3, n) rows,
        # and the result keeps that order; a reshape would copy it first (4x slower).
        if x.T.flags.c_contiguous:
            xt = x.T[:, : m * k]
            out = xt[:, 0::k].copy()
            for j in range(1, k):
                out += xt[:, j::k]
            out /= k
            return out.T
        x = x[: m * k].reshape(m, 3 * k)
        out = x[:, 0:3].copy()
        for j in range(1, k):
            out += x[:, 3 * j : 3 * j + 3]
        return out / k

    acc, gyr = blocks(sig.acc_mps2), blocks(sig.gyr_dps)
    valid = sig.valid[: m * k].reshape(m, k).all(axis=1)
    return UniformSignal(sig.t0_s + 0.5 * (k - 1) / sig.fs_hz, sig.fs_hz / k, acc, gyr, valid)


def binned_mean(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    *,
    fs_hz: float,
    max_rate_hz: float,
    max_gap_samples: float = 3.0,
) -> UniformSignal:
    """Block means straight from the samples, without a full-rate resampled copy.

    The same result as ``block_mean(to_uniform(...), max_rate_hz)`` on a recording
    sampled exactly at ``fs_hz``; with lost packets, each block is the mean of the
    samples that fell in it. A block missing more than ``max_gap_samples`` of its
    samples is marked invalid (its value is interpolated from its neighbours, so that
    filters see finite numbers, but no event is placed there).

    Parameters
    ----------
    t_s : ndarray, shape (n,)
        Strictly increasing sample times (s).
    acc_mps2, gyr_dps : ndarray, shape (n, 3)
    fs_hz : float
        Nominal rate of the recording.
    max_rate_hz : float
        Blocks of ``floor(fs_hz / max_rate_hz)`` nominal samples.
    """
    t_s = np.asarray(t_s, float)
    k = max(1, int(np.floor(fs_hz / max_rate_hz)))
    n_full = int(np.floor((t_s[-1] - t_s[0]) * fs_hz + 1e-9)) + 1
    m = n_full // k
    if len(t_s) == n_full or m < 2:  # exact rate, nothing lost (or tiny): plain block means
        sig = to_uniform(t_s, acc_mps2, gyr_dps, fs_hz=fs_hz)
        if sig.valid.all() or m < 2:
            return block_mean(sig, max_rate_hz)
    edges = t_s[0] + (np.arange(m + 1) * k - 0.5) / fs_hz
    idx = np.searchsorted(t_s, edges)
    counts = np.diff(idx)
    have = counts > 0
    out = np.empty((m, 6))
    end = int(idx[-1])
    starts = np.minimum(idx[:-1], max(end - 1, 0))
    chans = [(acc_mps2, c) for c in range(3)] + [(gyr_dps, c) for c in range(3)]
    for j, (arr, col) in enumerate(chans):
        # reduceat, channel by channel, on the samples up to the last block's end: no
        # (n, 6) temporaries (page faults dominate at this size). Empty blocks are
        # filled below.
        sums = np.add.reduceat(np.ascontiguousarray(arr[:end, col]), starts)
        out[have, j] = sums[have] / counts[have]
    centre = np.arange(m)
    if not have.all() and have.any():
        for j in range(6):
            out[~have, j] = np.interp(centre[~have], centre[have], out[have, j])
    # Short losses (up to max_gap_samples) leave a block valid, as to_uniform bridges
    # them; a block next to an emptied one is the ragged edge of a long gap: invalid.
    valid = (counts >= max(1, k - max_gap_samples)) & ~dilate(~have, 1)
    return UniformSignal(
        t0_s=float(t_s[0]) + 0.5 * (k - 1) / fs_hz,
        fs_hz=fs_hz / k,
        acc_mps2=np.ascontiguousarray(out[:, :3]),
        gyr_dps=np.ascontiguousarray(out[:, 3:]),
        valid=valid,
    )


def edge_onsets(
    x: np.ndarray, lo: np.ndarray, peak: np.ndarray, base: np.ndarray, levels, sign=None
) -> np.ndarray:
    """Fractional indices where rising edges leave their base (vectorized over edges).

    Edge k is ``sign_k (x[lo_k : peak_k + 1] - 0)``, rising from ``base_k`` to its extreme
    at ``peak_k``. Its crossings of two levels of the edge height (fractions ``levels``,
    linearly interpolated between samples, the last crossing before the peak) define a
    line that is extended back to ``base_k``; for an edge that starts with a straight
    rise (a force that grows from zero at a finite rate) this is where it starts.
    NaN where the edge does not rise.

    Parameters
    ----------
    x : ndarray, shape (n,)
    lo, peak : ndarray of int, shape (k,)
        First sample and extreme of each edge (``lo <= peak``).
    base : ndarray, shape (k,)
        Level before each edge (in the signed units).
    levels : (float, float)
    sign : ndarray, shape (k,), optional
        +1 or -1 per edge (falling edges are read negated).
    """
    k = len(lo)
    if k == 0:
        return np.zeros(0)
    sign = np.ones(k) if sign is None else np.asarray(sign, float)
    width = int((peak - lo).max()) + 1
    idx = np.minimum(lo[:, None] + np.arange(width)[None, :], len(x) - 1)
    w = sign[:, None] * x[idx]
    usable = np.arange(width)[None, :] < (peak - lo)[:, None]  # a sample below, then one after
    h = sign * x[peak] - base
    rows = np.arange(k)
    cross = []
    for lev in levels:
        y = base + lev * h
        below = (w < y[:, None]) & usable
        i = width - 1 - np.argmax(below[:, ::-1], axis=1)
        x0, x1 = w[rows, i], w[rows, np.minimum(i + 1, width - 1)]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = i + (y - x0) / (x1 - x0)
        cross.append(np.where(below.any(axis=1), c, np.nan))
    (t1, t2), (l1, l2) = cross, levels
    onset = lo + t1 - (t2 - t1) * l1 / (l2 - l1)
    return np.where(h > 0, onset, np.nan)


def lagrange_delay_weights(delay_samples: float) -> tuple[int, np.ndarray]:
    """Taps of the 4-point Lagrange (cubic) fractional-delay filter.

    ``y[n] = sum_j w[j] x[n + k - 1 + j]`` (j = 0..3) approximates ``x(n - delay)``.

    Returns
    -------
    k : int
        ``floor(-delay_samples)``: the offset of the second tap.
    w : ndarray, shape (4,)
        The weights (they sum to 1; exact for cubics).
    """
    s = -float(delay_samples)
    k = int(np.floor(s))
    mu = s - k
    w = np.array(
        [
            -mu * (mu - 1.0) * (mu - 2.0) / 6.0,
            (mu + 1.0) * (mu - 1.0) * (mu - 2.0) / 2.0,
            -(mu + 1.0) * mu * (mu - 2.0) / 2.0,
            (mu + 1.0) * mu * (mu - 1.0) / 6.0,
        ]
    )
    return k, w


def fractional_delay(x: np.ndarray, delay_samples: float, axis: int = 0) -> np.ndarray:
    """``x`` delayed by a fractional number of samples (either sign), edges held.

    A 4-tap Lagrange (cubic) interpolator: flat to within 0.5 % up to a quarter of the
    sample rate and exact for delays that are whole samples. (``scipy.ndimage.shift``
    does the same with splines, but on long multichannel signals about 100 times slower.)

    Parameters
    ----------
    x : ndarray, shape (..., n, ...)
        Uniformly sampled signal, time along ``axis``.
    delay_samples : float
        Delay in samples: the output at ``n`` is the input at ``n - delay_samples``.
    axis : int
        The time axis.

    Returns
    -------
    ndarray, same shape as ``x``
    """
    if delay_samples == 0.0:
        return x
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    n = x.shape[0]
    k, w = lagrange_delay_weights(delay_samples)
    pad = abs(k) + 2
    xp = np.concatenate([np.repeat(x[:1], pad, 0), x, np.repeat(x[-1:], pad, 0)])
    out = w[0] * xp[pad + k - 1 : pad + k - 1 + n]
    for j in range(1, 4):
        out += w[j] * xp[pad + k - 1 + j : pad + k - 1 + j + n]
    return np.moveaxis(out, 0, axis)
