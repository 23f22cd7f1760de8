"""Mounting-agnostic alignment to the foot and drift-free foot pitch.

Frame convention (the project's one): the foot frame has x forward (heel to toe), y to
the left, z up. Foot pitch is the rotation about +y: positive = toe down / heel up.

Nothing here assumes a sensor axis. Three facts of the foot's mechanics are used instead:

1. At rest the accelerometer reads gravity, pointing up (``up0``).
2. Calf work (heel raises, push-off) rotates the foot about one axis, the foot's lateral
   axis; it is the dominant axis of the angular rate and lies horizontal, so it is taken
   as the principal axis of the angular-rate samples, made perpendicular to ``up0``.
3. In a heel raise the foot pivots about the ball, which lies IN FRONT of any place a
   sensor is worn (laces, heel counter, sides). For a rigid body pivoting about a fixed
   point, the sensor's acceleration is ``alpha x r + omega x (omega x r)`` with ``r`` the
   lever arm from the pivot. Fitting ``r`` in the sagittal plane (least squares, with
   terms that absorb gravity, accelerometer bias and scale error) tells which way the
   ball is, hence which way is forward, hence the sign of the lateral axis. This makes
   the sign follow from the pivot geometry, not from a guess about the mounting.

Pitch is a complementary filter: the integral of the angular rate about the lateral
axis (gyro bias removed from still periods) corrected at low frequency by the
accelerometer's tilt in the sagittal plane. It is causal (scipy.signal.lfilter), so a
chunked, streaming run gives the same result as the batch run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal
from scipy.ndimage import uniform_filter1d

from analysis.signals import UniformSignal, dilate, moving_std, runs

GRAVITY_MPS2 = 9.80665


@dataclass
class FootAlignment:
    """How the sensor sits on the foot, estimated from the data.

    Attributes
    ----------
    lateral : ndarray, shape (3,)
        Unit foot +y (left) axis in sensor coordinates.
    up0 : ndarray, shape (3,)
        Unit 'up' in sensor coordinates in the resting pose.
    forward0 : ndarray, shape (3,)
        Unit foot +x (forward) in sensor coordinates in the resting pose.
    gyr_bias_dps : ndarray, shape (3,)
        Gyroscope bias estimated from still periods.
    lever_arm_m : ndarray, shape (2,)
        Sensor position relative to the pivot (ball), (up, forward) components.
    sign_confidence : float
        Strength of the cue that set the sign: for ``swing-forward`` the sign agreement
        of the strides times sqrt(their number); for ``lever-arm`` the |t statistic| of
        the lever arm's forward component; below 3 the fallback rule decided (the larger
        excursion from rest is heel-up).
    sign_method : str
        ``swing-forward``, ``lever-arm``, ``larger-excursion`` (the fallback rule), or
        ``given`` (the fallback's place taken by a ``sign_hint``, see
        :func:`sagittal_motion`).
    """

    lateral: np.ndarray
    up0: np.ndarray
    forward0: np.ndarray
    gyr_bias_dps: np.ndarray
    lever_arm_m: np.ndarray
    sign_confidence: float
    sign_method: str


@dataclass
class StillSettings:
    """Thresholds for 'the shoe is not moving' (physical units)."""

    window_s: float = 0.25
    gyr_std_dps: float = 2.5
    acc_std_mps2: float = 0.2
    acc_norm_tol_mps2: float = 0.6
    gyr_rate_dps: float = 3.0  # a slow, steady rotation has a small SD but a real rate


def still_mask(sig: UniformSignal, settings: StillSettings | None = None) -> np.ndarray:
    """True where the shoe is still (resting on the ground or held steady).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    s = settings or StillSettings()
    w = max(3, int(round(s.window_s * sig.fs_hz)))
    gstd = np.linalg.norm(moving_std(sig.gyr_dps, w), axis=1)
    astd = np.linalg.norm(moving_std(sig.acc_mps2, w), axis=1)
    norm = np.linalg.norm(sig.acc_mps2, axis=1)
    quiet = (gstd < s.gyr_std_dps) & (astd < s.acc_std_mps2) & sig.valid
    # A slow, steady rotation (a 5 s lowering turns the shoe at about 10 deg/s) has small
    # SDs. Its rate would be caught against the gyro's bias below, but that bias is read
    # from the quiet samples themselves: in a set of slow heel raises most of them are
    # such rotations, the bias comes out several deg/s off, and the standing is what the
    # rate test then rejects. The accelerometer sees the rotation without any bias: the
    # direction of gravity turns with the shoe (yaw aside). Gravity's direction, averaged
    # over the window either side, must turn slower than ``gyr_rate_dps``.
    quiet &= _tilt_rate_dps(sig.acc_mps2, w, sig.fs_hz) < s.gyr_rate_dps
    if quiet.any():
        g_here = np.median(norm[quiet])
        quiet &= np.abs(norm - g_here) < s.acc_norm_tol_mps2
    if quiet.any():
        bias = np.median(sig.gyr_dps[quiet], axis=0)
        quiet &= np.linalg.norm(sig.gyr_dps - bias, axis=1) < s.gyr_rate_dps
    return quiet


def _tilt_rate_dps(acc_mps2: np.ndarray, window: int, fs_hz: float) -> np.ndarray:
    """How fast the specific force's direction turns, deg/s, shape (n,).

    The angle between the means of ``window`` samples centred ``window // 2`` before and
    after each sample, over that time. Ends take the nearest value.
    """
    n = acc_mps2.shape[0]
    h = max(1, window // 2)
    if n <= 2 * h:
        return np.zeros(n)
    m = uniform_filter1d(acc_mps2, window, axis=0, mode="nearest")
    a, b = m[: n - 2 * h], m[2 * h :]
    ang = np.arctan2(np.linalg.norm(np.cross(a, b), axis=1), np.einsum("ij,ij->i", a, b))
    rate = np.degrees(ang) * fs_hz / (2 * h)
    return np.concatenate([np.full(h, rate[0]), rate, np.full(h, rate[-1])])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def pitch_from_axis(
    sig: UniformSignal,
    lateral: np.ndarray,
    up0: np.ndarray,
    gyr_bias_dps: np.ndarray,
    *,
    still: np.ndarray | None = None,
    crossover_hz: float = 0.08,
    max_bridge_s: float = 0.25,
    swing_dps: float = 200.0,
) -> np.ndarray:
    """Foot pitch (deg) about ``lateral``: gyro integral corrected by accelerometer tilt.

    Parameters
    ----------
    sig : UniformSignal
    lateral, up0 : ndarray, shape (3,)
        Unit vectors in sensor coordinates (see :class:`FootAlignment`).
    gyr_bias_dps : ndarray, shape (3,)
    crossover_hz : float
        Below this frequency the accelerometer tilt is trusted, above it the gyroscope.
        0.08 Hz (time constant 2 s) keeps the tilt error caused by a heel raise's own
        accelerations (under 0.3 m/s^2, about 1.7 deg) below 0.2 deg, while a gyro bias
        left after calibration (0.05 deg/s) costs only 0.1 deg of constant offset.

    still : ndarray of bool, shape (n,), optional
        :func:`still_mask`; enables the re-anchoring after swings (see ``swing_dps``).
    max_bridge_s : float
        Gaps up to this long are integrated through; longer ones re-anchor on the tilt.
    swing_dps : float
        Above this angular speed the foot is swinging or turning in 3-D (a step, a
        stride, a turn on the spot), and the integral of the rate about one axis is not
        the pitch: a walk with turns leaves it several degrees off. Each such bout
        (with 0.25 s either side) is bridged like a gap: the discrepancy between gyro
        and tilt at the first still moment after it is made equal to the one before it,
        by a correction that grows linearly across the bout. A heel raise stays below
        200 deg/s (a 40 deg rise in 0.4 s peaks at about 190 deg/s); a dropped heel may
        exceed it, which costs nothing, since the pitch after it is anchored at a still
        bottom.

    Returns
    -------
    ndarray, shape (n,)
        Pitch in degrees; zero is the resting pose that defined ``up0`` (re-referenced by
        the caller).
    """
    fs = sig.fs_hz
    fwd0 = np.cross(lateral, up0)  # = forward when lateral is +y and up0 is +z
    rate = (sig.gyr_dps - gyr_bias_dps) @ lateral
    f = sig.acc_mps2
    theta_a = np.degrees(np.arctan2(-(f @ fwd0), f @ up0))
    # A lost BLE packet or two (up to max_bridge_s) is integrated through the linearly
    # interpolated rate: the pitch change over a few ms is well estimated that way, and
    # no event is ever placed there (the grid stays marked invalid). Across a longer gap
    # the integral is unknown, so the step is taken from the accelerometer tilt.
    gaps = runs(~sig.valid)
    long_gaps = gaps[(gaps[:, 1] - gaps[:, 0]) > max_bridge_s * fs] if len(gaps) else gaps
    for a, b in long_gaps:
        rate[a:b] = 0.0
    theta_g = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1])) / fs])
    if len(long_gaps):
        gaps = long_gaps
        k = max(1, int(round(0.1 * fs)))
        steps = np.zeros(sig.n)
        for a, b in gaps:
            before = theta_a[max(0, a - k) : max(a, 1)]
            after = theta_a[min(b, sig.n - 1) : min(b + k, sig.n)]
            steps[min(b, sig.n - 1)] += np.median(after) - np.median(before)
        theta_g = theta_g + np.cumsum(steps)
    if still is not None:
        theta_g = theta_g + _swing_bridges(sig, theta_a - theta_g, still, gyr_bias_dps, swing_dps)
    bl, al = signal.butter(1, crossover_hz, fs=fs)
    err = theta_a - theta_g
    # The tilt is only a tilt while the accelerometer reads gravity alone. Where the
    # specific force is more than 1 m/s^2 off 1 g (impact, swing), and 0.1 s around it,
    # the last trusted correction is held and the gyroscope carries the pitch alone.
    off = np.abs(np.linalg.norm(f, axis=1) - GRAVITY_MPS2) > 1.0
    if off.any():
        off = dilate(off, max(1, int(round(0.1 * fs))))
        idx = np.where(off, 0, np.arange(len(err)))
        np.maximum.accumulate(idx, out=idx)
        err = err[idx]
    zi = signal.lfilter_zi(bl, al) * err[0]
    corr, _ = signal.lfilter(bl, al, err, zi=zi)
    return theta_g + corr


def _swing_bridges(
    sig: UniformSignal,
    err: np.ndarray,
    still: np.ndarray,
    gyr_bias_dps: np.ndarray,
    swing_dps: float,
) -> np.ndarray:
    """Correction (deg, shape (n,)) that re-anchors the gyro integral across swing bouts."""
    fs = sig.fs_hz
    n = sig.n
    wild = np.linalg.norm(sig.gyr_dps - gyr_bias_dps, axis=1) > swing_dps
    out = np.zeros(n)
    if not wild.any():
        return out
    bouts = runs(dilate(wild, int(round(0.25 * fs))))
    k = max(1, int(round(0.2 * fs)))
    still_idx = np.flatnonzero(still & sig.valid)
    if len(still_idx) == 0:
        return out
    for a, b in bouts:
        # First settled still moment after the bout, and the last one before it.
        j = np.searchsorted(still_idx, b)
        if j >= len(still_idx):
            continue
        after = int(still_idx[j])
        i = np.searchsorted(still_idx, a) - 1
        before = int(still_idx[i]) if i >= 0 else None
        if before is None:
            continue
        e_after = np.median(err[after : after + k][still[after : after + k]])
        e_before = np.median(err[max(0, before - k + 1) : before + 1])
        step = e_after - e_before
        out[after:] += step
        out[a:after] += step * np.arange(1, after - a + 1) / (after - a + 1)
    return out


@dataclass
class PivotFit:
    """Rigid-body fit of the foot rotating about a fixed pivot (the ball).

    In the sagittal plane of the foot frame (components along ``up0`` and ``forward``)
    the specific force of a sensor at lever arm ``r`` from the pivot is
    ``f_u = -w^2 r_u - alpha r_v + g-terms``, ``f_v = alpha r_u - w^2 r_v + g-terms``,
    where the gravity terms are ``a cos(pitch) + b sin(pitch) + c`` per component (they
    also absorb accelerometer bias and scale error).

    Attributes
    ----------
    lever_arm_m : ndarray, shape (2,)
        (up, forward) position of the sensor relative to the pivot.
    t_forward : float
        t statistic of the forward component.
    coef : ndarray, shape (8,)
        All fitted coefficients (lever arm first), in the frame the fit was made in.
    """

    lever_arm_m: np.ndarray
    t_forward: float
    coef: np.ndarray


def _pivot_signals(
    sig: UniformSignal,
    pitch_deg: np.ndarray,
    lateral: np.ndarray,
    up0: np.ndarray,
    gyr_bias_dps: np.ndarray,
) -> dict[str, np.ndarray]:
    """Low-passed (4 Hz) inputs of the pivot model, each shape (n,)."""
    fs = sig.fs_hz
    sos = signal.butter(2, min(4.0, 0.4 * fs), fs=fs, output="sos")
    fwd0 = np.cross(lateral, up0)
    w = np.radians(signal.sosfiltfilt(sos, (sig.gyr_dps - gyr_bias_dps) @ lateral))
    f = signal.sosfiltfilt(sos, sig.acc_mps2, axis=0)
    th = np.radians(pitch_deg)
    return {
        "w": w,
        "w2": w**2,
        "alpha": np.gradient(w) * fs,
        "c": np.cos(th),
        "s": np.sin(th),
        "fu": f @ up0,
        "fv": f @ fwd0,
        "f_norm": np.linalg.norm(f, axis=1),
    }


def _pivot_model(p: dict[str, np.ndarray], coef: np.ndarray, idx=slice(None)):
    """Predicted (f_u, f_v) of the pivot model with coefficients ``coef``."""
    w2, al, c, s = p["w2"][idx], p["alpha"][idx], p["c"][idx], p["s"][idx]
    fu = -w2 * coef[0] - al * coef[1] + c * coef[2] + s * coef[3] + coef[4]
    fv = al * coef[0] - w2 * coef[1] + c * coef[5] + s * coef[6] + coef[7]
    return fu, fv


def _pivot_fit(p: dict[str, np.ndarray], sig: UniformSignal, gyr_bias_dps, still) -> PivotFit:
    fs = sig.fs_hz
    wn = np.linalg.norm(sig.gyr_dps - gyr_bias_dps, axis=1)
    # Only ground-contact rotations fit the pivot model: leave out anything within half a
    # second of a fast swing or a large acceleration (walking, stepping, impacts).
    wild = (wn > 200.0) | (np.abs(p["f_norm"] - GRAVITY_MPS2) > 2.0)
    wild = dilate(wild, int(0.5 * fs))
    sel = sig.valid & ~still & ~wild & (np.abs(np.degrees(p["w"])) > 3.0)
    # After the 4 Hz low-pass, 40 samples per second carry all there is: fit on those.
    k = max(1, int(round(fs / 40.0)))
    idx = np.flatnonzero(sel)[::k]
    if len(idx) < 20:
        return PivotFit(np.zeros(2), 0.0, np.zeros(8))
    w2, al, c, s = p["w2"][idx], p["alpha"][idx], p["c"][idx], p["s"][idx]
    z, o = np.zeros_like(c), np.ones_like(c)
    a = np.vstack(
        [
            np.column_stack([-w2, -al, c, s, o, z, z, z]),
            np.column_stack([al, -w2, z, z, z, c, s, o]),
        ]
    )
    y = np.concatenate([p["fu"][idx], p["fv"][idx]])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    resid = y - a @ coef
    dof = max(1, len(y) - a.shape[1])
    cov = np.linalg.pinv(a.T @ a) * (resid @ resid / dof)
    # Samples are correlated after low-pass filtering: count independent ones at the
    # filter's bandwidth, not the (subsampled) samples, for an honest standard error.
    eff = max(1.0, fs / k / (2 * 4.0))
    se = float(np.sqrt(max(cov[1, 1], 1e-30) * eff))
    return PivotFit(coef[:2].copy(), float(coef[1] / se), coef)


def _pivot_residual(p: dict[str, np.ndarray], sig: UniformSignal, fit: PivotFit) -> np.ndarray:
    """Acceleration the pivot model does not explain, per sample (m/s^2, shape (n,)): near
    zero while the foot turns about a planted ball, large when it is lifted, swung or
    lands. Without a fit, the deviation of |f| from its median (1 g)."""
    if fit.t_forward == 0.0:  # no fit: too little ground-contact rotation; |f| against 1 g
        return np.abs(p["f_norm"] - np.median(p["f_norm"][sig.valid]))
    fu, fv = _pivot_model(p, fit.coef)
    return np.hypot(p["fu"] - fu, p["fv"] - fv)


def _swing_direction(
    sig: UniformSignal,
    pitch_deg: np.ndarray,
    lateral: np.ndarray,
    up0: np.ndarray,
    gyr_bias_dps: np.ndarray,
) -> tuple[int, float]:
    """Which way the foot travels when it swings (walking, running, stepping).

    Between two slow moments (angular speed under 40 deg/s, as at foot-flat) a swing
    carries the foot a stride forward. The horizontal sagittal acceleration, levelled
    with the pitch and integrated (velocity forced to zero at both ends), gives the
    displacement along ``lateral x up0``; its sign over the swings says whether that
    direction is forward.

    Returns
    -------
    n_swings : int
    agreement : float
        Mean of the displacement signs (+1: ``lateral x up0`` is forward, -1: backward).
    """
    fs = sig.fs_hz
    fwd0 = np.cross(lateral, up0)
    wn = np.linalg.norm(sig.gyr_dps - gyr_bias_dps, axis=1)
    th = np.radians(pitch_deg)
    fu, fv = sig.acc_mps2 @ up0, sig.acc_mps2 @ fwd0
    horiz = fu * np.sin(th) + fv * np.cos(th)
    signs = []
    for a, b in runs((wn > 40.0) & sig.valid):
        dur = (b - a) / fs
        if not (0.2 <= dur <= 2.5) or wn[a:b].max() < 150.0:
            continue
        v = np.cumsum(horiz[a:b]) / fs
        v = v - v[-1] * np.arange(1, b - a + 1) / (b - a)
        disp = float(np.sum(v) / fs)
        if abs(disp) > 0.1:  # a real stride moves the foot decimetres, not centimetres
            signs.append(np.sign(disp))
    return len(signs), float(np.mean(signs)) if signs else 0.0


@dataclass
class SagittalMotion:
    """The foot's motion in its sagittal plane, estimated from one shoe sensor.

    Attributes
    ----------
    alignment : FootAlignment
    pitch_deg : ndarray, shape (n,)
        Foot pitch (+ = heel up), zero = the resting pose that defined ``up0``.
    ball_acc_mps2 : ndarray, shape (n,)
        Acceleration the rigid pivot-about-the-ball model does not explain
        near zero while the ball of the foot is planted.
    """

    alignment: FootAlignment
    pitch_deg: np.ndarray
    ball_acc_mps2: np.ndarray


def sagittal_motion(
    sig: UniformSignal, still: np.ndarray | None = None, sign_hint: np.ndarray | None = None
) -> SagittalMotion:
    """Align to the foot, then its pitch and the unexplained ball acceleration.

    Parameters
    ----------
    sig : UniformSignal
    still : ndarray of bool, shape (n,), optional
        Precomputed :func:`still_mask`.
    sign_hint : ndarray, shape (3,), optional
        A foot +y axis in sensor coordinates known from a strong cue (strides or the lever
        arm) in other data of the same mounting, e.g. earlier in the session. When this
        data has no strong cue of its own, the lateral axis takes the sign that agrees
        with it (``sign_method`` ``given``) instead of the larger-excursion rule, which a
        lowered heel (on a step) can mislead. A strong cue here still decides.
    """
    still = still_mask(sig) if still is None else still
    if still.sum() >= 10:
        bias = np.median(sig.gyr_dps[still], axis=0)
        up0 = _unit(np.mean(sig.acc_mps2[still], axis=0))
    else:
        bias = np.zeros(3)
        up0 = _unit(np.median(sig.acc_mps2[sig.valid], axis=0))
    moving = sig.valid & ~still
    g = sig.gyr_dps[moving] - bias
    if len(g) < 10:
        g = sig.gyr_dps[sig.valid] - bias
    step = max(1, len(g) // 200_000)
    g = g[::step]
    _, vecs = np.linalg.eigh(g.T @ g)
    lateral = vecs[:, -1]
    lateral = _unit(lateral - (lateral @ up0) * up0)
    pitch = pitch_from_axis(sig, lateral, up0, bias, still=still)
    piv = _pivot_signals(sig, pitch, lateral, up0, bias)
    fit = _pivot_fit(piv, sig, bias, still)
    ball_acc = _pivot_residual(piv, sig, fit)  # does not depend on the sign of lateral
    arm, tstat = fit.lever_arm_m, fit.t_forward
    n_swings, agreement = _swing_direction(sig, pitch, lateral, up0, bias)
    if n_swings >= 3 and abs(agreement) >= 0.8:
        # Strides are the strongest cue there is: the swinging foot goes forward.
        method = "swing-forward"
        flip = agreement < 0
        tstat = float(abs(agreement) * np.sqrt(n_swings))
    elif abs(tstat) >= 3.0:
        method = "lever-arm"
        flip = arm[1] > 0  # the sensor must be BEHIND the ball: forward component < 0
    elif sign_hint is not None:
        method = "given"
        flip = float(lateral @ np.asarray(sign_hint, dtype=np.float64)) < 0
    else:
        # Fallback: heel raises leave the resting pose upward. The resting pose is the
        # longest still period (standing), not the median of still samples, which
        # holds at the top could dominate.
        method = "larger-excursion"
        still_runs = runs(still)
        if len(still_runs):
            a, b = still_runs[np.argmax(still_runs[:, 1] - still_runs[:, 0])]
            ref = np.median(pitch[a:b])
        else:
            ref = np.median(pitch)
        slow = sig.valid & (np.linalg.norm(sig.gyr_dps - bias, axis=1) < 150.0)
        lo, hi = np.percentile(pitch[slow] - ref, [1, 99])
        flip = -lo > hi
    if flip:
        lateral = -lateral
        arm = arm * np.array([1.0, -1.0])
        pitch = -pitch  # pitch_from_axis is odd in the sign of lateral
    al = FootAlignment(
        lateral=lateral,
        up0=up0,
        forward0=np.cross(lateral, up0),
        gyr_bias_dps=bias,
        lever_arm_m=arm,
        sign_confidence=abs(tstat),
        sign_method=method,
    )
    return SagittalMotion(al, pitch, ball_acc)
