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
  extended back (10 % / 30 % levels) to the peak's level. A push-off faster than the
  gyro's range that no unclipped axis measures is a flat top: its peak is placed where
  the rising edge before the top and the falling edge after it meet (the push-off was
  still speeding up when it clipped; see ``_beyond_range``).

Bouts: steps whose strides are shorter than ``max_stride_s`` belong to one bout. A step
is ``run`` when its contact is shorter than ``run_duty_max`` of its stride (running has
flight; walking's stance is ~60 % of the stride), and a bout is ``run`` when most of its
steps are. Steps at the start and end of a running bout whose contact time is more than
``steady_tol`` off the bout's middle-half median are flagged not steady (acceleration
and slowing), and the rep averages use the steady steps.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, signal

from analysis.orientation import sagittal_motion, still_mask
from analysis.signals import UniformSignal, block_mean, edge_onsets, runs, to_uniform


@dataclass
class GaitSettings:
    """Detector settings, in physical units."""

    swing_dps: float = 100.0  # a swing rotates the foot toe-up faster than this on average
    swing_avg_s: float = 0.1  # over this time
    # A bout's first swing, from standing, may be slower (see _first_swings): faster than
    # this on average, landing on the heel, toe-up by more than first_landing_deg from the
    # flat foot it left (walking heel strikes: 15-30 deg; the real recording's first step:
    # 19 deg; a hop lands on the ball, plantarflexed).
    first_swing_dps: float = 50.0
    first_landing_deg: float = 10.0
    # Every swing carries the foot (see _carried): from where the foot stood at rest
    # before it (turning slower than rest_dps throughout swing_avg_s, and flat: its
    # gravity within rest_tilt_deg of the standing pose's) to where it stands at rest
    # after it, it moves by more than min_travel_m or turns about the vertical by more
    # than min_turn_deg. A step moves it by decimetres (the shortest, a slow first step
    # of 0.13 m, reads >= 0.087 m) or turns it on the spot (30-90 deg a step in a 180 deg
    # turn; a turn's short steps read less travel); a fidget (toe taps, a heel raise
    # dropped, a heel flick, rocking) pivots it about its heel or ball and leaves it
    # where it stood (reads <= 0.045 m, turned < 1 deg). A walking mid-stance turns the
    # foot slower than 5 deg/s over 0.1 s; a heel raise's top or a raised toe tilts it
    # by 15-40 deg: the rest before a dropped heel is the standing before the raise.
    min_travel_m: float = 0.05
    min_turn_deg: float = 15.0
    rest_dps: float = 10.0
    rest_tilt_deg: float = 10.0
    # Slow walking ~1 s, a heel-toe drill's first step up to ~1.7 s; longer is standing
    # between bouts.
    max_contact_s: float = 2.0
    pushoff_dps: float = 100.0  # a push-off rotates it heel-up faster than this
    min_stride_s: float = 0.3  # swings closer than this are one swing (sprint strides ~0.5 s)
    max_stride_s: float = 2.5  # a longer pause ends a bout
    heel_window_s: float = 0.08  # heel contact to the collision's peak: 10-25 ms typically
    # A rearfoot strike lands more than this toe-up; the heel rocker then turns the foot
    # toe-down onto its sole by about that much (a flatter, midfoot landing's heel and ball
    # touch within a few ms of each other).
    heel_rocker_deg: float = 4.0
    # The late swing's braking (the leg stopping the foot) can jolt the sensor as hard as
    # the heel's collision, up to this long before the heel's touch.
    brake_lead_s: float = 0.03
    heel_drop_s: float = 0.1  # forefoot landing to heel down: < 20 deg at 200-400 deg/s
    ball_spin_up: float = 1.25  # a ball landing speeds the toe-up rotation by more than this
    landing_window_s: float = 0.35  # swing's fastest toe-up rotation to the landing (or
    # half the stride, if longer: slow drills swing long)
    edge_levels: tuple[float, float] = (0.1, 0.3)
    # Longest data gap an event is placed across (on the interpolated signal): a few
    # lost BLE packets (12.5 ms each). Longer, the edge is lost and so is the step.
    max_event_gap_s: float = 0.05
    # The ball's collision edge is read higher: the late swing's own jerk (the leg
    # decelerating the foot) reaches up to about a quarter of the collision's, and at
    # 100-200 Hz the collision rises within one sample on top of it.
    impact_levels: tuple[float, float] = (0.3, 0.6)
    run_duty_max: float = 0.5
    min_bout_steps: int = 4
    steady_tol: float = 0.10
    # The foot's axes, the gyro bias and the swings' direction are found from block means
    # at this rate at most: a swing lasts 0.3-0.5 s and the axes hold for the recording,
    # so 50 Hz keeps what they need; the events are read at the full rate.
    alignment_rate_hz: float = 50.0


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
    in_gap: bool = False  # a lost packet inside the contact or at one of its events
    # An event read across lost samples (interpolated; off by up to about the gap): the
    # step counts, but its contact time is left out of the bout's statistics.
    event_in_gap: bool = False


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
    """Angular rate about the foot's lateral axis (deg/s, shape (n,), + = heel up), how
    its sign was decided, and that axis (unit vector in the sensor's axes, shape (3,):
    the rate is the right-handed rotation about it).

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
    return _sagittal(sig, settings or GaitSettings())[:3]


def _sagittal(sig: UniformSignal, st: GaitSettings) -> tuple:
    """:func:`sagittal_rate_dps`'s rate, method and axis, then the gyro bias (deg/s,
    shape (3,)), the direction of the specific force where the foot rests (unit vector,
    shape (3,): up, in the pose it stands in most) and the block means the axes were
    found from (at most ``alignment_rate_hz``)."""
    c = block_mean(sig, st.alignment_rate_hz)
    g = c.gyr_dps
    # The axes as rows, contiguous (a view of the usual column-major (n, 3) input, else
    # one copy): medians and masks then run along contiguous memory.
    gt = np.ascontiguousarray(g.T)
    med = np.median(gt, axis=1)
    # |g - med| by axes: the same sums as np.linalg.norm(g - med, axis=1), several times
    # faster and without an (n, 3) temporary.
    d0, d1, d2 = (gt[j] - med[j] for j in range(3))
    speed0 = np.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    del d0, d1, d2
    quiet = c.valid & (speed0 < 10.0)
    rest = np.count_nonzero(quiet) > 20
    if rest:  # the quiet samples' gyro bias and gravity: one call, on contiguous rows
        # take keeps the rows contiguous (a boolean index along them returns them strided,
        # which the partition reads several times slower)
        iq = np.flatnonzero(quiet)
        q = np.median(np.concatenate((gt.take(iq, axis=1), c.acc_mps2.T.take(iq, axis=1))), axis=1)
        bias, up = q[:3], q[3:]
    else:
        bias, up = med, c.acc_mps2.mean(axis=0)
    gb = g - bias
    moving = c.valid & (speed0 > 60.0)
    m = gb[moving] if np.count_nonzero(moving) > 20 else gb
    _, vecs = np.linalg.eigh(m.T @ m)
    lateral = vecs[:, -1]
    up = up / np.linalg.norm(up)
    lateral = lateral - (lateral @ up) * up
    lateral /= np.linalg.norm(lateral)
    disp = _swing_displacements(c, gb @ lateral, lateral, up)
    forward = np.mean(np.sign(disp)) if len(disp) >= 3 else 0.0
    if abs(forward) >= 0.6:
        if forward < 0:
            lateral = -lateral
        method = "swing-forward"
    else:
        al = sagittal_motion(c, still_mask(c)).alignment
        lateral, bias, method = al.lateral, al.gyr_bias_dps, al.sign_method
    w = sig.gyr_dps @ lateral  # no (n, 3) temporary
    w -= float(bias @ lateral)
    w = _unclipped_rate(w, sig.gyr_dps, lateral, bias, sig.fs_hz)
    return w, method, lateral, bias, up, c


def _clipped(gyr_dps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Samples where a gyro axis is held at its range limit: the axis's largest (or
    smallest) value, reached by at least 3 samples (a flat top that a moving foot does not
    make otherwise).

    Returns
    -------
    rows : ndarray of int, shape (k,)
        The samples (sorted) where at least one axis is clipped.
    clip : ndarray of bool, shape (k, 3)
        Which axes are clipped there.

    Each axis's extremes and the few samples near them (candidates) are found first,
    the exact test then runs on those candidates only. The passes run along contiguous
    memory: over the axes as rows (``(3, n)``), or, for a long ``(n, 3)`` array in C
    order, over rows of 1024 samples, a block of rows at a time (reductions over axis 0
    of ``(n, 3)`` and column-wise passes are strided and many times slower).
    """

    def limits(hi, lo):
        tol_hi = 1e-6 * np.maximum(np.abs(hi), 1.0)
        tol_lo = 1e-6 * np.maximum(np.abs(lo), 1.0)
        # Candidates: a superset (twice the tolerance) of the samples at either limit.
        return tol_hi, tol_lo, hi - 2.0 * tol_hi, lo + 2.0 * tol_lo

    if gyr_dps.T.flags.c_contiguous or len(gyr_dps) <= 65536:
        gt = np.ascontiguousarray(gyr_dps.T, dtype=np.float64)  # a copy only when short
        hi, lo = gt.max(axis=1), gt.min(axis=1)
        tol_hi, tol_lo, top, bot = limits(hi, lo)
        # flatnonzero and divmod: the same (axis, sample) pairs as np.nonzero, ~7x faster.
        pos = np.flatnonzero((gt >= top[:, None]) | (gt <= bot[:, None]))
        cols, rows = np.divmod(pos, gt.shape[1])
        x = gt.reshape(-1)[pos]
    else:
        g = np.ascontiguousarray(gyr_dps, dtype=np.float64)
        flat = g.reshape(-1)
        width = 3 * 1024
        m = len(flat) // width * width
        body, tail = flat[:m].reshape(-1, width), g[m // 3 :]
        hi = np.maximum(
            body.max(axis=0).reshape(-1, 3).max(axis=0), tail.max(axis=0, initial=-np.inf)
        )
        lo = np.minimum(
            body.min(axis=0).reshape(-1, 3).min(axis=0), tail.min(axis=0, initial=np.inf)
        )
        tol_hi, tol_lo, top, bot = limits(hi, lo)
        top_row, bot_row = np.tile(top, width // 3), np.tile(bot, width // 3)
        step = 256  # rows of body per pass: small temporaries
        found = [
            i * width + np.flatnonzero((b >= top_row) | (b <= bot_row))
            for i, b in ((i, body[i : i + step]) for i in range(0, len(body), step))
        ]
        found.append(m + np.flatnonzero((tail >= top) | (tail <= bot)))
        pos = np.concatenate(found)
        rows, cols = pos // 3, pos % 3
        x = flat[pos]
    at_hi = np.abs(x - hi[cols]) <= tol_hi[cols]
    at_lo = np.abs(x - lo[cols]) <= tol_lo[cols]
    held_hi = np.bincount(cols[at_hi], minlength=3) >= 3
    held_lo = np.bincount(cols[at_lo], minlength=3) >= 3
    if not (held_hi.any() or held_lo.any()):  # the usual case: no axis clipped
        return np.zeros(0, np.int64), np.zeros((0, 3), bool)
    on = (at_hi & held_hi[cols]) | (at_lo & held_lo[cols])
    rows, inv = np.unique(rows[on], return_inverse=True)
    clip = np.zeros((len(rows), 3), bool)
    clip[inv, cols[on]] = True
    return rows, clip


def _unclipped_rate(
    w_dps: np.ndarray,
    gyr_dps: np.ndarray,
    lateral: np.ndarray,
    bias_dps: np.ndarray,
    fs_hz: float,
) -> np.ndarray:
    """The sagittal rate ``w_dps`` (shape (n,)) where a gyro axis is clipped: the least-
    squares ``w`` of ``g_j - bias_j = w lateral_j`` over the unclipped axes ``j``, which
    holds while the foot turns about its lateral axis (it dominates every fast rotation of
    the foot), but never slower than the clipped readings' projection. Unchanged where no
    axis is clipped.

    Where the unclipped axes see too little of the rotation, it is not measured: it lies
    beyond the range, on a flat top (a sprint's push-off at a small range). There it is
    placed from the mechanics (:func:`_beyond_range`). ``w_dps`` is changed in place (and
    returned)."""
    rows, clip = _clipped(gyr_dps)
    if len(rows) == 0:
        return w_dps
    use = ~clip
    den = (use * lateral**2).sum(axis=1)
    ok = den >= 0.1  # the unclipped axes carry at least ~30 % of the rotation
    num = (use * (gyr_dps[rows] - bias_dps) * lateral).sum(axis=1)
    # A clipped axis reads less than it sees, so the rate is no slower than the readings'
    # own projection (which keeps its sign): where the rotation is not purely sagittal
    # (a late swing at a small range), the unclipped axes alone can read far less.
    proj = w_dps[rows[ok]]
    side = np.where(proj < 0, -1.0, 1.0)
    w_dps[rows[ok]] = side * np.maximum(side * proj, side * num[ok] / den[ok])
    if not ok.all():
        _beyond_range(w_dps, rows[~ok], fs_hz)
    return w_dps


def _beyond_range(w_dps: np.ndarray, unmeasured: np.ndarray, fs_hz: float) -> None:
    """Fill the runs of ``unmeasured`` samples (sorted indices) of the rate ``w_dps`` in
    place: the rotation was still speeding up when it left the range (a push-off speeds
    up until the toes leave) and slows down steeply after its peak (the toes have left
    and the swing reverses it), so its peak is where the rising edge before the run and
    the falling edge after it, extended as straight lines (their slopes over the 5 ms
    outside the run), meet. The run is filled with the lower of the two lines, never
    with less than the projection of the clipped readings (a lower bound: the clipped
    axes read less than they see). A run that is no such top (the rate not on the run's
    side just outside it, not rising into it or not falling after it) or at the
    recording's edges keeps its readings."""
    n = len(w_dps)
    brk = np.flatnonzero(np.diff(unmeasured) > 1)
    starts = unmeasured[np.r_[0, brk + 1]]
    ends = unmeasured[np.r_[brk, len(unmeasured) - 1]]
    inner = (starts >= 2) & (ends <= n - 3)
    starts, ends = starts[inner], ends[inner]
    if len(starts) == 0:
        return
    k = max(1, int(round(0.005 * fs_hz)))
    p1, q1 = starts - 1, ends + 1  # the measured samples either side
    p0, q0 = np.maximum(p1 - k, 0), np.minimum(q1 + k, n - 1)
    # The rate's sign on the top: the clipped readings' (their projection keeps it).
    lens = ends - starts + 1
    run = np.repeat(np.arange(len(starts)), lens)
    first = np.cumsum(lens) - lens  # each run's first position in ``i``
    i = np.arange(len(run)) - first[run] + starts[run]  # the runs' samples, in order
    side = np.sign(np.bincount(run, weights=w_dps[i], minlength=len(starts)))
    rise = side * (w_dps[p1] - w_dps[p0]) / np.maximum(p1 - p0, 1)  # per sample, signed
    fall = side * (w_dps[q0] - w_dps[q1]) / np.maximum(q0 - q1, 1)
    # A top: the rate on its side either way, rising into the run and falling after it.
    top = (side * w_dps[p1] > 0) & (side * w_dps[q1] > 0) & (rise > 0) & (fall < 0)
    keep = top[run]
    run, i = run[keep], i[keep]
    up_line = side[run] * w_dps[p1[run]] + rise[run] * (i - p1[run])
    down_line = side[run] * w_dps[q1[run]] + fall[run] * (i - q1[run])
    line = np.minimum(up_line, down_line)
    w_dps[i] = side[run] * np.maximum(side[run] * w_dps[i], line)


def _swing_displacements(
    c: UniformSignal, w_dps: np.ndarray, lateral: np.ndarray, up: np.ndarray
) -> np.ndarray:
    """Forward displacement (m, along ``lateral x up``) of each swing between two
    mid-stance moments 0.3-2.5 s apart with a swing faster than 150 deg/s."""
    fs = c.fs_hz
    k = max(1, int(round(0.1 * fs)))
    speed_dps = np.abs(w_dps)
    mean_speed = np.convolve(speed_dps, np.ones(k) / k, mode="same")
    anchors, _ = signal.find_peaks(
        np.negative(mean_speed, out=mean_speed), height=-100.0, distance=max(1, int(0.25 * fs))
    )
    del mean_speed  # here and below: few temporaries alive at once (less memory churn)
    if len(anchors) < 2:
        return np.zeros(0)
    a, lens = anchors[:-1], np.diff(anchors)
    dur = lens / fs
    peak = np.maximum.reduceat(speed_dps, a)[: len(a)]
    del speed_dps
    use = (dur >= 0.3) & (dur <= 2.5) & (peak > 150.0)
    a, lens = a[use], lens[use]
    if len(a) == 0:
        return np.zeros(0)
    # The samples of every swing, one after the other: swing, its first sample (in this
    # concatenation) and the position within it.
    owner = np.repeat(np.arange(len(a)), lens)
    starts = np.cumsum(lens) - lens
    local = np.arange(int(lens.sum()))
    local -= np.repeat(starts, lens)
    idx = np.repeat(a, lens)
    idx += local
    th = np.cumsum(w_dps[idx])
    th /= fs
    np.radians(th, out=th)
    th -= np.repeat(th[starts], lens)  # pitch 0 at each mid-stance
    (lx, ly, lz), (ux, uy, uz) = lateral, up
    fwd = np.array([ly * uz - lz * uy, lz * ux - lx * uz, lx * uy - ly * ux])  # lateral x up
    f = c.acc_mps2.take(idx, axis=0)  # = acc[idx], faster
    del idx
    horiz = f @ up  # (f @ up) sin(th) + (f @ fwd) cos(th), in place
    horiz *= np.sin(th)
    across = f @ fwd
    del f
    across *= np.cos(th)
    horiz += across
    del across, th
    v = np.cumsum(horiz, out=horiz)
    v /= fs
    v -= np.repeat(v[starts], lens)
    end = np.repeat(v[starts + lens - 1], lens)
    local += 1
    end *= local
    end /= np.repeat(lens, lens)
    v -= end  # zero velocity at both mid-stances
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
        w, method, lateral, bias, up, coarse = _sagittal(sig, st)
        self.rate_dps_ = w
        rejected: list[tuple[float, str]] = []

        # Swings: the peaks of the toe-up rotation averaged over swing_avg_s, at least a
        # short stride apart. A swing turns the foot toe-up from its toe-off pitch (50-70
        # deg plantarflexed) to its landing pitch over 0.2-0.5 s; the heel dropping after a
        # forefoot landing turns it toe-up too, at up to the swing's rate at a sprint, but
        # only by the landing's plantarflexion (< 20 deg) and within 50-80 ms: averaged
        # over swing_avg_s it falls well below the swing next to it.
        w_avg = ndimage.uniform_filter1d(w, max(1, int(round(st.swing_avg_s * fs))), mode="nearest")
        toe_up = np.negative(w_avg, out=w_avg)  # -w_avg, in place
        # The slower toe-up rotations too (a bout's first step, below): a lower peak never
        # displaces a higher one, so the swings found are those of swing_dps alone.
        tops, _ = signal.find_peaks(
            toe_up, height=st.first_swing_dps, distance=max(1, int(st.min_stride_s * fs))
        )
        swings = tops[toe_up[tops] >= st.swing_dps]
        # A heel drop left standing alone (no swing within min_stride_s) is still a
        # fraction of the swings around it: not a swing.
        if len(swings) >= 3:
            depth = toe_up[swings]
            nine = np.arange(len(depth))[:, None] + np.arange(-4, 5)  # edges repeated
            near = depth[np.minimum(np.maximum(nine, 0), len(depth) - 1)]
            swings = swings[depth >= 0.3 * np.median(near, axis=1)]
        # A toe-up rotation that leaves the foot where it stood is no swing: the foot did
        # not leave the ground (a fidget), so no contact starts at its "landing". Read on
        # the block means the axes came from (a rest lasts swing_avg_s or more, and the
        # integrals of the rotation and of the acceleration hold at that rate), at each
        # swing's block. Before the first swings are sought: a fidget just before a bout
        # does not hide its first step.
        per_block = max(1, int(round(fs / coarse.fs_hz)))
        w_coarse = coarse.gyr_dps @ lateral
        w_coarse -= float(bias @ lateral)
        valid = sig.valid
        lost = np.flatnonzero(~valid)
        missing_s = np.bincount(np.minimum(lost // per_block, coarse.n - 1), minlength=coarse.n)
        missing_s = missing_s / fs  # data lost in each block (s)
        move = (w_coarse, coarse.acc_mps2, coarse.gyr_dps, missing_s, lateral, up)
        rests = _rests(w_coarse, coarse.acc_mps2, coarse.valid, up, coarse.fs_hz, st)

        # Every toe-up rotation at once (the swings and the first swings are among them,
        # and most share their rests).
        block = np.minimum(tops // per_block, coarse.n - 1)
        measured, moved = _carried(block, rests, *move, coarse.fs_hz, st)
        del coarse, w_coarse, missing_s, move, rests, block  # not held through the rest
        is_swing = np.isin(tops, swings, assume_unique=True)
        swings = tops[is_swing & (~measured | moved)]
        # A slower first swing has to show that it carried the foot.
        first = _first_swings(w, toe_up, tops, swings, fs, st)
        at = np.searchsorted(tops, first)
        swings = np.union1d(swings, first[measured[at] & moved[at]])
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
        # Except at a ball landing while the foot still turns toe-up fast (a forefoot
        # landing at a sprint): the ground's impulse at the ball, in front of the ankle,
        # turns the foot toe-up faster still (the heel drops), by far more than the late
        # swing's own jitter, and the heel is down within heel_drop_s, ending the
        # rotation; a knock does not speed it up, and the swing goes on after it.
        drop = int(round(st.heel_drop_s * fs))
        spins_up = _spins_up(w, np.maximum(s0, cross - drop), land_end, k10, k20, st.ball_spin_up)
        coll = _first_spike(
            jerk,
            s0,
            land_end,
            gate=(w, 0.5 * np.abs(toe_up[s0]), k10),
            trail=k20,
            ungated=(spins_up, cross - drop),
        )
        # Heel first: that crossing, at or before the collision and within heel_window_s
        # of it, after which the foot rolls toe-down.
        a0 = max(1, int(0.005 * fs))
        span = np.arange(a0, int(0.04 * fs) + 1)
        after = w[np.minimum(coll[:, None] + span[None, :], n - 1)].mean(axis=1)
        heel = (cross < land_end) & (cross <= coll + 1) & (coll - cross <= hw) & (after > 0)
        # Also heel first: the foot rolls toe-down from the crossing onto its sole by more
        # than a rearfoot strike's angle (heel_rocker_deg, read up to 40 ms past the
        # collision or the crossing, whichever is later), and the collision found is not
        # the heel's own but
        # * the forefoot's slap at foot-flat, after the rocker: at 100-200 Hz the heel's
        #   collision can stay under half the slap's, which comes 50-90 ms after the
        #   crossing, where the foot barely turns (``after`` about 0) or already pushes
        #   off at a sprint; or
        # * a jolt up to brake_lead_s before the heel's touch (the late swing's braking,
        #   whose jerk, at low rates and through the anti-alias filters, runs into the
        #   impact's), while the foot still turns toe-up and only slows down until the
        #   crossing. A ball's impact, in front of the ankle, would speed that rotation up
        #   (the heel drops): a ball landing's crossing is the heel coming down, after
        #   which the foot does not roll toe-down onto its sole.
        # reduceat over interleaved (start, end) bounds: the even outputs are the
        # intervals [start, end), the odd ones the gaps between them (dropped).
        k40 = int(round(0.04 * fs))
        first = np.minimum(cross + 1, n - 2)  # the first sample turning toe-down
        ends = np.minimum(np.maximum(coll, cross) + k40 + 1, n - 1)
        rocker_deg = np.add.reduceat(w, np.column_stack((first, ends)).ravel())[::2] / fs
        to_cross = np.clip(cross + 1, coll + 1, n - 1)  # [coll, cross]
        slowest = np.minimum.reduceat(w, np.column_stack((coll, to_cross)).ravel())[::2]
        slows = (cross <= coll) | (slowest >= w[coll])
        heel |= (
            (cross < land_end)
            & (cross <= coll + int(round(st.brake_lead_s * fs)))
            & slows
            & (rocker_deg > st.heel_rocker_deg)
        )
        # Otherwise: the onset of the collision's acceleration edge.
        back = max(2, int(round(0.03 * fs)))
        lo = np.maximum(coll - back, s0)
        pre = np.maximum(lo[:, None] - np.arange(back + 1)[None, :], 0)  # lo <= n - 1
        base = np.median(jerk[pre], axis=1)
        impact = edge_onsets(jerk, lo, coll, base, st.impact_levels)
        ic_i = np.where(heel, frac, impact)

        # Prominence within half the longest stride either side (the stance before a
        # push-off and the swing after it lie within it), which also keeps the search
        # short on long recordings.
        peaks, _ = signal.find_peaks(
            w,
            height=st.pushoff_dps,
            prominence=st.pushoff_dps / 2,
            wlen=2 * int(0.5 * st.max_stride_s * fs) + 1,
        )
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
        after_ic = np.where(np.isnan(ic_i), 0.0, ic_i).astype(np.int64) + skip
        p_idx = _best_in_intervals(peaks, steep, np.maximum(after_ic, s0), s1)
        ok = p_idx > s0
        for a in s0[~ok]:
            rejected.append((float(sig.time_of(a)), "no push-off after the landing"))
        s0, s1, p_idx, ic_i, heel = s0[ok], s1[ok], p_idx[ok], ic_i[ok], heel[ok]

        # Toe-off: the reversal from the push-off peak into the next swing, at its fastest
        # toe-up rotation (within the averaging window).
        half = max(1, int(round(st.swing_avg_s * fs)) // 2)
        near = np.minimum(
            np.maximum(s1[:, None] + np.arange(-half, half + 1)[None, :], p_idx[:, None]), n - 1
        )
        s1_fast = near[np.arange(len(s1)), np.argmin(w[near], axis=1)]
        to_i = edge_onsets(w, p_idx, s1_fast, -w[p_idx], st.edge_levels, -np.ones(len(p_idx)))

        good = np.isfinite(ic_i) & np.isfinite(to_i) & (to_i > ic_i)
        for a in s0[~good]:
            rejected.append((float(sig.time_of(a)), "no contact edges"))
        long = good & (to_i - ic_i > st.max_contact_s * fs)
        for a in s0[long]:
            rejected.append((float(sig.time_of(a)), "standing, not a step"))
        good &= ~long
        ic_i, to_i, heel = ic_i[good], to_i[good], heel[good]
        # An event next to lost samples is read on the interpolated signal: across a gap
        # up to max_event_gap_s (a few lost packets) the contact is still there and its
        # edge is off by at most about the gap, so the step is kept (it counts in the
        # cadence and the step count), flagged, and left out of the contact-time
        # statistics; across a longer gap it cannot be placed and is dropped. A loss
        # elsewhere inside the contact leaves its edges intact: kept, flagged ``in_gap``.
        if len(lost):
            gaps = runs(~valid)
            gap_len = np.zeros(n, np.int64)
            gap_len[~valid] = np.repeat(gaps[:, 1] - gaps[:, 0], gaps[:, 1] - gaps[:, 0])

            def gap_at(x):
                a, b = np.floor(x).astype(np.int64), np.ceil(x).astype(np.int64)
                return np.maximum(
                    gap_len[np.clip(a - 1, 0, n - 1)], gap_len[np.clip(b + 1, 0, n - 1)]
                )

            g_ic, g_to = gap_at(ic_i), gap_at(to_i)
            unplaced = np.maximum(g_ic, g_to) > st.max_event_gap_s * fs
            for a in ic_i[unplaced]:
                rejected.append((float(sig.time_of(a)), "an event in a long data gap"))
            keep = ~unplaced
            ic_i, to_i, heel = ic_i[keep], to_i[keep], heel[keep]
            across = (g_ic[keep] > 0) | (g_to[keep] > 0)
            gap = np.searchsorted(lost, np.floor(ic_i)) != np.searchsorted(lost, np.ceil(to_i))
            gap |= across
        else:
            gap = across = np.zeros(len(ic_i), bool)

        ic_s, to_s = sig.time_of(ic_i), sig.time_of(to_i)
        contact_ms = 1000.0 * (to_i - ic_i) / fs
        steps = [
            Step(
                initial_contact_s=a,
                toe_off_s=b,
                contact_ms=c,
                strike="heel" if h else "forefoot",
                in_gap=g,
                event_in_gap=e,
            )
            for a, b, c, h, g, e in zip(
                ic_s.tolist(),
                to_s.tolist(),
                contact_ms,
                heel.tolist(),
                gap.tolist(),
                across.tolist(),
                strict=True,
            )
        ]
        bouts = _bouts(steps, st, ic_s, contact_ms)
        self.result_ = GaitResult(float(fs_hz), steps, bouts, method, rejected)
        return self.result_


def _first_swings(
    w: np.ndarray,
    toe_up: np.ndarray,
    tops: np.ndarray,
    swings: np.ndarray,
    fs: float,
    st: GaitSettings,
) -> np.ndarray:
    """The first swings of bouts started from standing that are slower than a swing.

    The first step from standing can swing slowly (a long, slow first swing), or leave
    from a short push-off off the flat foot (on the real recording the first swing turns
    the foot toe-up by only ~25 deg), so its toe-up rate averaged over ``swing_avg_s``
    can stay below ``swing_dps``, and the contact after it would be lost. A peak in
    ``tops`` of ``toe_up`` (the averaged toe-up rate, deg/s, shape (n,)) above
    ``first_swing_dps`` that is not one of the ``swings`` counts as one when:

    * it starts a bout: no swing within ``max_stride_s`` before it, one within
      ``max_stride_s`` after its toe-up rotation (``w`` < 0 around the peak). Inside a
      bout the toe-up rotations that are not swings are the heel drops after forefoot
      landings.
    * the rotation starts at a toe-off: the rate was heel-up faster than
      ``pushoff_dps`` within 50 ms before it. Only the toes leaving the ground let the
      leg reverse the push-off that fast; a heel lowered after a heel raise, a toe tap or
      a rock back onto the heels starts from a foot at rest or turning over slowly.
    * it lands on the heel: it turns the foot toe-up by ``first_landing_deg`` more than
      the heel-up rotation before it (the push-off, from the foot standing flat) turned
      it heel-up, so the foot lands dorsiflexed, as a walking step does. A hop (pogo)
      lands on the ball, plantarflexed, no more toe-up than where its push-off began.
      (Read on the sagittal rate alone: a first step that turns the foot about the
      vertical too, as at the start of a walk back, can read less toe-up than it turns,
      and is then left out as before.)

    One per toe-up rotation (its highest peak). Returns sample indices, sorted. The
    caller then keeps those that carried the foot (:func:`_carried`, measured: a heel
    flicked up and down and the toes raised passes the tests above).
    """
    cand = np.setdiff1d(tops, swings, assume_unique=True)
    if len(cand) == 0 or len(swings) == 0:
        return cand[:0]
    n = len(w)
    reach = int(st.max_stride_s * fs)
    k = np.searchsorted(swings, cand)
    prev = swings[np.maximum(k - 1, 0)]
    after = swings[np.minimum(k, len(swings) - 1)]
    use = ((k == 0) | (cand - prev > reach)) & (k < len(swings)) & (after - cand <= reach)
    use &= w[cand] < 0
    cand, after = cand[use], after[use]
    if len(cand) == 0:
        return cand
    # The rate from each peak back and forward (a swing and its push-off are shorter
    # than a stride): the toe-up rotation around the peak, and the heel-up one before it.
    lag = np.arange(reach)
    back = w[np.maximum(cand[:, None] - lag, 0)]
    ahead = w[np.minimum(cand[:, None] + 1 + lag, n - 1)]
    n_back = np.argmax(back >= 0, axis=1)  # toe-up samples at and before the peak
    n_ahead = np.argmax(ahead >= 0, axis=1)  # and after it
    heel_up = (back < 0) & (lag > n_back[:, None])
    n_push = np.where(heel_up.any(axis=1), np.argmax(heel_up, axis=1), reach)
    del heel_up
    ends = (back >= 0).any(axis=1) & (ahead >= 0).any(axis=1) & (cand >= n_back)
    rows = np.arange(len(cand))[:, None]
    # (The swing's toe-up rotation) - (the push-off's heel-up rotation), deg.
    toe_up_deg = -(
        np.where(lag < n_back[:, None], back, 0.0).sum(axis=1)
        + np.where(lag < n_ahead[:, None], ahead, 0.0).sum(axis=1)
    )
    toe_up_deg -= np.where((lag >= n_back[:, None]) & (lag < n_push[:, None]), back, 0.0).sum(
        axis=1
    )
    toe_up_deg /= fs
    k50 = max(2, int(round(0.05 * fs)))
    pushoff = back[rows, np.minimum(n_back[:, None] + np.arange(k50), reach - 1)].max(axis=1)
    del back, ahead
    ok = ends & (pushoff > st.pushoff_dps) & (toe_up_deg > st.first_landing_deg)
    ok &= after > cand + n_ahead  # the next swing is a new one, after this rotation
    cand, start = cand[ok], (cand - n_back)[ok]
    # One per rotation: its highest peak.
    order = np.lexsort((-toe_up[cand], start))
    first = np.ones(len(order), bool)
    first[1:] = start[order][1:] != start[order][:-1]
    return np.sort(cand[order][first])


def _rests(
    w_dps: np.ndarray,
    acc_mps2: np.ndarray,
    valid: np.ndarray,
    up: np.ndarray,
    fs: float,
    st: GaitSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the foot stands at rest: turning slower than ``rest_dps`` (``w_dps``, deg/s,
    shape (n,)) throughout ``swing_avg_s`` around the sample, with no data missing
    (``valid``, shape (n,)), and flat: its specific force (``acc_mps2``, m/s^2, shape
    (n, 3)) within ``rest_tilt_deg`` of ``up`` (shape (3,), the standing pose's).

    Returns
    -------
    ends : ndarray of int, shape (a,)
        The last sample of each stretch at rest that ends flat (sorted).
    begins : ndarray of int, shape (b,)
        The first sample of each stretch at rest that begins flat (sorted).

    A foot at rest has no velocity and no acceleration (a walking mid-stance turns the
    foot slower than 5 deg/s over 0.1 s; a rocked foot, still for an instant at each
    turn, turns at tens of deg/s within 50 ms of it). Only the stretches' ends are tested
    for flatness (where the travel is measured from or to).
    """
    k = max(1, int(round(st.swing_avg_s * fs)))
    slowest = np.abs(w_dps)
    ndimage.maximum_filter1d(slowest, k, output=slowest, mode="nearest")
    spans = runs((slowest < st.rest_dps) & valid)
    del slowest
    last, first = spans[:, 1] - 1, spans[:, 0]
    cos_tol = np.cos(np.radians(st.rest_tilt_deg))

    def flat(i: np.ndarray) -> np.ndarray:
        f = acc_mps2[i]
        return f @ up > cos_tol * np.sqrt(np.einsum("ij,ij->i", f, f))

    return last[flat(last)], first[flat(first)]


def _carried(
    cand: np.ndarray,
    rests: tuple[np.ndarray, np.ndarray],
    w_dps: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    missing_s: np.ndarray,
    lateral: np.ndarray,
    up: np.ndarray,
    fs: float,
    st: GaitSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Whether the swings at ``cand`` (sample indices, sorted, shape (m,)) carried the
    foot: from the last rest before each (``rests`` from :func:`_rests`) to the first
    after it, the sensor moved by more than ``min_travel_m`` or the foot turned about the
    vertical (``up``) by more than ``min_turn_deg``. ``w_dps`` (shape (n,)) is the rate
    about ``lateral``, ``acc_mps2`` and ``gyr_dps`` (shape (n, 3)) the specific force
    and the angular rate, ``missing_s`` (shape (n,)) the data lost at each sample (s, the
    samples interpolated).

    Returns
    -------
    measured : ndarray of bool, shape (m,)
        Both rests found, at most two ``max_stride_s`` apart (a step's rests are at most
        a stride apart; a fidget's toe-up rotations may follow one another without rest).
        Otherwise the foot did not stand still around the swing (running, hopping), and
        there is nothing to measure from.
    moved : ndarray of bool, shape (m,)
        Where measured: it carried the foot.

    The travel is the net displacement between the rests (a fidget moves the sensor by
    centimetres about a pivot and back), read with the rotation about ``lateral`` only
    (:func:`_displacements`): a step that also turns the foot about the vertical reads
    less than it moves, and counts by its turn. Swings between the same two rests share
    their measurement (computed once): the windows measured do not overlap.
    """
    ends, begins = rests
    measured = np.zeros(len(cand), bool)
    moved = np.zeros(len(cand), bool)
    if len(cand) == 0 or len(ends) == 0 or len(begins) == 0:
        return measured, moved
    j = np.searchsorted(ends, cand) - 1
    k = np.searchsorted(begins, cand, side="right")
    before = ends[np.maximum(j, 0)]
    after = begins[np.minimum(k, len(begins) - 1)]
    measured = (j >= 0) & (k < len(begins)) & (after - before <= 2 * st.max_stride_s * fs)
    # Across a few lost packets (max_event_gap_s in all, interpolated) the integrals hold
    # to about the rest-to-rest precision; across more, nothing is measured.
    lost_s = np.cumsum(missing_s)
    measured &= lost_s[after] - lost_s[before] <= st.max_event_gap_s
    if not measured.any():
        return measured, moved
    # The windows, once each (cand is sorted, so are they).
    before, after = before[measured], after[measured]
    new = np.ones(len(before), bool)
    new[1:] = (before[1:] != before[:-1]) | (after[1:] != after[:-1])
    disp_m, turn_deg = _displacements(
        w_dps, acc_mps2, lateral, up, fs, before[new], after[new], gyr_dps
    )
    travel_m = np.sqrt(np.einsum("ij,ij->i", disp_m, disp_m))
    ok = (travel_m > st.min_travel_m) | (np.abs(turn_deg) > st.min_turn_deg)
    moved[measured] = ok[np.cumsum(new) - 1]
    return measured, moved


def _displacements(
    w_dps: np.ndarray,
    acc_mps2: np.ndarray,
    lateral: np.ndarray,
    up: np.ndarray,
    fs: float,
    start: np.ndarray,
    stop: np.ndarray,
    gyr_dps: np.ndarray | None = None,
    chunk: int = 1 << 18,
) -> tuple[np.ndarray, np.ndarray | None]:
    """How far the sensor moves between two moments its foot is at rest.

    Parameters
    ----------
    w_dps : ndarray, shape (n,)
        Angular rate about ``lateral`` (deg/s).
    acc_mps2 : ndarray, shape (n, 3)
        Specific force (m/s^2) in the sensor's axes.
    lateral, up : ndarray, shape (3,)
        The axis of ``w_dps`` and the direction of the specific force at rest (unit
        vectors, sensor axes).
    fs : float
        Sampling rate (Hz).
    start, stop : ndarray of int, shape (m,)
        First and last sample of each window (``stop > start``), the foot at rest at
        both.
    gyr_dps : ndarray, shape (n, 3), optional
        The angular rate (deg/s, bias included): also how far the foot turns about the
        vertical.
    chunk : int
        Samples read at once (a few windows more): the memory stays bounded.

    Returns
    -------
    disp_m : ndarray, shape (m, 3)
        Displacement along ``lateral``, up (``up`` less its part along ``lateral``) and
        forward (``lateral x up``), in the foot's axes at ``start``.
    turn_deg : ndarray, shape (m,), or None
        The rotation about ``up`` (its rate less the rate at ``start``, the bias,
        integrated); without ``gyr_dps``: None.

    The foot turns mostly about its lateral axis: the specific force is turned back by
    the pitch integrated from ``start`` (about ``lateral``), into the axes of the foot
    at rest, and integrated twice with the velocity zero at both ends; gravity, constant
    in those axes, then drops out (as does any constant error in the acceleration). The
    windows are laid one after the other in a single array (no padding to the longest).
    """
    lx, ly, lz = lateral
    vert = up - (up @ lateral) * lateral
    vert /= np.linalg.norm(vert)
    ux, uy, uz = vert
    fwd = np.array([ly * uz - lz * uy, lz * ux - lx * uz, lx * uy - ly * ux])  # lateral x up
    axes = np.array([lateral, vert, fwd])
    lens_all = stop - start + 1
    disp = np.empty((3, len(start)))
    turn = np.empty(len(start)) if gyr_dps is not None else None
    group = (np.cumsum(lens_all) - lens_all) // chunk
    cuts = np.flatnonzero(np.diff(group)) + 1
    for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(start)], strict=True):
        lens = lens_all[a:b]
        first = np.cumsum(lens) - lens
        local = np.arange(int(lens.sum()))
        local -= np.repeat(first, lens)  # sample within its window
        idx = local + np.repeat(start[a:b], lens)
        # The pitch at each sample (trapezoids: a sample, or a block mean, is the rate at
        # its own time, not over the interval after it), 0 at start.
        w = w_dps[idx]
        th = np.cumsum(w)
        th -= 0.5 * w
        th -= np.repeat(th[first], lens)
        th *= np.pi / 180.0 / fs
        # (3, samples), rows: the axes above (.T: gathered along the samples, whichever
        # the array's memory order).
        f = axes @ acc_mps2.T.take(idx, axis=1)
        # Turned back by th about lateral: (up, forward) rotated in their plane.
        c, s_ = np.cos(th), np.sin(th)
        f_up = f[1] * c
        f_up -= f[2] * s_
        f[2] *= c
        f[2] += f[1] * s_
        f[1] = f_up
        del f_up, c, s_, th
        # The velocity (x fs) at sample k of a window of L: v_k = sum of a_1..a_k (0 at
        # start), less the line to v_(L-1) (0 at stop too); its sum over the window,
        # the displacement (x fs^2), is then sum over k >= 1 of a_k (L / 2 - k): one
        # weighted sum, no running sums. A constant (gravity, in the axes of the foot
        # at rest) drops out.
        weight = np.repeat(0.5 * lens, lens) - local
        weight[first] = 0.0
        f *= weight
        disp[:, a:b] = np.add.reduceat(f, first, axis=1)
        if turn is not None:
            g = vert @ gyr_dps.T.take(idx, axis=1)
            turn[a:b] = (np.add.reduceat(g, first) - g[first] * lens) / fs
    disp /= fs * fs
    return disp.T, turn


def _jerk(acc_mps2: np.ndarray, fs_hz: float, chunk: int = 1 << 16) -> np.ndarray:
    """|d f / dt| per sample (m/s^3, shape (n,), 0 at the first), in chunks so that no
    full-length (n, 3) temporary is made."""
    n = len(acc_mps2)
    out = np.zeros(n)
    for i in range(1, n, chunk):
        d = acc_mps2[i : i + chunk] - acc_mps2[i - 1 : i - 1 + chunk][: min(chunk, n - i)]
        out[i : i + len(d)] = np.sqrt(np.einsum("ij,ij->i", d, d)) * fs_hz
    return out


def _spins_up(
    w: np.ndarray, lo: np.ndarray, hi: np.ndarray, lag: int, ahead: int, factor: float
) -> np.ndarray:
    """Where, inside the intervals ``[lo, hi)`` (sample indices), the toe-up rotation
    (``w`` < 0, deg/s, shape (n,)) grows by more than ``factor`` within the next
    ``ahead`` samples over its value ``lag`` samples before. Boolean, shape (n,): False
    outside the intervals (only the landing windows are read, not the whole signal)."""
    n = len(w)
    out = np.zeros(n, bool)
    lo = np.clip(lo, lag, n)
    hi = np.clip(hi, lo, n)
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if not len(lo):
        return out
    # Each interval with the ``ahead`` samples after it (edge repeated at the end, as
    # mode="nearest" of the whole signal), one after the other: the minimum over the
    # next ``ahead`` samples of an interval's sample never reads the next interval.
    span = hi - lo + ahead
    first = np.cumsum(span) - span
    local = np.arange(int(span.sum())) - np.repeat(first, span)
    idx = np.minimum(np.repeat(lo, span) + local, n - 1)
    w_next = ndimage.minimum_filter1d(w[idx], ahead, origin=-(ahead // 2), mode="nearest")
    inside = local < np.repeat(hi - lo, span)
    pos = idx[inside]
    out[pos] = w_next[inside] < factor * np.minimum(w[pos - lag], 0.0)
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
    trail: int = 1,
    ungated: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """In each [lo, hi): the first local maximum of ``x`` that reaches half the window's
    maximum (the first collision, not a later, larger one). With ``gate = (g, limit,
    lag)`` only samples where ``|g|`` ``lag`` samples earlier is under the window's
    ``limit`` count. With ``trail > 1``, ``x`` is read as its rise over the last
    ``trail`` samples (``x`` minus their minimum, edges reflected: ``x -
    ndimage.minimum_filter1d(x, trail, origin=trail // 2)``), inside the windows only."""
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64)
    n = len(x)
    width = max(2, int((hi - lo).max()))
    cols = np.arange(width)
    pos = lo[:, None] + cols
    past_end = int(lo.max()) + width > n  # else no index needs clipping
    first = int(lo.min())
    idx = np.minimum(pos, n - 1) if past_end else pos
    inside = pos < hi[:, None]
    if gate is not None:
        g, limit, lag = gate
        if first >= lag:  # every lagged index exists
            inside &= np.abs(g[idx - lag]) < limit[:, None]
        else:
            inside &= (np.abs(g[np.maximum(idx - lag, 0)]) < limit[:, None]) & (idx >= lag)
        if ungated is not None:  # (where, from): samples passed whatever the gate
            free, start = ungated
            inside |= free[idx] & (pos >= start[:, None]) & (pos < hi[:, None])
    if trail > 1:
        ext = lo[:, None] + np.arange(1 - trail, width)
        if past_end or first < trail - 1:
            ext = np.minimum(np.where(ext < 0, -ext - 1, ext), n - 1)
        xe = x[ext]
        m = xe.shape[1] - trail + 1  # the minimum of each trail of samples ending here
        xw = (
            xe[:, trail - 1 :]
            - ndimage.minimum_filter1d(xe, trail, axis=1)[:, trail // 2 : trail // 2 + m]
        )
    else:
        xw = x[idx]
    seg = np.where(inside, xw, -np.inf)
    best = seg.max(axis=1, keepdims=True)
    k = np.argmax(seg >= 0.5 * best, axis=1)
    # Climb to the local maximum: the first step after k that does not rise.
    rows = np.arange(len(lo))
    # next <= this: np.diff(seg) <= 0 without its -inf - -inf outside the windows (the
    # same booleans: only there do the two differ, and the next line sets them).
    falls = seg[:, 1:] <= seg[:, :-1]
    falls |= ~np.isfinite(seg[:, 1:])
    falls &= cols[None, :-1] >= k[:, None]
    top = np.argmax(falls, axis=1)
    top = np.where(falls[rows, top], top, width - 1)
    return np.where((hi > lo + 1) & np.isfinite(best[:, 0]), lo + top, lo)


def _bouts(
    steps: list[Step],
    st: GaitSettings,
    ic_s: np.ndarray | None = None,
    contact_ms: np.ndarray | None = None,
) -> list[Bout]:
    """Group steps into bouts, classify them and summarise (sets fields in place).
    ``ic_s`` and ``contact_ms`` (the steps' initial contacts and contact times, if at
    hand) save reading them back from the steps."""
    if not steps:
        return []
    ic = np.array([s.initial_contact_s for s in steps]) if ic_s is None else ic_s
    if contact_ms is None:
        contact_ms = np.array([s.contact_ms for s in steps])
    tc = contact_ms / 1000.0
    in_gap_event = np.array([s.event_in_gap for s in steps], bool)
    stride = np.diff(ic)
    linked = stride <= st.max_stride_s
    stride_ms = 1000.0 * stride
    flight_ms = 1000.0 * (stride / 2.0 - tc[:-1])
    for s, ok, d_ms, f_ms in zip(steps[:-1], linked.tolist(), stride_ms, flight_ms, strict=True):
        if ok:
            s.stride_ms, s.flight_ms = d_ms, f_ms
    breaks = (np.flatnonzero(stride > st.max_stride_s) + 1).tolist()
    bouts: list[Bout] = []
    for a, b in zip([0, *breaks], [*breaks, len(steps)], strict=True):
        n = b - a  # steps a..b-1
        if n < st.min_bout_steps:
            for s in steps[a:b]:
                s.bout_index = -1
            continue
        strides = stride_ms[a : b - 1]
        strides = strides[linked[a : b - 1] & (strides != 0)]
        duty = tc[a : b - 1] / (strides / 1000.0) if len(strides) == n - 1 else None
        # Most steps running (np.mean(duty < max) > 0.5, without np.mean's overhead).
        run_steps = duty is not None and np.count_nonzero(duty < st.run_duty_max) > 0.5 * len(duty)
        kind = "run" if run_steps else "walk"
        mid = tc[a + n // 4 : a + max(n // 4 + 1, 3 * n // 4)]
        ref = statistics.median(mid.tolist())  # (a few dozen values: 10x np.median's speed)
        steady = np.ones(n, bool)
        if kind == "run":
            off = np.abs(tc[a:b] - ref) > st.steady_tol * ref
            # Only the ends: the ramp-up and the slowing down.
            k = 0
            while k < n and off[k]:
                steady[k] = False
                k += 1
            k = n - 1
            while k >= 0 and off[k]:
                steady[k] = False
                k -= 1
        for s, sd in zip(steps[a:b], steady.tolist(), strict=True):
            s.bout_index = len(bouts)
            s.kind = kind
            s.steady = sd
        if not steady.any():  # no steady part: report the whole bout
            steady[:] = True
        # Contact times read across a data gap are less precise: out of the statistics
        # (unless nothing else is left).
        exact = steady & ~in_gap_event[a:b]
        c = 1000.0 * tc[a:b][exact if exact.any() else steady]
        sm = strides[steady[:-1]] if len(strides) else strides
        c_list = c.tolist()
        # The least-squares slope over the step number (statistics: np.polyfit's result,
        # without its overhead on a few dozen values).
        trend = (
            statistics.linear_regression(range(len(c_list)), c_list).slope if len(c) >= 3 else None
        )
        c_mean = c.mean()
        sm_mean = sm.mean() if len(sm) else None
        bouts.append(
            Bout(
                start_s=float(ic[a]),
                end_s=float(ic[b - 1] + tc[b - 1]),
                steps=n,
                kind=kind,
                steady_steps=int(np.count_nonzero(steady)),
                contact_ms_mean=float(c_mean),
                contact_ms_median=float(statistics.median(c_list)),
                contact_ms_sd=float(c.std(ddof=1)) if len(c) > 1 else 0.0,
                stride_ms_mean=float(sm_mean) if len(sm) else None,
                cadence_spm=float(2 * 60000.0 / sm_mean) if len(sm) else None,
                duty_factor=float(c_mean / sm_mean) if len(sm) else None,
                contact_trend_ms_per_step=None if trend is None else float(trend),
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
