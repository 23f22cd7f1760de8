"""Running strides and walking: initial contact and toe-off of every step of one foot,
bouts, and per-bout contact-time reports.

Event definition (what the numbers follow): initial contact (IC) = the first instant of
ground contact, toe-off (TO) = the last; ``contact_ms`` = TO - IC.

How they are found, from the foot's sagittal rotation (the angular rate about the foot's
lateral axis, ``+`` = plantarflexion / heel up; :mod:`analysis.orientation` finds that
axis and its sign from the data, whatever the mounting):

* A step's swing is the foot rotating toe-up at speed (the rate averaged over
  ``swing_avg_s`` below ``-swing_dps``): it separates two stances. The average keeps
  the heel drop after a forefoot landing (as fast, but brief) from passing for one.
* Initial contact, heel first: in late swing the foot's dorsiflexion slows down; the
  ground force at the heel, behind the ankle, then turns the foot toe-down (the rocker
  onto the sole). So the rate crosses zero upward at the heel's contact, which is the
  foot's largest dorsiflexion. The sharp collision that foot IMUs show (the acceleration
  spike and the jump into the rocker) comes 10-25 ms later: it is the ground force's
  impact transient, which peaks after the soft heel pad and midsole have started to
  load, not its onset. IC is the last upward zero crossing before that collision, if it
  lies within ``heel_window_s`` of it. Jolts later than that after the crossing belong
  to the push-off (its rise, the toes' leaving), not to the landing.
* Initial contact, forefoot first: the foot lands plantarflexed (no such crossing); the
  ball's impact starts the contact, so IC is the onset of the collision's acceleration
  edge (the line through its 30 % and 60 % crossings, above the late swing's own jerk,
  extended back to the level before it).
* Toe-off: through push-off the foot pivots ever faster about its toes; when they leave
  the ground, the swing takes over and the rotation reverses within a few samples. TO is
  the onset of that reversal: the falling edge from the push-off peak to the swing,
  extended back (10 % / 30 % levels) to the peak's level.

Bouts: steps whose strides are shorter than ``max_stride_s`` belong to one bout. A step
is ``run`` when its contact is shorter than ``run_duty_max`` of its stride (running has
flight; walking's stance is ~60 % of the stride), and a bout is ``run`` when most of its
steps are. Steps at the start and end of a running bout whose contact time is more than
``steady_tol`` off the bout's middle-half median are flagged not steady (acceleration
and slowing), and the rep averages use the steady steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, signal

from analysis.orientation import sagittal_motion, still_mask
from analysis.signals import UniformSignal, block_mean, edge_onsets, to_uniform


@dataclass
class GaitSettings:
    """Detector settings, in physical units."""

    swing_dps: float = 100.0  # a swing rotates the foot toe-up faster than this on average
    swing_avg_s: float = 0.1  # over this time
    max_contact_s: float = 1.5  # slow walking ~1 s; longer is standing between bouts
    pushoff_dps: float = 100.0  # a push-off rotates it heel-up faster than this
    min_stride_s: float = 0.3  # swings closer than this are one swing (sprint strides ~0.5 s)
    max_stride_s: float = 2.5  # a longer pause ends a bout
    heel_window_s: float = 0.08  # heel contact to the collision's peak: 10-25 ms typically
    landing_window_s: float = 0.35  # swing's fastest toe-up rotation to the landing (or
    # half the stride, if longer: slow drills swing long)
    edge_levels: tuple[float, float] = (0.1, 0.3)
    # The ball's collision edge is read higher: the late swing's own jerk (the leg
    # decelerating the foot) reaches up to about a quarter of the collision's, and at
    # 100-200 Hz the collision rises within one sample on top of it.
    impact_levels: tuple[float, float] = (0.3, 0.6)
    run_duty_max: float = 0.5
    min_bout_steps: int = 4
    steady_tol: float = 0.10
    alignment_rate_hz: float = 200.0  # the foot's axes are found at this rate at most


@dataclass
class Step:
    """One ground contact of the sensor's foot. Times in s on the file's axis."""

    initial_contact_s: float
    toe_off_s: float
    contact_ms: float
    stride_ms: float | None = None  # IC to the next IC of this foot
    flight_ms: float | None = None  # one foot only: stride - 2 x contact, see notes
    kind: str = "walk"  # "run" or "walk"
    bout_index: int = -1
    steady: bool = True
    strike: str = "heel"  # how the contact started: "heel" or "forefoot"
    in_gap: bool = False  # a lost packet inside the contact (not at its events)


@dataclass
class Bout:
    """Consecutive steps without a pause: a stride rep (``run``) or walking."""

    start_s: float
    end_s: float
    steps: int
    kind: str
    steady_steps: int
    contact_ms_mean: float
    contact_ms_median: float
    contact_ms_sd: float
    stride_ms_mean: float | None
    cadence_spm: float | None  # steps per minute of both feet (2 per stride of this foot)
    duty_factor: float | None
    contact_trend_ms_per_step: float | None  # slope over the steady steps


@dataclass
class GaitResult:
    """Everything the gait analysis found in one recording."""

    sample_rate_hz: float
    steps: list[Step]
    bouts: list[Bout]
    sign_method: str = ""
    rejected: list[tuple[float, str]] = field(default_factory=list)


def sagittal_rate_dps(sig: UniformSignal, settings: GaitSettings | None = None) -> tuple:
    """Angular rate about the foot's lateral axis (deg/s, shape (n,), + = heel up) and
    how its sign was decided.

    The axis is the principal axis of the angular rate (the foot's pitch axis dominates
    every step); the gyro bias is the median rate of the quiet samples. The sign comes from
    the swings: between two mid-stance moments (the local minima of the angular speed) a
    swing carries the foot forward. The sensor's acceleration across the axis, levelled
    with the pitch integrated from the first mid-stance (where the sole is about flat),
    integrated twice (velocity forced to zero at both ends), gives the displacement along
    ``lateral x up``; its sign over the swings says which way is forward. Without enough
    swings, :func:`analysis.orientation.sagittal_motion` decides (heel-raise cues).

    A gyro axis held at its range limit (a sprint's push-off and reversal can exceed
    2000 deg/s on one axis) no longer measures the rotation: there the rate is read from
    the other axes, as the foot turns about its lateral axis (see :func:`_unclipped_rate`).
    """
    st = settings or GaitSettings()
    c = block_mean(sig, st.alignment_rate_hz)
    g = c.gyr_dps
    speed0 = np.linalg.norm(g - np.median(g, axis=0), axis=1)
    quiet = c.valid & (speed0 < 10.0)
    bias = np.median(g[quiet], axis=0) if quiet.sum() > 20 else np.median(g, axis=0)
    gb = g - bias
    moving = c.valid & (speed0 > 60.0)
    m = gb[moving] if moving.sum() > 20 else gb
    _, vecs = np.linalg.eigh(m.T @ m)
    lateral = vecs[:, -1]
    up = np.median(c.acc_mps2[quiet], axis=0) if quiet.sum() > 20 else c.acc_mps2.mean(axis=0)
    up = up / np.linalg.norm(up)
    lateral = lateral - (lateral @ up) * up
    lateral /= np.linalg.norm(lateral)
    disp = _swing_displacements(c, gb @ lateral, lateral, up)
    if len(disp) >= 3 and abs(np.mean(np.sign(disp))) >= 0.6:
        if np.mean(np.sign(disp)) < 0:
            lateral = -lateral
        method = "swing-forward"
    else:
        al = sagittal_motion(c, still_mask(c)).alignment
        lateral, bias, method = al.lateral, al.gyr_bias_dps, al.sign_method
    w = sig.gyr_dps @ lateral - float(bias @ lateral)  # no (n, 3) temporary
    return _unclipped_rate(w, sig.gyr_dps, lateral, bias), method


def _clipped(x: np.ndarray) -> np.ndarray:
    """Samples of one gyro axis held at its range limit: the axis's largest (or smallest)
    value, reached by at least 3 samples (a flat top that a moving foot does not make
    otherwise). Shape (n,), bool."""
    out = np.zeros(len(x), bool)
    for lim in (x.max(), x.min()):
        at = np.abs(x - lim) <= 1e-6 * max(abs(lim), 1.0)
        if at.sum() >= 3:
            out |= at
    return out


def _unclipped_rate(
    w_dps: np.ndarray, gyr_dps: np.ndarray, lateral: np.ndarray, bias_dps: np.ndarray
) -> np.ndarray:
    """The sagittal rate ``w_dps`` (shape (n,)) where a gyro axis is clipped: the least-
    squares ``w`` of ``g_j - bias_j = w lateral_j`` over the unclipped axes ``j``, which
    holds while the foot turns about its lateral axis (it dominates every fast rotation of
    the foot). Unchanged where no axis is clipped or the others see too little of it."""
    clip = np.column_stack([_clipped(gyr_dps[:, j]) for j in range(3)])
    rows = np.flatnonzero(clip.any(axis=1))
    if len(rows) == 0:
        return w_dps
    use = ~clip[rows]
    den = (use * lateral**2).sum(axis=1)
    ok = den >= 0.1  # the unclipped axes carry at least ~30 % of the rotation
    num = (use * (gyr_dps[rows] - bias_dps) * lateral).sum(axis=1)
    w_dps = w_dps.copy()
    w_dps[rows[ok]] = num[ok] / den[ok]
    return w_dps


def _swing_displacements(
    c: UniformSignal, w_dps: np.ndarray, lateral: np.ndarray, up: np.ndarray
) -> np.ndarray:
    """Forward displacement (m, along ``lateral x up``) of each swing between two
    mid-stance moments 0.3-2.5 s apart with a swing faster than 150 deg/s."""
    fs = c.fs_hz
    k = max(1, int(round(0.1 * fs)))
    speed = np.convolve(np.abs(w_dps), np.ones(k) / k, mode="same")
    anchors, _ = signal.find_peaks(-speed, height=-100.0, distance=max(1, int(0.25 * fs)))
    if len(anchors) < 2:
        return np.zeros(0)
    a, b = anchors[:-1], anchors[1:]
    dur = (b - a) / fs
    peak = np.maximum.reduceat(np.abs(w_dps), a)[: len(a)] if len(a) else np.zeros(0)
    use = (dur >= 0.3) & (dur <= 2.5) & (peak > 150.0)
    a, b = a[use], b[use]
    if len(a) == 0:
        return np.zeros(0)
    lens = b - a
    owner = np.repeat(np.arange(len(a)), lens)
    idx = np.repeat(a, lens) + (
        np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    )
    th = np.radians(np.cumsum(w_dps[idx]) / fs)
    th -= np.repeat(th[np.cumsum(lens) - lens], lens)  # pitch 0 at each mid-stance
    fwd = np.cross(lateral, up)
    f = c.acc_mps2[idx]
    horiz = (f @ up) * np.sin(th) + (f @ fwd) * np.cos(th)
    v = np.cumsum(horiz) / fs
    v -= np.repeat(v[np.cumsum(lens) - lens], lens)
    end = np.repeat(v[np.cumsum(lens) - 1], lens)
    pos = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens) + 1
    v -= end * pos / np.repeat(lens, lens)  # zero velocity at both mid-stances
    disp = np.bincount(owner, v, len(a)) / fs
    return disp[np.abs(disp) > 0.1]  # a real stride moves the foot decimetres


class GaitAnalyzer:
    """Step events of one shoe sensor. Settings in ``__init__``, results in
    ``result_`` (and ``rate_dps_``, the sagittal angular rate)."""

    def __init__(self, settings: GaitSettings | None = None) -> None:
        self.settings = settings or GaitSettings()
        self.result_: GaitResult | None = None
        self.rate_dps_: np.ndarray | None = None

    def analyze(
        self, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_dps: np.ndarray, *, fs_hz: float
    ) -> GaitResult:
        """Find every step's initial contact and toe-off and group them into bouts.

        Parameters
        ----------
        t_s : ndarray, shape (n,)
            Sample times (s), strictly increasing, gaps allowed.
        acc_mps2 : ndarray, shape (n, 3)
            Specific force (m/s^2), sensor axes in any orientation.
        gyr_dps : ndarray, shape (n, 3)
            Angular rate (deg/s).
        fs_hz : float
            Nominal rate.
        """
        st = self.settings
        sig = to_uniform(t_s, acc_mps2, gyr_dps, fs_hz=fs_hz)
        fs, n = sig.fs_hz, sig.n
        w, method = sagittal_rate_dps(sig, st)
        self.rate_dps_ = w
        rejected: list[tuple[float, str]] = []

        # Swings: the peaks of the toe-up rotation averaged over swing_avg_s, at least a
        # short stride apart. A swing turns the foot toe-up from its toe-off pitch (50-70
        # deg plantarflexed) to its landing pitch over 0.2-0.5 s; the heel dropping after a
        # forefoot landing turns it toe-up too, at up to the swing's rate at a sprint, but
        # only by the landing's plantarflexion (< 20 deg) and within 50-80 ms: averaged
        # over swing_avg_s it falls well below the swing next to it.
        w_avg = _moving_mean(w, max(1, int(round(st.swing_avg_s * fs))))
        swings, _ = signal.find_peaks(
            -w_avg, height=st.swing_dps, distance=max(1, int(st.min_stride_s * fs))
        )
        # A heel drop left standing alone (no swing within min_stride_s) is still a
        # fraction of the swings around it: not a swing.
        if len(swings) >= 3:
            depth = -w_avg[swings]
            pad = np.pad(depth, 4, mode="edge")
            near = np.lib.stride_tricks.sliding_window_view(pad, 9)
            swings = swings[depth >= 0.3 * np.median(near, axis=1)]
        if len(swings) < 2:
            self.result_ = GaitResult(float(fs_hz), [], [], method, rejected)
            return self.result_
        s0, s1 = swings[:-1], swings[1:]  # a stance lies between consecutive swings
        keep = (s1 - s0) <= st.max_stride_s * fs
        s0, s1 = s0[keep], s1[keep]

        # Landing. The specific force's jump per sample (m/s^3) shows the collisions.
        jerk = _jerk(sig.acc_mps2, fs)
        reach = np.maximum(int(st.landing_window_s * fs), ((s1 - s0) * 0.5).astype(np.int64))
        land_end = np.minimum(s1, s0 + reach)
        # The swing's toe-up rotation ends at the landing: the rate's first upward zero
        # crossing after the swing is the heel's touch (heel first), or comes after the
        # ball's collision, as the heel drops and the push-off begins (ball first). The
        # collision is no later than heel_window_s after it: later jolts belong to the
        # push-off (its rise and the toes' leaving shake the sensor as hard as a landing,
        # and a sprint or a low sampling rate brings them into the landing window).
        up = np.flatnonzero((w[:-1] < 0) & (w[1:] >= 0))
        k = np.searchsorted(up, s0, side="right")
        cross = np.where(k < len(up), up[np.minimum(k, len(up) - 1)], n - 1)
        frac = cross + w[cross] / (w[cross] - w[np.minimum(cross + 1, n - 1)])
        hw = int(round(st.heel_window_s * fs))
        land_end = np.minimum(land_end, cross + hw + 2)
        # The ground stops a foot whose rotation has already slowed down (late swing): a
        # jolt while it still turned at over half its swing speed 10 ms before (a knock,
        # the other foot brushing past) is not a landing.
        k10 = max(1, int(round(0.01 * fs)))
        # A collision is a jolt that rises within an impact's duration (6-22 ms): the
        # jerk's growth over the last 20 ms, not the slow rise of the late swing's own
        # jerk as the leg brakes the foot (at a sprint, half the landing's).
        k20 = 2 * max(1, int(round(0.01 * fs))) + 1
        rise = jerk - ndimage.minimum_filter1d(jerk, k20, origin=k20 // 2)
        coll = _first_spike(rise, s0, land_end, gate=(w, 0.5 * np.abs(w_avg[s0]), k10))
        # Heel first: that crossing, at or before the collision and within heel_window_s
        # of it, after which the foot rolls toe-down.
        a0 = max(1, int(0.005 * fs))
        span = np.arange(a0, int(0.04 * fs) + 1)
        after = w[np.minimum(coll[:, None] + span[None, :], n - 1)].mean(axis=1)
        heel = (cross < land_end) & (cross <= coll + 1) & (coll - cross <= hw) & (after > 0)
        # Otherwise: the onset of the collision's acceleration edge.
        back = max(2, int(round(0.03 * fs)))
        lo = np.maximum(coll - back, s0)
        pre = np.clip(lo[:, None] - np.arange(back + 1)[None, :], 0, n - 1)
        base = np.median(jerk[pre], axis=1)
        impact = edge_onsets(jerk, lo, coll, base, st.impact_levels)
        ic_i = np.where(heel, frac, impact)

        peaks, _ = signal.find_peaks(w, height=st.pushoff_dps, prominence=st.pushoff_dps / 2)
        # How far the rotation collapses within 50 ms of each peak (deg/s).
        k50 = max(2, int(round(0.05 * fs)))
        ahead = np.minimum(peaks[:, None] + np.arange(1, k50 + 1)[None, :], n - 1)
        steep = w[peaks] - w[ahead].min(axis=1) if len(peaks) else np.zeros(0)
        # Push-off: after the landing's rocker (12 % of the stride, at least 40 ms: the
        # rocker ends at foot-flat, 100-170 ms into a ~1.1 s walking stride), of the heel-up rotations before the
        # next swing, the one whose rotation collapses most within 50 ms (the toes leave
        # and the swing reverses it). A rocker slows to foot-flat, not into a swing; the
        # heel kick of a running swing, after toe-off, turns over gently.
        skip = np.maximum(int(0.04 * fs), (0.12 * (s1 - s0)).astype(np.int64))
        after_ic = np.nan_to_num(ic_i, nan=0.0).astype(np.int64) + skip
        p_idx = _best_in_intervals(peaks, steep, np.maximum(after_ic, s0), s1)
        ok = p_idx > s0
        for a in s0[~ok]:
            rejected.append((float(sig.time_of(a)), "no push-off after the landing"))
        s0, s1, p_idx, ic_i, heel = s0[ok], s1[ok], p_idx[ok], ic_i[ok], heel[ok]

        # Toe-off: the reversal from the push-off peak into the next swing, at its fastest
        # toe-up rotation (within the averaging window).
        half = max(1, int(round(st.swing_avg_s * fs)) // 2)
        near = np.clip(s1[:, None] + np.arange(-half, half + 1)[None, :], p_idx[:, None], n - 1)
        s1_fast = near[np.arange(len(s1)), np.argmin(w[near], axis=1)]
        to_i = edge_onsets(-w, p_idx, s1_fast, -w[p_idx], st.edge_levels)

        good = np.isfinite(ic_i) & np.isfinite(to_i) & (to_i > ic_i)
        for a in s0[~good]:
            rejected.append((float(sig.time_of(a)), "no contact edges"))
        long = good & (to_i - ic_i > st.max_contact_s * fs)
        for a in s0[long]:
            rejected.append((float(sig.time_of(a)), "standing, not a step"))
        good &= ~long
        ic_i, to_i, heel = ic_i[good], to_i[good], heel[good]
        valid = sig.valid

        # An event read across a lost stretch cannot be placed: drop that contact. A loss
        # elsewhere inside the contact leaves its edges intact: keep it, flagged.
        def lost_near(x):
            a, b = np.floor(x).astype(np.int64), np.ceil(x).astype(np.int64)
            return ~(valid[np.clip(a - 1, 0, n - 1)] & valid[np.clip(b + 1, 0, n - 1)])

        unplaced = lost_near(ic_i) | lost_near(to_i)
        for a in ic_i[unplaced]:
            rejected.append((float(sig.time_of(a)), "an event in a data gap"))
        ic_i, to_i, heel = ic_i[~unplaced], to_i[~unplaced], heel[~unplaced]
        lost = np.flatnonzero(~valid)
        gap = np.searchsorted(lost, np.floor(ic_i)) != np.searchsorted(lost, np.ceil(to_i))

        steps = [
            Step(
                initial_contact_s=float(sig.time_of(a)),
                toe_off_s=float(sig.time_of(b)),
                contact_ms=1000.0 * (b - a) / fs,
                strike="heel" if h else "forefoot",
                in_gap=bool(g),
            )
            for a, b, h, g in zip(ic_i, to_i, heel, gap, strict=True)
        ]
        bouts = _bouts(steps, st)
        self.result_ = GaitResult(float(fs_hz), steps, bouts, method, rejected)
        return self.result_


def _moving_mean(x: np.ndarray, k: int) -> np.ndarray:
    """Centred moving average of ``x`` over ``k`` samples (edges: over what exists)."""
    if k <= 1:
        return x
    c = np.concatenate(([0.0], np.cumsum(x)))
    i = np.arange(len(x))
    lo = np.maximum(i - k // 2, 0)
    hi = np.minimum(i - k // 2 + k, len(x))
    return (c[hi] - c[lo]) / (hi - lo)


def _jerk(acc_mps2: np.ndarray, fs_hz: float, chunk: int = 1 << 16) -> np.ndarray:
    """|d f / dt| per sample (m/s^3, shape (n,), 0 at the first), in chunks so that no
    full-length (n, 3) temporary is made."""
    n = len(acc_mps2)
    out = np.zeros(n)
    for i in range(1, n, chunk):
        d = acc_mps2[i : i + chunk] - acc_mps2[i - 1 : i - 1 + chunk][: min(chunk, n - i)]
        out[i : i + len(d)] = np.sqrt(np.einsum("ij,ij->i", d, d)) * fs_hz
    return out


def _best_in_intervals(idx: np.ndarray, score: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """For each interval (lo, hi): the element of ``idx`` (sorted) inside it with the
    highest score, or -1."""
    out = np.full(len(lo), -1, dtype=np.int64)
    if len(idx) == 0:
        return out
    j = np.searchsorted(lo, idx, side="left") - 1  # the interval whose lo precedes idx
    inside = (j >= 0) & (idx < hi[np.maximum(j, 0)])
    idx, score, j = idx[inside], score[inside], j[inside]
    order = np.lexsort((-score, j))  # by interval, best score first
    first = np.ones(len(order), bool)
    first[1:] = j[order][1:] != j[order][:-1]
    out[j[order][first]] = idx[order][first]
    return out


def _first_spike(
    x: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    gate: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> np.ndarray:
    """In each [lo, hi): the first local maximum of ``x`` that reaches half the window's
    maximum (the first collision, not a later, larger one). With ``gate = (g, limit,
    lag)`` only samples where ``|g|`` ``lag`` samples earlier is under the window's
    ``limit`` count."""
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64)
    width = max(2, int((hi - lo).max()))
    idx = np.minimum(lo[:, None] + np.arange(width)[None, :], len(x) - 1)
    inside = (lo[:, None] + np.arange(width)[None, :]) < hi[:, None]
    if gate is not None:
        g, limit, lag = gate
        inside &= (np.abs(g[np.maximum(idx - lag, 0)]) < limit[:, None]) & (idx >= lag)
    seg = np.where(inside, x[idx], -np.inf)
    best = seg.max(axis=1, keepdims=True)
    k = np.argmax(seg >= 0.5 * best, axis=1)
    # Climb to the local maximum: the first step after k that does not rise.
    rows = np.arange(len(lo))
    with np.errstate(invalid="ignore"):  # -inf - -inf outside the windows
        falls = np.diff(seg, axis=1) <= 0
    falls[~np.isfinite(seg[:, 1:])] = True
    after = np.arange(width - 1)[None, :] >= k[:, None]
    top = np.argmax(falls & after, axis=1)
    top = np.where((falls & after)[rows, top], top, width - 1)
    return np.where((hi > lo + 1) & np.isfinite(best[:, 0]), lo + top, lo)


def _bouts(steps: list[Step], st: GaitSettings) -> list[Bout]:
    """Group steps into bouts, classify them and summarise (sets fields in place)."""
    if not steps:
        return []
    ic = np.array([s.initial_contact_s for s in steps])
    tc = np.array([s.contact_ms for s in steps]) / 1000.0
    stride = np.diff(ic)
    for s, d in zip(steps[:-1], stride, strict=True):
        if d <= st.max_stride_s:
            s.stride_ms = 1000.0 * d
            s.flight_ms = 1000.0 * (d / 2.0 - s.contact_ms / 1000.0)
    breaks = np.flatnonzero(stride > st.max_stride_s) + 1
    groups = np.split(np.arange(len(steps)), breaks)
    bouts: list[Bout] = []
    for g in groups:
        if len(g) < st.min_bout_steps:
            for i in g:
                steps[i].bout_index = -1
            continue
        strides = np.array([steps[i].stride_ms for i in g[:-1] if steps[i].stride_ms])
        duty = tc[g[:-1]] / (strides / 1000.0) if len(strides) == len(g) - 1 else None
        run_steps = duty is not None and np.mean(duty < st.run_duty_max) > 0.5
        kind = "run" if run_steps else "walk"
        mid = tc[g[len(g) // 4 : max(len(g) // 4 + 1, 3 * len(g) // 4)]]
        ref = float(np.median(mid))
        steady = np.ones(len(g), bool)
        if kind == "run":
            off = np.abs(tc[g] - ref) > st.steady_tol * ref
            # Only the ends: the ramp-up and the slowing down.
            k = 0
            while k < len(g) and off[k]:
                steady[k] = False
                k += 1
            k = len(g) - 1
            while k >= 0 and off[k]:
                steady[k] = False
                k -= 1
        for j, i in enumerate(g):
            steps[i].bout_index = len(bouts)
            steps[i].kind = kind
            steps[i].steady = bool(steady[j])
        if not steady.any():  # no steady part: report the whole bout
            steady[:] = True
        c = 1000.0 * tc[g][steady]
        sm = strides[steady[:-1]] if len(strides) else strides
        trend = float(np.polyfit(np.arange(len(c)), c, 1)[0]) if len(c) >= 3 else None
        bouts.append(
            Bout(
                start_s=float(ic[g[0]]),
                end_s=float(ic[g[-1]] + tc[g[-1]]),
                steps=int(len(g)),
                kind=kind,
                steady_steps=int(steady.sum()),
                contact_ms_mean=float(c.mean()),
                contact_ms_median=float(np.median(c)),
                contact_ms_sd=float(c.std(ddof=1)) if len(c) > 1 else 0.0,
                stride_ms_mean=float(sm.mean()) if len(sm) else None,
                cadence_spm=float(2 * 60000.0 / sm.mean()) if len(sm) else None,
                duty_factor=float(c.mean() / sm.mean()) if len(sm) else None,
                contact_trend_ms_per_step=trend,
            )
        )
    return bouts


def analyze_gait(t_s, acc_mps2, gyr_dps, *, fs_hz, settings: GaitSettings | None = None):
    """Functional form of :class:`GaitAnalyzer`."""
    return GaitAnalyzer(settings).analyze(t_s, acc_mps2, gyr_dps, fs_hz=fs_hz)


# ------------------------------------------------------------------------------------
# Two sensors: clocks and left/right balance
# ------------------------------------------------------------------------------------


@dataclass
class ClockAlignment:
    """How the right sensor's clock maps onto the left one's:
    ``t_left = offset_s + (1 + drift_ppm * 1e-6) * t_right``."""

    offset_s: float
    drift_ppm: float
    windows: int  # activity windows whose local lag entered the drift fit
    peak_corr: float  # normalised cross-correlation of the activity envelopes

    def to_left_s(self, t_right_s: np.ndarray | float) -> np.ndarray | float:
        return self.offset_s + (1.0 + self.drift_ppm * 1e-6) * np.asarray(t_right_s)


def _activity(
    t_s: np.ndarray, acc_mps2: np.ndarray, gyr_dps: np.ndarray, fs_env: float, t0: float, n: int
):
    """Two envelopes sampled at ``fs_env`` from ``t0``, each averaged over about a stride
    (1.5 s), the same for both feet of one session: the angular speed (the on/off pattern
    of bouts) and the rate of turning about the vertical (the body's turns)."""
    g = gyr_dps - np.median(gyr_dps, axis=0)
    up = np.median(acc_mps2, axis=0)
    up /= np.linalg.norm(up)
    grid = t0 + np.arange(n) / fs_env
    k = max(1, int(round(1.5 * fs_env)))
    box = np.ones(k) / k
    out = []
    for x in (np.linalg.norm(g, axis=1), g @ up):
        env = np.interp(grid, t_s, x, left=0.0, right=0.0)
        out.append(np.convolve(env, box, mode="same"))
    return out


def align_clocks(
    left: tuple[np.ndarray, np.ndarray, np.ndarray],
    right: tuple[np.ndarray, np.ndarray, np.ndarray],
    left_ic_s: np.ndarray,
    right_ic_s: np.ndarray,
    *,
    max_offset_s: float = 600.0,
    max_stride_s: float = 2.5,
) -> ClockAlignment:
    """Offset and drift between two shoe sensors of one session.

    1. Both feet start and stop bouts together, and turn with the body, so their
       envelopes (angular speed, and turning rate about the vertical, over a stride)
       match once the clocks are aligned: the whole-session cross-correlation gives the
       offset to within about a step.
    2. Within a bout the feet alternate: each right initial contact falls inside a
       stride of the left foot. Within 0.6 stride of the coarse offset, the shift that
       puts the most right contacts mid-stride of a left stride, and the fewest outside
       the left foot's bouts, fixes the offset to the step.
    3. The right contacts' times against the midpoints of their left strides, fitted by
       a line, give the drift and the final offset. This takes left and right steps to
       be equally long on average: a real step-time asymmetry shifts the offset (by half
       the difference), not the contact times or their balance.

    Parameters
    ----------
    left, right : (t_s, acc_mps2, gyr_dps) with shapes (n,), (n, 3), (n, 3)
        Each sensor's times on its own clock, specific force and angular rate.
    left_ic_s, right_ic_s : ndarray
        Initial contacts of each foot on its own clock (sorted).
    """
    fs_env = 20.0
    (tl, al, gl), (tr, ar, gr) = left, right
    t0l, t0r = float(tl[0]), float(tr[0])
    nl = int((tl[-1] - t0l) * fs_env) + 1
    nr = int((tr[-1] - t0r) * fs_env) + 1
    env_l = _activity(tl, al, gl, fs_env, t0l, nl)
    env_r = _activity(tr, ar, gr, fs_env, t0r, nr)
    # Turns are sharp, shared events: use them when both feet saw some (a 180 deg turn
    # over 2-3 s is ~60 deg/s on the envelope); else the on/off pattern of the bouts.
    turns = min(env_l[1].std(), env_r[1].std()) > 5.0
    el, er = (env_l[1], env_r[1]) if turns else (env_l[0], env_r[0])
    zl, zr = ((e - e.mean()) / (e.std() + 1e-12) for e in (el, er))
    cc = signal.correlate(zl, zr, mode="full", method="fft")
    lags = np.arange(-nr + 1, nl)
    overlap = np.minimum(nl, lags + nr) - np.maximum(0, lags)
    ok = (np.abs(lags / fs_env) <= max_offset_s) & (overlap >= 0.5 * min(nl, nr))
    score = np.where(ok, cc / np.maximum(overlap, 1), -np.inf)
    best = int(np.argmax(score))
    peak = float(score[best])
    offset = t0l + (_parabolic(score, best) + lags[0]) / fs_env - t0r
    lic, ric = np.asarray(left_ic_s, float), np.asarray(right_ic_s, float)
    if len(lic) < 3 or len(ric) < 3:
        return ClockAlignment(float(offset), 0.0, 0, peak)

    def placed(shift: np.ndarray):
        r = ric[None, :] + shift[:, None]
        k = np.searchsorted(lic, r)
        inside = (k > 0) & (k < len(lic))
        k0, k1 = np.clip(k - 1, 0, len(lic) - 1), np.clip(k, 0, len(lic) - 1)
        stride = lic[k1] - lic[k0]
        inside &= stride <= max_stride_s
        phase = (r - lic[k0]) / np.where(stride > 0, stride, 1.0)
        return inside, phase, k0, k1

    stride = float(np.median(np.diff(lic)))
    half = 0.6 * min(stride, max_stride_s)
    shifts = offset + np.arange(-half, half, 0.005)
    inside, phase, _, _ = placed(shifts)
    mid = inside & (np.abs(phase - 0.5) < 0.25)
    fit = mid.sum(axis=1) - (~inside).sum(axis=1)
    top = np.flatnonzero(fit == fit.max())
    offset = float(shifts[top[len(top) // 2]])
    inside, phase, k0, k1 = (x[0] for x in placed(np.array([offset])))
    use = inside & (np.abs(phase - 0.5) < 0.25)
    if use.sum() < 3:
        return ClockAlignment(offset, 0.0, int(use.sum()), peak)
    t = ric[use]
    d = 0.5 * (lic[k0[use]] + lic[k1[use]]) - t  # t_left = t + d
    for _ in range(2):  # a line, then again without the outliers (turns, stumbles)
        coef = np.polyfit(t, d, 1)
        res = d - np.polyval(coef, t)
        mad = np.median(np.abs(res - np.median(res))) + 1e-4
        keep = np.abs(res) <= 5 * mad
        if keep.sum() < 3:
            break
        t, d = t[keep], d[keep]
    slope, icpt = np.polyfit(t, d, 1) if len(t) >= 3 else (0.0, float(np.median(d)))
    return ClockAlignment(float(icpt), float(slope * 1e6), int(len(t)), peak)


def _parabolic(y: np.ndarray, k: int) -> float:
    """Sub-sample position of the peak at k (vertex of the parabola through 3 points)."""
    if 0 < k < len(y) - 1 and np.isfinite(y[k - 1 : k + 2]).all():
        den = y[k - 1] - 2 * y[k] + y[k + 1]
        if den < 0:
            return k + 0.5 * (y[k - 1] - y[k + 1]) / den
    return float(k)


@dataclass
class GaitBalance:
    """Left/right contact time of paired contacts, per bout and for the session."""

    clock: ClockAlignment
    pairs: int
    left_contact_ms: float | None
    right_contact_ms: float | None
    left_pct_of_right: float | None  # 100 = balanced
    bouts: list[dict]


def gait_balance(left: GaitResult, right: GaitResult, clock: ClockAlignment) -> GaitBalance:
    """Pair each left steady contact with the right contact that follows it within the
    same bout (right times mapped onto the left clock) and compare contact times."""
    r_ic = np.array([clock.to_left_s(s.initial_contact_s) for s in right.steps])
    r_ct = np.array([s.contact_ms for s in right.steps])
    pairs = []
    for i, s in enumerate(left.steps):
        if s.bout_index < 0 or not s.steady or s.stride_ms is None:
            continue
        j = int(np.searchsorted(r_ic, s.initial_contact_s))
        if j < len(r_ic) and r_ic[j] - s.initial_contact_s < s.stride_ms / 1000.0:
            rs = right.steps[j]
            if rs.bout_index >= 0 and rs.steady:
                pairs.append((i, j, s.bout_index))
    bouts = []
    for b, bout in enumerate(left.bouts):
        sel = [(i, j) for i, j, bi in pairs if bi == b]
        if not sel:
            continue
        lc = float(np.mean([left.steps[i].contact_ms for i, _ in sel]))
        rc = float(np.mean([r_ct[j] for _, j in sel]))
        bouts.append(
            {
                "start_s": bout.start_s,
                "kind": bout.kind,
                "pairs": len(sel),
                "left_contact_ms": lc,
                "right_contact_ms": rc,
                "left_pct_of_right": 100.0 * lc / rc,
            }
        )
    if not pairs:
        return GaitBalance(clock, 0, None, None, None, bouts)
    lc = float(np.mean([left.steps[i].contact_ms for i, _, _ in pairs]))
    rc = float(np.mean([r_ct[j] for _, j, _ in pairs]))
    return GaitBalance(clock, len(pairs), lc, rc, 100.0 * lc / rc, bouts)
