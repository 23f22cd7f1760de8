"""Pogo jumps and hops: ground contacts, flight, reactive strength, stiffness and rhythm.

Event definition (what the numbers follow): landing = the first instant of ground
contact, take-off = the last, as a force plate with a 20 N threshold sees them.
``contact_ms`` = take-off - landing; ``flight_ms`` = next landing - this take-off.

How contacts are found, from the mechanics of the foot and nothing about the mounting:

1. While the forefoot is on the ground the foot rotates about its planted ball. For a
   rigid body, the specific force at the ball is the sensor's minus the rotational terms
   ``alpha x r + omega x (omega x r)`` (``r``: sensor position from the ball, in sensor
   axes). At a planted ball it is exactly gravity: magnitude 1 g, fixed in the world.
   After take-off the ball is free (the foot is pulled up to the body's speed, then flies);
   at landing it is stopped by an impact of several g.
2. Landing candidates are the sharp peaks of the specific force (first of the sensor's,
   then of the ball's). Just after a real landing (40-100 ms) the ball is planted, so the
   sensor's motion there is a rotation about a fixed point: the lever arm ``r`` is
   fitted over the candidates by least trimmed squares (gravity per window, rotated with
   the integrated gyro, is eliminated; only components across gravity are used, since
   the sole's compression moves the ball a few mm vertically), and candidates where the
   ball was not planted (a take-off burst, a flight hump of a travelling hop, a walking
   heel strike) are rejected by their misfit. This stage runs at 250 Hz at most.
   The accelerometer's and the gyroscope's filter chains delay their signals by
   different amounts (several ms at 100 Hz); that delay is fitted on the contacts found
   (:func:`fit_rate_delay`) and the rate is delayed to match before the stage is redone.
3. With ``r`` known, the ball's specific force ``f_ball`` is computed at the full rate.
   The landing is the onset of the impact and the take-off the onset of the ball's
   departure from 1 g that lifts it (it rises at least 5 mm in the next 40 ms: the
   shoe's ringing after a hard landing and the heel set down after the last one do
   not); both onsets are located with sub-sample precision by extending the edge's 10 %
   and 30 % crossings back to the level before it.
4. A landing ends a fall, and a flight is one. Nothing holds a hopping body up between
   contacts: just before touchdown the ball falls with it (vertical specific force near
   0), and over a whole flight, from rest on the ground to touching down at the body's
   falling speed ``g t_f / 2``, the ball's vertical specific force averages g / 2
   (:func:`prelanding_g`, :func:`flight_fall_g`; up from the planted ball). In walking
   one foot carries the body while the other is set down, and some point of a foot is
   planted for a contact's worth of time (a heel from strike to heel-off, a forefoot from
   foot-flat to toe-off): just before such a "landing" the foot is mostly held up (about
   1 g: a forefoot lowered about the planted heel, a heel set down by the leg), and over
   the "flight" between two of them it is carried, nearly at rest at both ends (a mean
   of about 1 g). A landing held up is not one; a flight that did not fall ends the
   round.

A contact is a landing and a take-off 80-450 ms apart; three or more contacts with
flights under 0.65 s make a round, so standing and rest give none, nor walking (step 4).
The landing after the last take-off of a round, where the athlete stops, is the round's
``final_landing_s``; the last contact's flight ends there but is reported as null in
``flight_ms`` (the JSON contract) and given as ``flight_to_stop_ms``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, signal
from scipy.ndimage import uniform_filter1d
from scipy.spatial.transform import Rotation

from analysis.orientation import StillSettings, still_mask
from analysis.signals import (
    UniformSignal,
    block_mean,
    edge_onsets,
    fractional_delay,
    lagrange_delay_weights,
    runs,
    to_uniform,
)

GRAVITY_MPS2 = 9.80665


@dataclass
class PogoSettings:
    """Detector settings, in physical units."""

    coarse_rate_hz: float = 250.0  # contacts and lever arm are found at this rate
    min_impact_g: float = 2.0  # candidate landings: peaks of |specific force| above this
    planted_window_s: tuple[float, float] = (0.04, 0.10)  # after a landing: ball still
    max_planted_rms_mps2: float = 1.5  # misfit of the planted-ball model in that window
    min_contact_s: float = 0.08
    max_contact_s: float = 0.45
    min_flight_s: float = 0.08  # a flight is longer (protocols: 100-550 ms)
    max_flight_s: float = 0.65  # protocols: flights up to ~550 ms; a walking swing is longer
    # A flight is a fall: the ball leaves the ground at rest and lands at about the body's
    # falling speed g t_f / 2, so its vertical specific force over the flight averages
    # g / 2 (synthetic hops, every kind, 100-1000 Hz: 0.27-0.66 g over 6000 flights). A
    # foot carried through a step while the body rests on the other leg starts and ends
    # it nearly at rest: about 1 g (synthetic walking, "flights" of 0.3 s or more between
    # two of its "contacts": 243 of 247 at 0.75-1.5 g, the rest 0.40-0.74 g after a
    # "contact" whose point was not at rest). Halfway: the ball came down at less than
    # half the body's falling speed.
    max_flight_fall_g: float = 0.75
    # Just before touchdown a hopping foot falls with the body: the ball's vertical specific
    # force over the second half of the shortest flight is about 0 (synthetic hops: -0.67
    # to 0.16 g). A foot set down by the leg of a body resting on the other foot, or
    # lowered about its planted heel (the forefoot of a walking step), is held up: about
    # 1 g (85 % of the synthetic walking "landings" above 0.5 g; the rest, where the
    # fitted point swings down about the heel or in the swing, have no flight that fell).
    # Halfway.
    max_prelanding_g: float = 0.5
    # Over a contact the ground holds the body up and reverses its fall: the sensor's mean
    # specific force over it (contact_lift_g, no lever arm needed) is 1 g or more; over a
    # flight about g / 2. Synthetic hops, seeds 0-30 at 100-1000 Hz, between the true
    # edges: contacts 1.23-3.44 g (21180; a bout's first 1.36-3.21 g, 272), flights
    # 0.12-0.82 g (21452; from standing 0.21-0.58 g, 272); the gap's middle is 1.03 g.
    # (The live view's early contacts are held to it too.) A take-off burst
    # taken for a landing makes the flight after it a "contact", and the real landing
    # after it is hidden, and so on each hop: a window that starts in a contact's
    # push-off reads every flight of the round as a contact (synthetic seed 1 at 1 kHz,
    # right shoe, a 4 s live window from 107.435 s).
    min_contact_lift_g: float = 1.0
    planted_tol_g: float = 0.3  # 50 ms mean |f_ball| within 1 g +- this through the contact
    departure_g: float = 0.5  # f_ball this far from 1 g: the ball has left the ground
    min_rise_m: float = 0.005  # ...if it rises this much within half a minimum flight
    edge_levels: tuple[float, float] = (0.1, 0.3)  # of the edge height, for the onset
    min_round_contacts: int = 3  # fewer in a row are steps or a stumble, not a round
    rhythm_window: int = 5  # hops for the running period regularity
    rhythm_cv_pct: float = 10.0  # period CV above this, twice in a row: rhythm lost


@dataclass
class Contact:
    """One ground contact. Times in s on the file's axis."""

    landing_s: float
    takeoff_s: float
    contact_ms: float
    flight_ms: float | None
    round_index: int = 0
    jump_height_cm: float | None = None
    rsi_flight_contact: float | None = None  # flight time / contact time
    rsi_height_contact_mps: float | None = None  # jump height / contact time, m/s
    stiffness_kn_per_m: float | None = None  # sine-wave model, needs body mass
    flight_to_stop_ms: float | None = None
    impact_g: float = 0.0
    in_gap: bool = False


@dataclass
class PogoRound:
    """Contacts grouped into a round (a flight longer than ``max_flight_s`` or a final
    landing ends a round)."""

    start_s: float
    end_s: float
    contacts: int
    final_landing_s: float | None
    contact_ms_mean: float
    contact_ms_sd: float
    flight_ms_mean: float | None
    flight_ms_sd: float | None
    hop_frequency_hz: float | None
    period_cv_pct: float | None
    contact_drift_pct: float | None
    rhythm_lost: bool
    rhythm_lost_s: float | None
    rsi_flight_contact_mean: float | None


@dataclass
class TenFive:
    """10/5 repeated jump test: mean RSI (flight/contact) of the best 5 of 10 jumps."""

    round_index: int
    rsi_best5: float
    best5_contact_indices: list[int]
    contact_ms_best5: float
    flight_ms_best5: float


@dataclass
class PogoResult:
    """Everything the pogo analysis found in one recording (``lever_arm_m``: the sensor's
    position from the ball of the foot in sensor axes, as fitted)."""

    sample_rate_hz: float
    contacts: list[Contact]
    rounds: list[PogoRound]
    lever_arm_m: np.ndarray
    body_mass_kg: float | None
    ten_five: TenFive | None = None
    rejected_candidates: int = 0
    rate_delay_ms: float = 0.0  # the gyro's delay applied to match the accelerometer's


# ------------------------------------------------------------------------------------
# Pure measures (protocols.md section 2)
# ------------------------------------------------------------------------------------


def jump_height_m(flight_s: np.ndarray | float) -> np.ndarray | float:
    """Jump height from flight time, ``h = g t^2 / 8`` (m)."""
    return GRAVITY_MPS2 * np.asarray(flight_s) ** 2 / 8.0


def leg_stiffness_n_per_m(
    contact_s: np.ndarray | float, flight_s: np.ndarray | float, body_mass_kg: float
) -> np.ndarray | float:
    """Vertical leg stiffness by the sine-wave model (N/m).

    ``k = M pi (t_f + t_c) / (t_c^2 ((t_f + t_c) / pi - t_c / 4))``
    """
    tc, tf = np.asarray(contact_s, float), np.asarray(flight_s, float)
    return body_mass_kg * np.pi * (tf + tc) / (tc**2 * ((tf + tc) / np.pi - tc / 4.0))


# ------------------------------------------------------------------------------------
# Detection
# ------------------------------------------------------------------------------------


def _skew_terms(w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """K (n, 3, 3) with K r = a x r + w x (w x r) for every sample."""
    n = len(w)
    k = np.zeros((n, 3, 3))
    # [a]x
    k[:, 0, 1], k[:, 0, 2] = -a[:, 2], a[:, 1]
    k[:, 1, 0], k[:, 1, 2] = a[:, 2], -a[:, 0]
    k[:, 2, 0], k[:, 2, 1] = -a[:, 1], a[:, 0]
    # [w]x^2 = w w^T - |w|^2 I
    k += w[:, :, None] * w[:, None, :]
    k[:, [0, 1, 2], [0, 1, 2]] -= (w**2).sum(axis=1)[:, None]
    return k


def _rot_terms(w: np.ndarray, a: np.ndarray, r: np.ndarray) -> np.ndarray:
    """a x r + w x (w x r) = a [r]x + w (w . r) - r |w|^2, shape (n, 3)."""
    r_cross = np.array([[0.0, -r[2], r[1]], [r[2], 0.0, -r[0]], [-r[1], r[0], 0.0]])
    out = a @ r_cross  # row i: a_i x r
    out += (w @ r)[:, None] * w
    out -= np.einsum("ij,ij->i", w, w)[:, None] * r
    return out


def _ball_force(
    sig: UniformSignal,
    bias_rps: np.ndarray,
    r: np.ndarray,
    delay_s: float = 0.0,
    chunk: int = 1 << 14,
) -> np.ndarray:
    """|f - (a x r + w x (w x r))| per sample (m/s^2, shape (n,)), the specific force at
    the ball, with ``w`` the bias-free rate delayed by ``delay_s`` (see
    :func:`fit_rate_delay`) and ``a`` its Savitzky-Golay derivative over about 6 ms (the
    same as :func:`_rate_and_derivative`).

    Computed in chunks, one axis at a time on contiguous rows: at an hour of 1 kHz data,
    full-length temporaries and (n, 3) strided arithmetic cost more than the arithmetic.
    """
    fs = sig.fs_hz
    win = derivative_window(fs)
    m = win // 2
    n = sig.n
    d = float(delay_s) * fs
    pad = m + (int(np.ceil(abs(d))) + 2 if d else 0)
    if n < 2 * (win + pad):
        w, a = _rate_and_derivative(sig.gyr_dps, bias_rps, fs, delay_s)
        return np.linalg.norm(sig.acc_mps2 - _rot_terms(w, a, r), axis=1)
    coef = _derivative_operators(win, float(fs))[0]
    rx, ry, rz = (float(v) for v in r)
    out = np.empty(n)
    for i in range(0, n, chunk):
        lo, hi = max(0, i - pad), min(n, i + chunk + pad)
        w_all = np.radians(sig.gyr_dps[lo:hi]).T - bias_rps[:, None]
        if d:
            w_all = fractional_delay(w_all, d, axis=1)
        k0, k1 = i - lo, i - lo + min(chunk, n - i)
        wx, wy, wz = w_all[:, k0:k1]
        ax, ay, az = (np.correlate(w_all[j], coef, mode="same")[k0:k1] for j in range(3))
        fx, fy, fz = sig.acc_mps2[i : i + (k1 - k0)].T
        wr = wx * rx + wy * ry + wz * rz
        ww = wx * wx + wy * wy + wz * wz
        gx = fx - (ay * rz - az * ry) - wx * wr + ww * rx
        gy = fy - (az * rx - ax * rz) - wy * wr + ww * ry
        gz = fz - (ax * ry - ay * rx) - wz * wr + ww * rz
        out[i : i + (k1 - k0)] = np.sqrt(gx * gx + gy * gy + gz * gz)
    # The first and last m samples: the filter's polynomial fit at the ends.
    span = 2 * (win + pad)
    for sl, keep in ((slice(0, span), slice(0, m)), (slice(n - span, n), slice(-m, None))):
        w, a = _rate_and_derivative(sig.gyr_dps[sl], bias_rps, fs, delay_s)
        f = sig.acc_mps2[sl][keep]
        out[sl][keep] = np.linalg.norm(f - _rot_terms(w[keep], a[keep], r), axis=1)
    return out


def ball_force_reach(fs_hz: float, rate_delay_s: float = 0.0) -> tuple[int, int]:
    """Samples the ball's force at one sample reads before and after it: the rate's
    derivative window and its delay (see :func:`ball_force_mps2`)."""
    h = derivative_window(fs_hz) // 2
    if rate_delay_s == 0.0:
        return h, h
    k = int(np.floor(-float(rate_delay_s) * fs_hz))  # (the delay's taps: k - 1 .. k + 2)
    return h + max(0, 1 - k), h + max(0, k + 2)


@functools.lru_cache(maxsize=16)
def _derivative_operators(win: int, fs_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Savitzky-Golay first derivative (order 2, ``win`` samples) as scipy's
    ``savgol_filter(mode="interp")`` computes it: the interior coefficients (for a dot
    product with each window) and, for the first and last ``win // 2`` samples, the
    derivative of the quadratic fitted to the first and last ``win`` samples, as
    matrices (``win // 2``, ``win``). Cached: scipy fits them again on every call (about
    0.18 ms, most of a short window's derivative)."""
    coef = signal.savgol_coeffs(win, 2, deriv=1, delta=1.0 / fs_hz, use="dot")
    h = win // 2
    fit = np.linalg.pinv(np.vander(np.arange(win, dtype=float), 3))  # y -> (p2, p1, p0)
    at = np.arange(win, dtype=float)
    slope = np.stack([2.0 * at, np.ones(win), np.zeros(win)], axis=1) @ fit * fs_hz
    return coef, slope[:h], slope[win - h :]


def _savgol_derivative(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """d/dt of ``x`` (shape (n, k), n at least :func:`derivative_window`), per second:
    ``savgol_filter(x, win, 2, deriv=1, delta=1 / fs_hz, axis=0)``, without refitting the
    filter on every call."""
    win = derivative_window(fs_hz)
    coef, head, tail = _derivative_operators(win, float(fs_hz))
    n, h = len(x), win // 2
    out = np.empty_like(x, dtype=np.float64)
    for j in range(x.shape[1]):
        out[h : n - h, j] = np.correlate(x[:, j], coef, mode="valid")
    out[:h] = head @ x[:win]
    out[n - h :] = tail @ x[n - win :]
    return out


def ball_force_mps2(
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    *,
    fs_hz: float,
    lever_arm_m: np.ndarray,
    rate_delay_s: float = 0.0,
    bias_dps: np.ndarray | None = None,
) -> np.ndarray:
    """Magnitude of the specific force at the ball of the foot, m/s^2, where the data
    around each sample is complete (as ``np.convolve``'s "valid").

    Parameters
    ----------
    acc_mps2 : ndarray, shape (n, 3)
        Specific force at the sensor, sensor axes, m/s^2, uniformly sampled.
    gyr_dps : ndarray, shape (n, 3)
        Angular rate, sensor axes, deg/s.
    fs_hz : float
        Sample rate.
    lever_arm_m : ndarray, shape (3,)
        The sensor's position from the ball, sensor axes, m (``PogoResult.lever_arm_m``).
    rate_delay_s : float
        The rate's delay to match the accelerometer (``PogoResult.rate_delay_ms`` / 1000).
    bias_dps : ndarray, shape (3,), optional
        Gyro bias (default none).

    Returns
    -------
    ndarray, shape (n - before - after,)
        ``|f - (a x r + w x (w x r))|`` at samples ``before`` to ``n - after`` (the
        counts :func:`ball_force_reach` gives): 1 g while the ball is planted (see the
        module docstring, step 3). The same values as the batch analysis computes there
        (the rate delayed by a 4-tap Lagrange filter, its derivative a Savitzky-Golay
        filter over :func:`derivative_window` samples).
    """
    before, after = ball_force_reach(fs_hz, rate_delay_s)
    n = len(acc_mps2)
    if n - before - after <= 0:
        return np.zeros(0)
    bias = np.radians(np.zeros(3) if bias_dps is None else np.asarray(bias_dps, float))
    w, a = _rate_and_derivative(np.asarray(gyr_dps, float), bias, fs_hz, rate_delay_s)
    inner = slice(before, n - after)
    f = np.asarray(acc_mps2, float)[inner]
    return np.linalg.norm(
        f - _rot_terms(w[inner], a[inner], np.asarray(lever_arm_m, float)), axis=1
    )


def derivative_window(fs_hz: float) -> int:
    """Savitzky-Golay window for the angular acceleration: ~6 ms, at least 3 samples."""
    return max(3, int(round(0.006 * fs_hz)) | 1)


def _rate_and_derivative(
    gyr_dps: np.ndarray, bias_rps: np.ndarray, fs_hz: float, delay_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-free angular rate (rad/s), delayed by ``delay_s``, and its derivative
    (rad/s^2), both shape (n, 3)."""
    w = fractional_delay(np.radians(gyr_dps) - bias_rps, float(delay_s) * fs_hz)
    win = derivative_window(fs_hz)
    if len(w) >= win:
        a = _savgol_derivative(w, fs_hz)
    else:  # a recording shorter than the derivative window
        a = np.gradient(w, 1.0 / fs_hz, axis=0) if len(w) > 1 else np.zeros_like(w)
    return w, a


def _window_samples(fs_hz: float, windows: np.ndarray, valid: np.ndarray | None = None):
    """The samples a planted-ball test reads in each window (every 5 ms at most, what a
    60 ms window needs): owner window per sample, sample indices, window centres. Samples
    in a data gap (``valid`` False) are left out; the rotation across the gap still comes
    from the interpolated rate, which over a lost packet (10-15 ms) is off by well under a
    degree."""
    step = max(1, int(round(fs_hz / 200.0)))
    lens = np.maximum((windows[:, 1] - windows[:, 0] + step - 1) // step, 1)
    owner = np.repeat(np.arange(len(windows)), lens)
    first = np.concatenate([[0], np.cumsum(lens)[:-1]])
    idx = windows[owner, 0] + step * (np.arange(int(lens.sum())) - first[owner])
    centre = windows[:, 0] + (windows[:, 1] - windows[:, 0]) // 2
    if valid is not None:
        ok = valid[idx]
        owner, idx = owner[ok], idx[ok]
    return owner, idx, centre


def _since_centre(
    w_rps: np.ndarray | None,
    fs_hz: float,
    idx: np.ndarray,
    ref: np.ndarray,
    phi: np.ndarray | None = None,
) -> Rotation:
    """Rotation from the sensor's axes at ``idx`` to those at ``ref``, from the running
    integral of the rate (a rotation vector: within 60 ms the axis barely changes, so this
    is the rotation to well under a degree). Integrates only the stretch that is read,
    unless ``phi``, the running integral of ``w_rps`` over the whole signal (rad), is
    given."""
    if phi is not None:
        return Rotation.from_rotvec(phi[idx] - phi[ref])
    lo, hi = int(min(idx.min(), ref.min())), int(max(idx.max(), ref.max())) + 1
    phi_all = np.cumsum(w_rps[lo:hi], axis=0) / fs_hz
    return Rotation.from_rotvec(phi_all[idx - lo] - phi_all[ref - lo])


def _planted_terms(sig: UniformSignal, w_rps: np.ndarray, alpha: np.ndarray, windows: np.ndarray):
    """Per sample of the windows: specific force and rotational-term matrix, both rotated
    into the window centre's axes and with the window mean removed; plus the means."""
    owner, idx, centre = _window_samples(sig.fs_hz, windows, sig.valid)
    m = _since_centre(w_rps, sig.fs_hz, idx, centre[owner]).as_matrix()
    y = (m @ sig.acc_mps2[idx][:, :, None])[:, :, 0]
    a = m @ _skew_terms(w_rps[idx], alpha[idx])
    cnt = np.bincount(owner, minlength=len(windows))
    y_mean = np.zeros((len(windows), 3))
    np.add.at(y_mean, owner, y)
    y_mean /= cnt[:, None]
    a_mean = np.zeros((len(windows), 3, 3))
    np.add.at(a_mean, owner, a)
    a_mean /= cnt[:, None, None]
    return owner, cnt, y - y_mean[owner], a - a_mean[owner], y_mean, a_mean


def _horizontal(owner, y_mean, a_mean, r):
    """Projectors (n, 3, 3) onto the plane perpendicular to each window's gravity."""
    g_dir = y_mean - np.einsum("kij,j->ki", a_mean, r)
    u = g_dir / np.linalg.norm(g_dir, axis=1, keepdims=True)
    return (np.eye(3)[None] - u[:, :, None] * u[:, None, :])[owner]


def _window_rms(owner, cnt, yd, ad, r) -> np.ndarray:
    res = yd - np.einsum("nij,j->ni", ad, r)
    ss = np.zeros(len(cnt))
    np.add.at(ss, owner, (res**2).sum(axis=1))
    return np.sqrt(ss / cnt)


def fit_lever_arm(
    sig: UniformSignal,
    w_rps: np.ndarray,
    alpha: np.ndarray,
    windows: np.ndarray,
    *,
    reach_m: float = 0.35,
    init: np.ndarray | None = None,
    search: bool = True,
) -> tuple[np.ndarray, float]:
    """Sensor position from the planted ball (m, sensor axes) and the mean extra specific
    force of a planted ball along gravity (m/s^2).

    In each window the ball is assumed planted: ``f = K(t) r + R(t)^T g_k`` with ``R(t)``
    the sensor's rotation since the window's centre (integrated gyro) and ``g_k`` that
    window's gravity in the centre's axes. Rotating every sample into its window's
    centre frame and removing each window's mean eliminates ``g_k``. The sole compresses
    and recovers with the force (the ball moves a few mm, vertically), so only the
    components perpendicular to gravity are used, where a planted ball does not move.
    That leaves three unknowns.

    Not every window is a real contact (a candidate may be a take-off burst or a step),
    so ``r`` is first found by least trimmed squares over a 3 cm grid within
    ``reach_m`` of the ball, then refined by least squares on the windows that fit.

    Parameters
    ----------
    windows : ndarray of int, shape (k, 2)
        Start and stop (exclusive) sample indices, increasing, not overlapping.
    init : ndarray, shape (3,), optional
        A lever arm to start from as well (the previous pass's).
    search : bool
        Run the grid search for starting points (False: refine ``init`` only).
    """
    # Only windows where the foot turns say anything about r: at rest, any r fits. A
    # lever arm of 10 cm must produce at least 1 m/s^2 of rotational acceleration.
    if len(windows) > 1200:  # plenty to choose the 400 used below from
        windows = windows[np.linspace(0, len(windows) - 1, 1200).astype(int)]
    if len(windows):
        lo, hi = windows[:, 0], np.maximum(windows[:, 1], windows[:, 0] + 1)
        width = int((hi - lo).max())
        idx = np.minimum(lo[:, None] + np.arange(width)[None, :], len(w_rps) - 1)
        inside = idx < hi[:, None]
        drive = (w_rps[idx] ** 2).sum(axis=2) + np.linalg.norm(alpha[idx], axis=2)
        excite = (drive * inside).sum(axis=1) / inside.sum(axis=1)
        windows = windows[excite * 0.1 > 1.0]
    # r is one constant of the recording: 400 windows spread over it pin it down.
    if len(windows) > 400:
        windows = windows[np.linspace(0, len(windows) - 1, 400).astype(int)]
    if len(windows) < 3:
        return np.zeros(3), 0.0
    owner, cnt, yc, ac, y_mean, a_mean = _planted_terms(sig, w_rps, alpha, windows)
    starts: list[np.ndarray] = []
    if search:
        # Least trimmed squares on a grid, on the components across gravity only (the
        # sole's compression and the shoe's ringing move the planted ball vertically, by
        # several m/s^2 after a hard landing). Gravity's direction depends on r, so each
        # window's sums of y y^T, y A^T and A A^T are kept and the misfit across
        # gravity is formed per grid point: trace(M) - u^T M u, with M the window's
        # residual scatter at that r.
        sub = np.linspace(0, len(cnt) - 1, min(len(cnt), 120)).astype(int)
        pick = np.isin(owner, sub)
        own = np.searchsorted(sub, owner[pick])
        y_s, a_s = yc[pick], ac[pick]
        k_sub = len(sub)
        s_yy = np.zeros((k_sub, 3, 3))
        np.add.at(s_yy, own, y_s[:, :, None] * y_s[:, None, :])
        s_ya = np.zeros((k_sub, 3, 3, 3))  # sum y_i A_jl
        np.add.at(s_ya, own, y_s[:, :, None, None] * a_s[:, None, :, :])
        s_aa = np.zeros((k_sub, 3, 3, 3, 3))  # sum A_ij A_ml
        np.add.at(s_aa, own, a_s[:, :, :, None, None] * a_s[:, None, None, :, :])
        # As plain matrix products over the grid: (G, 3) @ (3, k*9) and (G, 9) @ (9, k*9).
        ya_mat = s_ya.transpose(3, 0, 1, 2).reshape(3, -1)
        aa_mat = s_aa.transpose(2, 4, 0, 1, 3).reshape(9, -1)  # rows (j, l), cols (k, i, m)
        y_sub, a_sub, n_sub = y_mean[sub], a_mean[sub], cnt[sub]

        def scores(grid: np.ndarray) -> np.ndarray:
            ss = np.empty((len(grid), k_sub))
            g_ball = np.empty((len(grid), k_sub))
            for g0 in range(0, len(grid), 1024):
                g = grid[g0 : g0 + 1024]
                b = (g @ ya_mat).reshape(len(g), k_sub, 3, 3)
                gg = (g[:, :, None] * g[:, None, :]).reshape(len(g), 9)
                m = (gg @ aa_mat).reshape(len(g), k_sub, 3, 3)
                m += s_yy[None]
                m -= b
                m -= b.transpose(0, 1, 3, 2)
                g_dir = y_sub[None] - np.einsum("kij,gj->gki", a_sub, g)
                g_norm = np.linalg.norm(g_dir, axis=2)
                u = g_dir / g_norm[:, :, None]
                along = (m * (u[:, :, :, None] * u[:, :, None, :])).sum(axis=(2, 3))
                ss[g0 : g0 + 1024] = (np.trace(m, axis1=2, axis2=3) - along) / n_sub[None]
                g_ball[g0 : g0 + 1024] = g_norm
            # A planted ball also reads 1 g on average (a flying one does not): add that
            # misfit (plus a common offset, the sole's, as each grid point's median excess).
            excess = g_ball - GRAVITY_MPS2
            ss += (excess - np.clip(np.median(excess, axis=1, keepdims=True), -2.0, 2.0)) ** 2
            # Landings are about half the candidates (take-off bursts, steps are the
            # rest): rank by the 30th percentile rather than the median.
            return np.percentile(ss, 30, axis=1)

        # A 6 cm grid within reach, then 3 cm steps around its 8 best points.
        ax = np.arange(-reach_m, reach_m + 1e-9, 0.06)
        grid = np.stack(np.meshgrid(ax, ax, ax, indexing="ij"), -1).reshape(-1, 3)
        grid = grid[np.linalg.norm(grid, axis=1) <= reach_m]
        score = scores(grid)
        step = np.stack(np.meshgrid(*[np.array([-0.03, 0.0, 0.03])] * 3, indexing="ij"), -1)
        fine = (grid[np.argsort(score)[:8]][:, None, :] + step.reshape(1, -1, 3)).reshape(-1, 3)
        fine = np.unique(np.round(fine, 6), axis=0)
        fine = fine[np.linalg.norm(fine, axis=1) <= reach_m]
        grid = np.concatenate([grid, fine])
        score = np.concatenate([score, scores(fine)])
        # Keep several distinct starts.
        for gi in np.argsort(score):
            if all(np.linalg.norm(grid[gi] - s0) > 0.04 for s0 in starts):
                starts.append(grid[gi])
            if len(starts) == 4:
                break

    # Refine each start by concentration steps (as in FAST-LTS): least squares on the
    # 30 % of windows that fit best, gravity's direction updated with r, until they
    # settle. Besides the horizontal components, each window's mean specific force along
    # gravity must be 1 g plus a common offset (the sole's compression accelerates the
    # planted ball a little on average), one equation per window weighted like its
    # samples. The start whose trimmed misfit ends lowest wins.
    h = max(3, int(0.3 * len(cnt)))

    def misfit(r, offset):
        p = _horizontal(owner, y_mean, a_mean, r)
        yd = np.einsum("nij,nj->ni", p, yc)
        ad = np.einsum("nij,njk->nik", p, ac)
        rms = _window_rms(owner, cnt, yd, ad, r)
        g_ball = np.linalg.norm(y_mean - np.einsum("kij,j->ki", a_mean, r), axis=1)
        return yd, ad, rms, np.abs(g_ball - GRAVITY_MPS2 - offset)

    def step_data(chosen):
        sel = np.isin(owner, chosen)
        return chosen, np.searchsorted(chosen, owner[sel]), yc[sel], ac[sel]

    def residuals(x, chosen, own, y_s, a_s, jac=False):
        r, off = x[:3], x[3]
        a_k = a_mean[chosen]
        g_dir = y_mean[chosen] - a_k @ r
        g_norm = np.linalg.norm(g_dir, axis=1)
        u_k = g_dir / g_norm[:, None]
        u = u_k[own]
        e = y_s - a_s @ r
        eu = (e * u).sum(axis=1)
        if not jac:
            e_h = e - eu[:, None] * u
            return np.concatenate(
                [e_h.reshape(-1), np.sqrt(cnt[chosen]) * (g_norm - GRAVITY_MPS2 - off)]
            )
        # d e_h / d r = -P_u A - u (e^T du/dr) - (e.u) du/dr, with
        # du/dr = -(I - u u^T) a_mean / |g| (gravity's direction moves with r).
        proj = np.eye(3)[None] - u_k[:, :, None] * u_k[:, None, :]
        du = -(proj @ a_k) / g_norm[:, None, None]
        du_s = du[own]
        de = -(a_s - u[:, :, None] * (u[:, None, :] @ a_s))
        de -= u[:, :, None] * (e[:, None, :] @ du_s) + eu[:, None, None] * du_s
        j_h = np.concatenate([de, np.zeros((len(e), 3, 1))], axis=2).reshape(-1, 4)
        dg = -(u_k[:, None, :] @ a_k)[:, 0, :]  # d|g|/dr
        sq = np.sqrt(cnt[chosen])[:, None]
        j_g = np.concatenate([sq * dg, -sq], axis=1)
        return np.concatenate([j_h, j_g])

    def refine(r):
        g_ball = np.linalg.norm(y_mean - np.einsum("kij,j->ki", a_mean, r), axis=1)
        offset = float(np.clip(np.median(g_ball - GRAVITY_MPS2), -2.0, 2.0))
        best = None
        for _ in range(8):
            _, _, rms, g_err = misfit(r, offset)
            chosen = np.sort(np.argsort(rms**2 + g_err**2)[:h])
            if best is not None and np.array_equal(chosen, best):
                break
            best = chosen
            sol = optimize.least_squares(
                residuals,
                np.append(r, offset),
                jac=lambda x, *args: residuals(x, *args, jac=True),
                args=step_data(chosen),
                method="lm",
                max_nfev=200,
            )
            r, offset = sol.x[:3], float(sol.x[3])
        _, _, rms, g_err = misfit(r, offset)
        trimmed = float(np.sort(rms**2 + g_err**2)[:h].mean())
        # The sensor is on the shoe: a lever arm beyond reach is a degenerate fit (the
        # windows where the foot barely turns fit any r) and loses to any real one.
        if np.linalg.norm(r) > reach_m:
            trimmed = np.inf
        return trimmed, r, offset

    if init is not None:
        starts.append(np.clip(np.asarray(init, float), -reach_m, reach_m))
    results = [refine(s0) for s0 in starts]
    trimmed, r, offset = min(results, key=lambda x: x[0])
    if not np.isfinite(trimmed):  # nothing within reach: the start that fitted best
        return np.asarray(starts[0], float), 0.0
    return r, offset


def planted_misfit(
    sig: UniformSignal,
    w_rps: np.ndarray,
    alpha: np.ndarray,
    windows: np.ndarray,
    r: np.ndarray,
    offset: float,
    max_g_err: float = 0.15,
) -> np.ndarray:
    """Per window, how far the motion is from a planted ball with lever arm ``r``: the
    RMS horizontal residual (m/s^2), or inf when the mean specific force along gravity
    is off ``1 g + offset`` by more than ``max_g_err`` g."""
    return _planted_fit(sig, w_rps, alpha, windows, r, offset, max_g_err)[0]


def _planted_fit(
    sig: UniformSignal,
    w_rps: np.ndarray,
    alpha: np.ndarray,
    windows: np.ndarray,
    r: np.ndarray,
    offset: float,
    max_g_err: float = 0.15,
    phi: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`planted_misfit`, and each window's mean specific force of the ball in the
    axes of its centre (m/s^2, shape (k, 3): gravity, where the ball is planted).
    ``phi``: the running integral of the rate, if at hand (:func:`_since_centre`)."""
    if len(windows) == 0:
        return np.zeros(0), np.zeros((0, 3))
    # For a given r only vectors are needed: the ball's specific force f - K r at each
    # sample, rotated into its window centre's axes (constant for a planted ball).
    # The window's mean (gravity, and the 1 g check) is taken over every sample, a lost
    # packet's filled in by the interpolation (smooth over 10-15 ms, unlike dropping a
    # stretch of the sole's compression); the residual only over samples received.
    owner, idx, centre = _window_samples(sig.fs_hz, windows)
    e = sig.acc_mps2[idx] - _rot_terms(w_rps[idx], alpha[idx], r)
    e = _since_centre(w_rps, sig.fs_hz, idx, centre[owner], phi).apply(e)
    cnt = np.bincount(owner, minlength=len(windows)).astype(float)
    e_mean = np.stack([np.bincount(owner, e[:, i], len(windows)) for i in range(3)], 1)
    e_mean /= cnt[:, None]
    g_ball = np.linalg.norm(e_mean, axis=1)
    u = (e_mean / g_ball[:, None])[owner]
    d = e - e_mean[owner]
    d -= (d * u).sum(axis=1)[:, None] * u  # across gravity only
    got = sig.valid[idx].astype(float)
    n_got = np.maximum(np.bincount(owner, got, len(windows)), 1.0)
    rms = np.sqrt(np.bincount(owner, got * (d**2).sum(axis=1), len(windows)) / n_got)
    g_err = np.abs(g_ball - GRAVITY_MPS2 - offset)
    # The mean along gravity is itself uncertain: a shoe ringing hard after the impact
    # (at 20-80 Hz, aliased and barely filtered at 100 Hz) leaves a few g in each of the
    # window's few samples. The tolerance grows by two standard errors of that mean.
    dz = ((e - e_mean[owner]) * u).sum(axis=1)
    se = np.sqrt(np.bincount(owner, dz * dz, len(windows)) / np.maximum(cnt - 1, 1) / cnt)
    return np.where(g_err < max_g_err * GRAVITY_MPS2 + 2.0 * se, rms, np.inf), e_mean


def _window_means(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of ``x[lo_k:hi_k]`` for short windows (``hi > lo``), gathered at once."""
    width = int((hi - lo).max())
    idx = lo[:, None] + np.arange(width)[None, :]
    inside = idx < hi[:, None]
    return (x[np.minimum(idx, len(x) - 1)] * inside).sum(axis=1) / inside.sum(axis=1)


def _count_in(sorted_idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many elements of ``sorted_idx`` lie in [lo_k, hi_k)."""
    return np.searchsorted(sorted_idx, hi) - np.searchsorted(sorted_idx, lo)


def _next_at_or_after(sorted_idx: np.ndarray, start: np.ndarray) -> np.ndarray:
    """For each start, the first element of ``sorted_idx`` >= it (a huge value if none)."""
    pos = np.searchsorted(sorted_idx, start)
    found = pos < len(sorted_idx)
    out = np.full(len(pos), np.iinfo(np.int64).max // 4, dtype=np.int64)
    out[found] = sorted_idx[pos[found]]
    return out


def fit_rate_delay(
    sig: UniformSignal,
    w_rps: np.ndarray,
    alpha: np.ndarray,
    r: np.ndarray,
    intervals: np.ndarray,
    *,
    max_delay_s: float,
    min_intervals: int = 5,
) -> float:
    """Delay of the gyroscope's signal relative to the accelerometer's (s), from contacts.

    An IMU's accelerometer and gyroscope run through their own digital low-pass filters,
    and their group delays differ: a 2nd-order Butterworth at cut-off ``fc`` delays by
    about ``0.225 / fc``, so cut-offs of a quarter and of nearly half the output rate
    differ by 0.4 sample (4 ms at 100 Hz). Late in a contact the foot turns fast about the
    planted ball (several rad/s, about 100 rad/s^2): rotational terms that far out of step
    with the specific force leave a ball force that drifts by a few tenths of a g, enough
    to make a planted ball look as if it left the ground.

    The delay is the one that makes ``|f_ball|`` flattest through the planted stretches
    (a robust spread: deviations beyond 0.5 g count as 0.5 g), found over a grid and then
    refined by bounded Brent. The rate and its derivative are delayed together by the
    4-point Lagrange interpolator of :func:`analysis.signals.fractional_delay`.

    Parameters
    ----------
    sig : UniformSignal
        The signal ``w_rps`` and ``alpha`` were computed from.
    w_rps, alpha : ndarray, shape (n, 3)
        Bias-free rate (rad/s) and its derivative (rad/s^2), not delayed.
    r : ndarray, shape (3,)
        Lever arm from the ball (m, sensor axes).
    intervals : ndarray of int, shape (k, 2)
        Planted stretches, start and stop (exclusive) sample indices.
    max_delay_s : float
        Largest delay considered, either sign (one output sample of the sensor covers
        anti-alias cut-offs from a fifth to a half of the output rate).
    min_intervals : int
        Fewer stretches than this: no estimate (0.0).

    Returns
    -------
    float
        The delay to apply to the rate, s (positive: the accelerometer lags).
    """
    if len(intervals) < min_intervals:
        return 0.0
    if len(intervals) > 400:  # a constant of the sensor: 400 contacts pin it down
        intervals = intervals[np.linspace(0, len(intervals) - 1, 400).astype(int)]
    lens = intervals[:, 1] - intervals[:, 0]
    first = np.concatenate([[0], np.cumsum(lens)[:-1]])
    idx = np.repeat(intervals[:, 0] - first, lens) + np.arange(int(lens.sum()))
    fs, n = sig.fs_hz, sig.n
    acc = sig.acc_mps2[idx]
    cap = (0.5 * GRAVITY_MPS2) ** 2

    def cost(delay_s: float) -> float:
        k, wts = lagrange_delay_weights(delay_s * fs)
        taps = [np.clip(idx + k - 1 + j, 0, n - 1) for j in range(4)]
        w = sum(wt * w_rps[t] for wt, t in zip(wts, taps, strict=True))
        a = sum(wt * alpha[t] for wt, t in zip(wts, taps, strict=True))
        fb = np.linalg.norm(acc - _rot_terms(w, a, r), axis=1)
        return float(np.minimum((fb - np.median(fb)) ** 2, cap).mean())

    grid = np.linspace(-max_delay_s, max_delay_s, 9)
    costs = np.array([cost(x) for x in grid])
    i = int(np.argmin(costs))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(
        cost, bounds=(lo, hi), method="bounded", options={"xatol": 0.005 * max_delay_s}
    )
    best = float(res.x) if res.fun < costs[i] else float(grid[i])
    return best if cost(best) < cost(0.0) else 0.0


def _mean_ball_force(
    sig: UniformSignal,
    w_rps: np.ndarray,
    phi: np.ndarray,
    r: np.ndarray,
    lo: np.ndarray,
    width: int,
) -> np.ndarray:
    """Mean specific force of the ball (m/s^2, sensor axes) over samples
    ``[lo, lo + width)`` (short windows, ``1 <= lo`` and ``lo + width < n``).

    The rotational terms are taken from the window's mean rate and from the rate at its
    ends (the mean of ``alpha`` is the change of the rate over the window); the spread
    of the rate over 25-35 ms, a few rad/s, moves the centripetal term by a few tenths of
    m/s^2. The mean is taken in the sensor's axes: over such a span the foot turns by a
    fraction of a radian, and the mean of a vector turning at a steady rate points where
    it does at the middle (its length shrinks by a few percent), which is all that is
    asked of it here."""
    k, hi = len(lo), lo + width
    rows = (lo[:, None] + np.arange(width)[None, :]).ravel()
    f = np.take(sig.acc_mps2, rows, axis=0).reshape(k, width, 3).mean(axis=1)
    per_s = sig.fs_hz / width
    w_mean = (np.take(phi, hi - 1, axis=0) - np.take(phi, lo - 1, axis=0)) * per_s
    ends = np.take(w_rps, np.column_stack([lo - 1, lo, hi - 1, hi]).ravel(), axis=0)
    ends = ends.reshape(k, 4, 3)
    a_mean = 0.5 * (ends[:, 2] + ends[:, 3] - ends[:, 0] - ends[:, 1]) * per_s
    return f - _rot_terms(w_mean, a_mean, r)


def prelanding_g(
    sig: UniformSignal,
    w_rps: np.ndarray,
    phi: np.ndarray,
    r: np.ndarray,
    landing: np.ndarray,
    up: np.ndarray,
    up_at: np.ndarray,
    before: tuple[float, float],
) -> np.ndarray:
    """Mean vertical specific force of the ball just before each landing, g.

    Parameters
    ----------
    sig : UniformSignal
        The signal ``w_rps`` was computed from (the coarse one).
    w_rps : ndarray, shape (n, 3)
        Bias-free rate (rad/s).
    phi : ndarray, shape (n, 3)
        Running integral of ``w_rps`` (rad).
    r : ndarray, shape (3,)
        Lever arm from the ball (m, sensor axes).
    landing : ndarray, shape (k,)
        Fractional sample indices of the landings.
    up : ndarray, shape (k, 3)
        Gravity's direction after each landing (the planted ball's mean specific force,
        as :func:`_planted_fit` gives it) in the sensor's axes at sample ``up_at``.
    up_at : ndarray of int, shape (k,)
    before : (float, float)
        The window before each landing: from ``before[0]`` to ``before[1]`` s before it.

    Returns
    -------
    ndarray, shape (k,)
        Mean vertical specific force (g); NaN where the window is not in the recording.
    """
    fs = sig.fs_hz
    t = np.asarray(landing, float)
    out = np.full(len(t), np.nan)
    width = max(1, int(round((before[0] - before[1]) * fs)))
    b0 = np.round(t - before[0] * fs).astype(np.int64)
    ok = (b0 >= 1) & (b0 + width < sig.n)
    if not ok.any():
        return out
    b0 = b0[ok]
    f = _mean_ball_force(sig, w_rps, phi, r, b0, width)
    f = _since_centre(w_rps, fs, b0 + (width - 1) // 2, up_at[ok], phi).apply(f)
    u = up[ok] / np.linalg.norm(up[ok], axis=1, keepdims=True)
    out[ok] = (f * u).sum(axis=1) / GRAVITY_MPS2
    return out


def flight_fall_g(
    sig: UniformSignal,
    w_rps: np.ndarray,
    phi: np.ndarray,
    r: np.ndarray,
    takeoff: np.ndarray,
    landing: np.ndarray,
    *,
    block_s: float = 0.04,
    planted_up: tuple[np.ndarray, np.ndarray] | None = None,
    cycle_start: np.ndarray | None = None,
) -> np.ndarray:
    """Mean vertical specific force of the ball from each take-off to the next landing, g.

    In a flight nothing holds the body up: it leaves the ground rising at ``g t_f / 2`` and
    lands falling as fast. The ball leaves at rest (it was on the ground), is caught up to
    the body's speed, and lands at about the body's falling speed, so its vertical
    velocity drops by ``g t_f / 2`` over the flight: its vertical specific force (the
    rate of that change plus 1 g) averages g / 2. A foot carried through a walking step,
    with the body held up by the other leg, starts and ends nearly at rest (a heel comes
    down at under 1 m/s): about 1 g.

    The integral needs no rotational terms sample by sample: the ball's velocity is the
    sensor's less ``omega x r``, so over the flight the ball's specific force integrates to
    the sensor's less the change of ``R (omega x r)`` between the ends (``R``: the sensor's
    rotation since the take-off, from the integrated rate as in :func:`_since_centre`).
    The sensor's force is summed in blocks of ``block_s`` and each block turned by its
    middle's rotation (the error is of second order in the turn within a block: at the
    10-20 rad/s of a push-off's end, a few percent of that block's force). Up is
    gravity: the ball's mean specific force over the last 30-5 ms of the contact before
    the flight, where it is planted, and the estimates given (``planted_up``,
    ``cycle_start``); the largest reading is returned. Only
    samples wholly inside the flight are used: none of the landing's impact (several g)
    leaks in.

    Parameters
    ----------
    sig : UniformSignal
        The signal ``w_rps`` was computed from (the coarse one).
    w_rps : ndarray, shape (n, 3)
        Bias-free rate (rad/s).
    phi : ndarray, shape (n, 3)
        Running integral of ``w_rps`` (rad).
    r : ndarray, shape (3,)
        Lever arm from the ball (m, sensor axes).
    takeoff, landing : ndarray, shape (k,)
        Fractional sample indices of each take-off and of the landing that ends its flight.
    block_s : float
        Length of the blocks the sensor's force is turned in, s.
    planted_up : (ndarray, ndarray), optional
        Gravity in the contact before each flight, shape (k, 3), in the sensor's axes at
        the samples given, shape (k,) (the planted window after its landing, as
        :func:`prelanding_g` has it): a second estimate of up. It holds where the end of
        the contact does not: a take-off placed wrongly (a fit of a few impacts can put
        it at the next landing, with the ball in the air before it) leaves no gravity
        there to read, while the landing's planted window was checked for 1 g.
    cycle_start : ndarray, shape (k,), optional
        Fractional sample indices of the landing before each flight: a third estimate,
        the sensor's mean specific force over the whole hop, from that landing to the one
        after the flight. Over a cycle that starts and ends at a touchdown the sensor's
        velocity returns to about where it was, so that mean is gravity whatever the
        lever arm: a fit that took flights for contacts (both ends of each 'contact' in
        the air) cannot spoil it.

    Returns
    -------
    ndarray, shape (k,)
        Mean vertical specific force of the ball over each flight (g); NaN where the
        flight holds fewer than two whole samples or its contact's end is not recorded.
    """
    fs, n = sig.fs_hz, sig.n
    t0, t1 = np.asarray(takeoff, float), np.asarray(landing, float)
    out = np.full(len(t0), np.nan)
    # Sample j stands for [j - 1/2, j + 1/2]: the first wholly after the take-off, one
    # past the last wholly before the landing.
    a = np.ceil(t0 + 0.5).astype(np.int64)
    b = np.floor(t1 - 0.5).astype(np.int64) + 1
    r0 = np.round(t0 - 0.03 * fs).astype(np.int64)
    ok = (b - a >= 2) & (r0 >= 1) & (b < n)
    if not ok.any():
        return out
    a, b, r0 = a[ok], b[ok], r0[ok]
    m = max(1, int(round(block_s * fs)))

    def turned_sum(lo_: np.ndarray, hi_: np.ndarray) -> np.ndarray:
        """The sensor's specific force summed over [lo_, hi_), block by block, each block
        in the take-off's axes. The spans are in order and apart, so the blocks' bounds
        never decrease: one pass."""
        nb = (hi_ - lo_ + m - 1) // m
        own = np.repeat(np.arange(len(lo_)), nb)
        first = np.concatenate([[0], np.cumsum(nb)[:-1]])
        lo = lo_[own] + m * (np.arange(int(nb.sum())) - first[own])
        hi = np.minimum(lo + m, hi_[own])
        blk = np.add.reduceat(sig.acc_mps2, np.column_stack([lo, hi]).ravel(), axis=0)[::2]
        blk = _since_centre(w_rps, fs, (lo + hi - 1) // 2, a[own], phi).apply(blk)
        return np.add.reduceat(blk, first, axis=0)

    # Up at the take-off, in the sensor's axes there: from the end of the contact, and
    # from the other sources given.
    width = max(1, int(round(0.025 * fs)))
    g_end = _mean_ball_force(sig, w_rps, phi, r, r0, width)
    ups = [_since_centre(w_rps, fs, r0 + (width - 1) // 2, a, phi).apply(g_end)]
    if planted_up is not None:
        vec, at = np.asarray(planted_up[0], float)[ok], np.asarray(planted_up[1], np.int64)[ok]
        ups.append(_since_centre(w_rps, fs, at, a, phi).apply(vec))
    if cycle_start is not None:  # from the landing before to the landing after
        c0 = np.ceil(np.asarray(cycle_start, float)[ok] + 0.5).astype(np.int64)
        ups.append(turned_sum(np.minimum(c0, a), b))
    # The sensor's specific force over the flight, in the take-off's axes.
    integral = turned_sum(a, b) / fs
    # Less the change of R (omega x r) from the first sample to the last.
    end = _since_centre(w_rps, fs, b - 1, a, phi).apply(np.cross(w_rps[b - 1], r))
    integral -= end - np.cross(w_rps[a], r)
    mean_f = integral / ((b - a) / fs)[:, None]
    # The largest reading: with the right lever arm every source is gravity.
    readings = [(mean_f * u).sum(axis=1) / np.linalg.norm(u, axis=1) for u in ups]
    out[ok] = np.fmax.reduce(readings) / GRAVITY_MPS2
    return out


def _rises(
    fb: np.ndarray, far: np.ndarray, level: float, fs_hz: float, span_s: float
) -> np.ndarray:
    """For each sample of ``far`` (sorted indices where the ball's force is off its
    planted level): how far the ball rises (m) within ``span_s`` from the start of the
    excursion the sample belongs to, by integrating ``|f_ball| - level`` twice.

    A take-off lifts the ball: it is caught up to the body's take-off speed (at least
    ``g t_f / 2``, 0.4 m/s for an 80 ms flight) and rises by about 8 mm or more in the
    first 40 ms (synthetic hops at 100-1000 Hz, every kind and mounting: 8-55 mm). Ringing
    of the shoe after a hard impact (20-80 Hz, which can last 100 ms and more) or the
    heel set down after the final landing moves the planted ball by a millimetre or two
    (at most 3 mm in the same sessions). The span is kept short so that an excursion of
    the ringing just before the take-off does not borrow the take-off's rise. (|f_ball|
    stands for the vertical force: near take-off the ball's force is close to vertical.)
    """
    if len(far) == 0:
        return np.zeros(0)
    first = np.concatenate([[True], np.diff(far) > 1])
    starts = far[first]
    span = max(1, int(round(span_s * fs_hz)))
    weights = (span - np.arange(span)) / fs_hz**2  # the double integral at span's end
    rise = np.empty(len(starts))
    for i in range(0, len(starts), 4096):  # bounded temporaries at an hour of 1 kHz
        s0 = starts[i : i + 4096]
        idx = np.minimum(s0[:, None] + np.arange(span)[None, :], len(fb) - 1)
        rise[i : i + 4096] = (fb[idx] - level) @ weights
    return rise[np.cumsum(first) - 1]


def _rate_integral(t_s: np.ndarray, gyr_dps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's time step (s) and the running integral of the rate (rad, shape (n, 3)):
    rotation vectors' differences give the turn from a span's start (the foot turns about
    one axis, mostly: to a few degrees)."""
    dt = np.diff(t_s, prepend=t_s[0] - (t_s[1] - t_s[0]))
    return dt, np.cumsum(np.radians(gyr_dps) * dt[:, None], axis=0)


def _span_samples(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples of the spans ``start[i]:stop[i]``, one after the other: the span each
    belongs to and its index."""
    cnt = stop - start
    owner = np.repeat(np.arange(len(start)), cnt)
    idx = start[owner] + np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return owner, idx


def contact_lift_g(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
) -> np.ndarray:
    """The sensor's mean specific force from each ``start_s`` to ``end_s``, each sample
    turned into the axes at the start (integrated gyro), magnitude in g.

    Over a contact the ground holds the body up and reverses its fall: the velocity of
    any point of the foot rises by the landing speed (``g t_f / 2``, the ball stopped)
    plus what the point has at take-off, so the mean is gravity plus that over the
    contact: 1 g or more, whatever the lever arm. Over a flight nothing holds the body
    up: the foot leaves the ground and comes down at the body's falling speed, a mean of
    about g / 2. A flight taken for a contact (its "landing" the take-off burst) reads
    the latter. Only the endpoints' ``omega x r`` (the sensor's speed about the ball)
    enters besides, as the change over the span.

    Parameters
    ----------
    t_s : ndarray, shape (n,)
        Sample times, s (increasing; about uniform).
    acc_mps2 : ndarray, shape (n, 3)
    gyr_dps : ndarray, shape (n, 3)
    start_s, end_s : ndarray, shape (k,)

    Returns
    -------
    ndarray, shape (k,)
        NaN where a span holds fewer than two samples.
    """
    start_s, end_s = np.atleast_1d(start_s), np.atleast_1d(end_s)
    out = np.full(len(start_s), np.nan)
    a = np.searchsorted(t_s, start_s)
    b = np.searchsorted(t_s, end_s)
    ok = b - a >= 2
    if not ok.any() or len(t_s) < 2:
        return out
    dt, phi = _rate_integral(t_s, gyr_dps)
    a, b = a[ok], b[ok]
    owner, idx = _span_samples(a, b)
    f = _since_centre(None, 1.0, idx, a[owner], phi=phi).apply(acc_mps2[idx])
    w = dt[idx]
    mean = np.stack([np.bincount(owner, f[:, i] * w, len(a)) for i in range(3)], axis=1)
    mean /= (t_s[b - 1] - t_s[a] + dt[a])[:, None]
    out[ok] = np.linalg.norm(mean, axis=1) / GRAVITY_MPS2
    return out


def min_landing_speed_mps(settings: PogoSettings) -> float:
    """How fast the sensor comes down into a landing at least, by the protocol (m/s): half
    the body's landing speed after the shortest flight, ``g t_f / 2`` with ``t_f`` =
    ``min_flight_s`` (0.2 m/s; the sensor's turn about the ball adds or takes up to
    about 0.2 m/s, see :func:`landing_speed_mps`)."""
    return 0.25 * GRAVITY_MPS2 * settings.min_flight_s


def _still_before(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    end: np.ndarray,
    *,
    fs_hz: float,
    max_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shoe's last still stretch (:func:`~analysis.orientation.still_mask`) at or
    before each sample ``end``, at most ``max_s`` before it: its last sample (-1 where
    there is none), and the means over the still window ending there, gravity (the
    specific force, m/s^2, shape (k, 3), sensor axes) and the gyro's bias (rad/s, shape
    (k, 3)); NaN rows where there is none."""
    n = len(t_s)
    sig = UniformSignal(float(t_s[0]), fs_hz, acc_mps2, gyr_dps, np.ones(n, bool))
    still = still_mask(sig)
    last = np.maximum.accumulate(np.where(still, np.arange(n), -1))
    s = last[end]
    s = np.where((s >= 0) & (t_s[end] - t_s[np.maximum(s, 0)] <= max_s), s, -1)
    w = max(2, int(round(StillSettings().window_s * fs_hz)))
    s1 = np.maximum(s, 0) + 1
    s0 = np.maximum(s1 - w, 0)
    acc_c = np.concatenate([np.zeros((1, 3)), np.cumsum(acc_mps2, axis=0)])
    gyr_c = np.concatenate([np.zeros((1, 3)), np.cumsum(gyr_dps, axis=0)])
    g_vec = (acc_c[s1] - acc_c[s0]) / (s1 - s0)[:, None]
    bias_rps = np.radians((gyr_c[s1] - gyr_c[s0]) / (s1 - s0)[:, None])
    g_vec[s < 0] = np.nan
    bias_rps[s < 0] = np.nan
    return s, g_vec, bias_rps


def landing_speed_mps(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    landing_s: np.ndarray,
    *,
    fs_hz: float,
    before_s: float = 0.01,
    max_s: float = 3.0,
) -> np.ndarray:
    """The sensor's vertical velocity just before each landing, from the last still
    stretch of the shoe before it (m/s, up positive).

    A landing ends a fall: the body comes down at ``g t_f / 2`` (0.39 m/s after the
    shortest flight, 80 ms), and the foot with it. A take-off, or the push-off that
    starts a round from standing, moves the sensor up or leaves it nearly at rest.
    Strapdown integration from a stretch where the shoe stood still
    (:func:`~analysis.orientation.still_mask`) tells the two apart without a lever arm:
    that stretch gives gravity (its mean specific force: direction and size, which takes
    the accelerometer's scale and offset out too) and the gyro's bias (its mean rate);
    the integrated rate turns each later sample's specific force into the still
    stretch's axes, and the vertical part less gravity, integrated, is the velocity.
    Only the sensor's speed about the ball (``omega x r``, small in the late flight)
    separates it from the ball's.

    Synthetic hops, each bout's first three landings (seeds 0-11, 100 and 1000 Hz, 156):
    -2.98 to -0.41 m/s; 4 ms after a take-off: -0.50 to 1.03 m/s, after the push-off from
    standing 0.04 to 0.63 m/s.

    Parameters
    ----------
    t_s : ndarray, shape (n,)
        Sample times, s (increasing, about ``1 / fs_hz`` apart).
    acc_mps2 : ndarray, shape (n, 3)
    gyr_dps : ndarray, shape (n, 3)
    landing_s : ndarray, shape (k,)
    fs_hz : float
        The samples' rate (for the still test's windows).
    before_s : float
        The velocity is read this long before each landing (clear of its impact), s.
    max_s : float
        Farthest a still stretch may lie before the landing, s: the integration drifts
        with time (a gyro bias of 0.1 deg/s left after the still stretch tilts gravity by
        0.3 deg in 3 s, 0.03 m/s of velocity).

    Returns
    -------
    ndarray, shape (k,)
        NaN where no still stretch lies within ``max_s`` before the landing.
    """
    t_s = np.asarray(t_s, float)
    landing_s = np.atleast_1d(np.asarray(landing_s, float))
    out = np.full(len(landing_s), np.nan)
    n = len(t_s)
    if n < 3 or not len(landing_s):
        return out
    end = np.minimum(np.searchsorted(t_s, landing_s - before_s), n - 1)
    s, g_vec, bias_rps = _still_before(t_s, acc_mps2, gyr_dps, end, fs_hz=fs_hz, max_s=max_s)
    ok = (s >= 0) & (landing_s - before_s <= t_s[end] + 2.0 / fs_hz)
    if not ok.any():
        return out
    s, end, g_vec, bias_rps = s[ok], end[ok], g_vec[ok], bias_rps[ok]
    g_mps2 = np.linalg.norm(g_vec, axis=1)
    up = g_vec / g_mps2[:, None]
    dt, phi = _rate_integral(t_s, gyr_dps)
    owner, idx = _span_samples(s, end + 1)
    turn = phi[idx] - phi[s[owner]] - bias_rps[owner] * (t_s[idx] - t_s[s[owner]])[:, None]
    f = Rotation.from_rotvec(turn).apply(acc_mps2[idx])
    a_up = (f * up[owner]).sum(axis=1) - g_mps2[owner]
    v = np.zeros(len(s))
    np.add.at(v, owner, a_up * dt[idx])
    out[ok] = v
    return out


def _gravity_dirs(sig: UniformSignal, max_s: float) -> np.ndarray:
    """Gravity's direction (up; unit vectors in the sensor's axes, shape (n, 3)) at every
    sample, from the shoe's last still stretch before it (:func:`_still_before`, at most
    ``max_s`` before): that stretch's mean specific force, turned into the sample's axes by
    the rate integrated since, less the stretch's bias (as :func:`landing_speed_mps`). NaN
    rows where there is none."""
    idx = np.arange(sig.n)
    t = sig.t_s
    s, g_vec, bias_rps = _still_before(
        t, sig.acc_mps2, sig.gyr_dps, idx, fs_hz=sig.fs_hz, max_s=max_s
    )
    out = np.full((sig.n, 3), np.nan)
    ok = s >= 0
    if not ok.any():
        return out
    _, phi = _rate_integral(t, sig.gyr_dps)
    i, s = idx[ok], s[ok]
    turn = phi[i] - phi[s] - bias_rps[ok] * (t[i] - t[s])[:, None]
    up = g_vec[ok] / np.linalg.norm(g_vec[ok], axis=1, keepdims=True)
    out[ok] = Rotation.from_rotvec(turn).inv().apply(up)
    return out


def _arm_across_gravity(
    sig: UniformSignal,
    w_rps: np.ndarray,
    alpha: np.ndarray,
    idx: np.ndarray,
    up: np.ndarray,
    min_ratio: float = 0.05,
) -> tuple[np.ndarray, float]:
    """Lever arm (m, sensor axes) and planted offset (m/s^2) from samples where the ball is
    planted and gravity's direction is known.

    At a planted ball ``f - K r`` is gravity, plus the sole's compression along it; across
    gravity, ``P_u (f - K r) = 0``: two equations per sample, linear in ``r``. With no
    gravity of its own per window (:func:`fit_lever_arm`) the fit also reads the steady
    part of the foot's turn: through a contact the foot's angular acceleration stays near
    100 rad/s^2 (2 g at 20 cm), which a window's own gravity takes up as a tilt, leaving
    only its changes (over the 40 ms, 4 samples, that one contact gives at 100 Hz, a
    tenth of it).

    The foot turns about its lateral axis, and in a turn about one axis every point of
    the axis through the ball is as planted as the ball: the motion does not tell them
    apart along it, only the foot's roll and yaw do. Over one or two contacts that is the
    least determined direction of the fit by far: 238 fits over the first three contacts
    of synthetic seeds 0-40 at 100 Hz had their smallest singular direction within about
    10 degrees of the lateral axis, and its singular value under 2 % of the largest in
    60 % of them. The contacts found barely depend on it (the ball's force changes little
    along it), so when its singular value is under ``min_ratio`` of the largest, ``r`` is
    taken in the plane through the ball across it: the sensor is on the shoe, within
    about half its width (5 cm) of that plane. (Those fits against the true mounting:
    under 2 %, a free fit was off by up to 3 m and the planar one by up to 13 cm; at
    2-5 %, by up to 21 cm and 8 cm; above 5 %, by up to 2.5 cm and 11 cm.)

    Parameters
    ----------
    sig : UniformSignal
    w_rps, alpha : ndarray, shape (n, 3)
        Bias-free rate (rad/s) and its derivative (rad/s^2), over ``sig``.
    idx : ndarray of int, shape (k,)
        Samples where the ball is planted.
    up : ndarray, shape (k, 3)
        Gravity's direction there (unit, sensor axes).
    min_ratio : float
        Smallest singular value, relative to the largest, of a direction the fit takes
        from the data.

    Returns
    -------
    r : ndarray, shape (3,)
    offset : float
        The ball's mean specific force along gravity in excess of 1 g (m/s^2).
    """
    f = sig.acc_mps2[idx]
    k = _skew_terms(w_rps[idx], alpha[idx])
    across = np.eye(3)[None] - up[:, :, None] * up[:, None, :]
    u, sv, vt = np.linalg.svd((across @ k).reshape(-1, 3), full_matrices=False)
    b = np.einsum("nij,nj->ni", across, f).reshape(-1)
    m = 3 if sv[2] >= min_ratio * sv[0] else 2
    r = vt[:m].T @ ((u[:, :m].T @ b) / sv[:m])
    offset = float(np.mean(np.einsum("ni,ni->n", up, f - k @ r)) - GRAVITY_MPS2)
    return r, offset


class PogoAnalyzer:
    """Pogo/hop analysis of one shoe sensor. Settings in ``__init__``, results in
    ``result_`` (and ``ball_force_mps2_``, the ball's specific force magnitude)."""

    def __init__(self, settings: PogoSettings | None = None) -> None:
        self.settings = settings or PogoSettings()
        self.result_: PogoResult | None = None
        self.ball_force_mps2_: np.ndarray | None = None
        self.signal_: UniformSignal | None = None
        self.rejections_: list[tuple[float, str]] = []
        self.planted_offset_mps2_: float | None = None  # with the lever arm, m/s^2

    def _candidates(
        self,
        x: np.ndarray,
        sig: UniformSignal,
        w0: int,
        w1: int,
        distance_s: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Peaks of ``x`` (m/s^2) over ``min_impact_g`` at least ``distance_s`` apart
        (default ``min_contact_s``), with the window after each where a planted ball is
        looked for."""
        st = self.settings
        fs = sig.fs_hz
        dist_s = st.min_contact_s if distance_s is None else distance_s
        cand, _ = signal.find_peaks(
            x, height=st.min_impact_g * GRAVITY_MPS2, distance=max(1, int(dist_s * fs))
        )
        cand = cand[(cand + w1 < sig.n) & (cand > 0)]
        windows = np.column_stack([cand + w0, cand + w1])
        # A lost packet inside a window: its samples are left out of the planted-ball
        # test (a contact is still a contact; only an event inside the gap cannot be
        # placed), as long as at least half the window was received.
        lost = np.flatnonzero(~sig.valid)
        got = (windows[:, 1] - windows[:, 0]) - _count_in(lost, windows[:, 0], windows[:, 1])
        ok = (got >= 3) & (2 * got >= windows[:, 1] - windows[:, 0])
        return cand[ok], windows[ok].reshape(-1, 2)

    def _landing_checks(
        self,
        sc: UniformSignal,
        w_c: np.ndarray,
        alpha_c: np.ndarray,
        fb_c: np.ndarray,
        cand: np.ndarray,
        windows: np.ndarray,
        r: np.ndarray,
        offset: float,
        phi: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks over the candidates: ``keep`` (the ball is planted after the peak) and
        ``before`` (kept, but the ball was planted before it too: a take-off); and the
        ball's mean specific force in each planted window, in the axes of its centre
        (gravity where it is planted). ``phi``: the running integral of ``w_c``, if at
        hand."""
        st = self.settings
        rms, gravity = _planted_fit(sc, w_c, alpha_c, windows, r, offset, phi=phi)
        keep = rms < st.max_planted_rms_mps2
        before = keep & self._planted_before(fb_c, sc, cand, offset)
        return keep, before, gravity

    def _planted_before(
        self, fb_c: np.ndarray, sc: UniformSignal, cand: np.ndarray, offset: float
    ) -> np.ndarray:
        """Mask over the candidates: the ball was planted before the peak, so it is the
        burst of a take-off from standing (the first of a round), not a landing.

        Before a landing the foot flies; before such a burst the ball was planted:
        |f_ball| within planted_tol_g of 1 g from 300 ms to 40 ms before the peak (flights
        are 100-550 ms, and the foot's force in flight swings well away from 1 g
        somewhere in that span)."""
        st = self.settings
        b0, b1 = int(round(0.3 * sc.fs_hz)), max(1, int(round(0.04 * sc.fs_hz)))
        steady = np.abs(fb_c - GRAVITY_MPS2 - offset) < st.planted_tol_g * GRAVITY_MPS2
        unsteady = np.concatenate([[0], np.cumsum(~steady)])
        lo_pre = np.maximum(cand - b0, 0)
        hi_pre = np.maximum(cand - b1, lo_pre)
        return (cand >= b0) & (unsteady[hi_pre] - unsteady[lo_pre] == 0)

    def _interiors(
        self,
        fb_c: np.ndarray,
        sc: UniformSignal,
        peaks: np.ndarray,
        offset: float,
        falls: bool = False,
    ) -> np.ndarray:
        """Stretches (k, 2) of the coarse signal where the ball is planted after each
        landing peak: from the planted window's start to 20 ms before |f_ball| first
        leaves 1 g by more than 1 g (the take-off burst), within ``max_contact_s``.
        ``falls``: or first drops below 1 g by ``departure_g`` (the ball falls: a flight,
        which reads about 0 g and so never leaves 1 g by more than 1 g)."""
        st = self.settings
        fs = sc.fs_hz
        dev = fb_c - GRAVITY_MPS2 - offset
        off = np.abs(dev) > GRAVITY_MPS2
        if falls:
            off |= dev < -st.departure_g * GRAVITY_MPS2
        far = np.flatnonzero(off)
        start = peaks + int(round(st.planted_window_s[0] * fs))
        j = _next_at_or_after(far, peaks + int(round(st.planted_window_s[1] * fs)))
        stop = np.minimum(j, peaks + int(st.max_contact_s * fs)) - int(round(0.02 * fs))
        stop = np.minimum(stop, sc.n)
        ok = stop - start >= 3
        return np.column_stack([start[ok], stop[ok]]).astype(np.int64).reshape(-1, 2)

    def early_lever_arm(
        self,
        t_s: np.ndarray,
        acc_mps2: np.ndarray,
        gyr_dps: np.ndarray,
        *,
        fs_hz: float,
        passes: int = 2,
        still_max_s: float = 3.0,
    ) -> tuple[np.ndarray, float]:
        """The lever arm (m, sensor axes) and planted offset (m/s^2) from the planted
        stretches of a session's first one or two contacts, for a live view before a fit
        of many impacts exists.

        :meth:`analyze` fits ``r`` over the 60 ms planted window after each landing
        candidate, and needs at least three (landings and take-off bursts mixed): two
        contacts' worth of windows fit a point some cm to tens of cm off, and one none.
        But the ball stays planted through the whole contact, and the foot turns about it
        most in the push-off: here ``r`` is fitted over each candidate's planted stretch
        (from the planted window's start to 20 ms before the ball's force first leaves 1 g
        by 1 g, see ``_interiors``). The stretches are read first on the sensor's own
        specific force (ending them early, where the foot's rotation moves it: what is
        left is still planted; at the heel, where the push-off's angular acceleration
        alone reads 2 g, that is only the 40 ms the planted window always gives), then on
        the ball's with the first pass's ``r``, which runs them on through the push-off.
        No rate delay is fitted. A stretch also ends where the force falls below 1 g by
        ``departure_g``: after a take-off burst the foot flies (about 0 g), which the
        burst test alone takes for planted, and such stretches outnumbered a first
        contact's; a burst of a take-off from standing (ball planted before it) starts
        none. Candidates the sensor did not come down into (:func:`landing_speed_mps`
        from the standing before, when there is one) are take-off bursts, and start none:
        just after one the foot is caught up to the body's speed and reads 1-2 g, which
        neither end test takes for a flight (the early fit of synthetic seed 5 came out
        zero from two such stretches and one contact's).

        Where the shoe stood still within ``still_max_s`` before (the live view shows an
        early contact only then: its landing speed is read from there), that standing
        gives gravity's direction at every sample (:func:`_gravity_dirs`), and ``r`` is
        fitted across gravity, in the plane across the foot's turning axis unless the
        foot's roll and yaw tell the component along it (:func:`_arm_across_gravity`).
        One contact is enough. Synthetic first contacts at 100 Hz (seeds 0-40), against
        the true mounting: the first pass's stretch, 4-23 samples, fits ``r`` to 1.5 cm
        across the axis (median; at most 12 cm), close enough for the ball's force to run
        the stretch on through the push-off, and the second pass to 1.1 cm (at most 6 cm;
        3.6 cm, at most 7.5 cm, with the component along the axis).
        Else each stretch is cut into pieces of the planted window's length, each with
        its own gravity, and fitted as in :func:`fit_lever_arm` (three pieces at least:
        the fit needs three windows). That needs longer stretches (4 samples gave
        nothing, and the first contact waited 0.5-1.5 s for the second at 100 Hz), and
        its component along the turning axis, which the windows barely determine, can run
        beyond a shoe's reach (synthetic seed 4 at 400 Hz: 29 cm, 17 cm off along the
        axis and 2 cm across).

        Parameters
        ----------
        t_s, acc_mps2, gyr_dps, fs_hz :
            As for :meth:`analyze` (the samples up to now).
        passes : int
            Fits, each on the stretches the previous one's ``r`` gives.
        still_max_s : float
            Farthest the standing may lie before a stretch, s (as for
            :func:`landing_speed_mps`).

        Returns
        -------
        r : ndarray, shape (3,)
            Zeros when no stretch was found.
        offset : float
        """
        st = self.settings
        sig = to_uniform(t_s, acc_mps2, gyr_dps, fs_hz=fs_hz)
        sc = block_mean(sig, st.coarse_rate_hz)
        bias = np.median(np.radians(sc.gyr_dps), axis=0)
        w_c, alpha_c = _rate_and_derivative(sc.gyr_dps, bias, sc.fs_hz)
        c0, c1 = (int(round(x * sc.fs_hz)) for x in st.planted_window_s)
        c1 = max(c1, c0 + 3)
        piece = max(3, c1 - c0)
        r, offset = np.zeros(3), 0.0
        fb_c = np.linalg.norm(sc.acc_mps2, axis=1)
        up = _gravity_dirs(sc, still_max_s)
        for k in range(passes):
            if k:
                fb_c = _ball_force(sc, bias, r)
            # Peaks a shortest contact apart, as for a fit of many impacts, but among
            # those the sensor came down into: at the heel a soft landing's impact
            # (2.2 g) can come 70 ms before the push-off's hump (2.9 g, the foot's
            # angular acceleration), which hid it (synthetic seed 29 at 100 Hz: the
            # early fit came out zero and the first contacts waited 0.3-0.85 s). So the
            # peaks are taken a planted window apart first, and the ones the sensor did
            # not come down into dropped (the hump; a take-off burst).
            cand, _ = self._candidates(fb_c, sc, c0, c1, distance_s=st.planted_window_s[0])
            cand = cand[~self._planted_before(fb_c, sc, cand, offset)]
            v_mps = landing_speed_mps(t_s, acc_mps2, gyr_dps, sc.time_of(cand), fs_hz=fs_hz)
            cand = cand[~(v_mps > -min_landing_speed_mps(st))]
            # A peak a higher one follows within a shortest contact is the flight's end
            # (the foot's last swing into the landing), not the landing: dropped. One
            # that follows a higher one stays: the heel coming down after the ball
            # landed (3.6 g 50 ms after it at seed 3, 100 Hz, heel) ends the landing's
            # planted stretch (the force leaves 1 g by 1 g), and the stretch after it
            # is planted too.
            dt = cand[None, :] - cand[:, None]
            higher = fb_c[cand][None, :] > fb_c[cand][:, None]
            near = (dt > 0) & (dt <= int(st.min_contact_s * sc.fs_hz))
            cand = cand[~(near & higher).any(axis=1)]
            inner = self._interiors(fb_c, sc, cand, offset, falls=True)
            if not len(inner):
                break
            # Where the standing before the round gives gravity's direction: every
            # planted sample, fitted across it.
            _, idx = _span_samples(inner[:, 0], inner[:, 1])
            idx = idx[sc.valid[idx] & np.isfinite(up[idx, 0])]
            if len(idx) >= 3:
                r, offset = _arm_across_gravity(sc, w_c, alpha_c, idx, up[idx])
                continue
            # Each stretch in m pieces of about the planted window's length, or shorter
            # so that there are three (the fit's least: one contact's stretch is only
            # about two planted windows long).
            span = inner[:, 1] - inner[:, 0]
            size = max(3, min(piece, int(span.sum()) // 3))
            m = np.maximum(np.rint(span / size).astype(np.int64), 1)
            owner = np.repeat(np.arange(len(inner)), m)
            j = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
            lo = inner[owner, 0] + span[owner] * j // m[owner]
            hi = inner[owner, 0] + span[owner] * (j + 1) // m[owner]
            r, offset = fit_lever_arm(sc, w_c, alpha_c, np.column_stack([lo, hi]))
        return r, offset

    def _edges(
        self,
        fb: np.ndarray,
        sig: UniformSignal,
        peaks: np.ndarray,
        offset: float,
    ) -> dict:
        """Landing and take-off of the contact that each impact peak may start, for all
        peaks at once.

        Returns a dict of arrays over ``peaks``: ``landing`` and ``takeoff`` (fractional
        sample indices), ``in_gap`` (a lost packet between them) and ``why``: "" for a
        contact, "final" when the ball never leaves within ``max_contact_s`` (the round's
        last landing), else the reason it is not a contact.
        """
        st = self.settings
        fs, n = sig.fs_hz, sig.n
        p = np.asarray(peaks, np.int64)
        k = len(p)
        if k == 0:
            empty = np.zeros(0)
            return {"landing": empty, "takeoff": empty, "in_gap": empty.astype(bool), "why": []}
        # Landing: the impact edge, from the level just before it (where the rise to the
        # peak begins, at most 30 ms back; the level is the 12 ms before that).
        back = int(0.03 * fs)
        lo = np.maximum(p - back, 0)
        cols = np.arange(back + 1)
        win = fb[np.minimum(lo[:, None] + cols[None, :], n - 1)]
        falls = (np.diff(win, axis=1) <= 0) & (cols[None, :-1] < (p - lo)[:, None])
        last = back - 1 - np.argmax(falls[:, ::-1], axis=1)
        start = np.where(falls.any(axis=1), lo + last + 1, lo)
        base = _window_means(fb, np.maximum(start - int(0.012 * fs), 0), start + 1)
        landing = edge_onsets(fb, np.maximum(start - 2, 0), p, base, st.edge_levels)
        landing = np.where(np.isnan(landing), start, landing)

        # Take-off: the ball leaves 1 g after the planted window: up (pulled after the
        # body: the burst) or down (towards free fall, a soft last hop).
        w0, w1 = (int(round(x * fs)) for x in st.planted_window_s)
        w1 = max(w1, w0 + 3)
        max_c = int(st.max_contact_s * fs)
        level = GRAVITY_MPS2 + offset
        dep = st.departure_g * GRAVITY_MPS2
        far = np.flatnonzero((fb > level + dep) | (fb < level - dep))
        # A departure leaves the planted level: 10-30 ms before its excursion starts
        # (where the edge below reads the level it leaves), the ball's force is within
        # departure_g of it. An excursion that starts off that level is the shoe's
        # ringing after a hard landing, not a take-off: where the planted ball's vertical
        # force swings past 0 g, |f_ball| reads it rectified, averages well over 1 g and
        # "rises" 5 mm within 40 ms (synthetic seed 67 at 100 Hz: a 33 Hz ringing of
        # +-1.5 g 70-110 ms after 7-15 g impacts, on samples every third of its period).
        far = far[_rises(fb, far, level, fs, 0.5 * st.min_flight_s) >= st.min_rise_m]
        first = np.diff(far, prepend=-2) > 1  # lifting excursions are whole excursions
        exc0 = far[first]
        b0 = np.maximum(exc0 - int(round(0.03 * fs)), 0)
        b1 = np.maximum(b0 + 1, exc0 - int(round(0.01 * fs)))
        from_level = np.abs(_window_means(fb, b0, b1) - level) < dep if len(exc0) else first
        far = far[from_level[np.cumsum(first) - 1]]
        j = _next_at_or_after(far, p + w1)
        leaves = j <= np.minimum(n - 1, p + max_c)
        j = np.where(leaves, j, np.minimum(p + w1, n - 1))
        sgn = np.where(fb[j] > level, 1.0, -1.0)
        # The level the ball leaves is the one just before the edge (10-30 ms before the
        # threshold crossing): late in a contact it drifts a little from the window after
        # the impact.
        e0 = np.maximum(p + w0, j - int(round(0.03 * fs)))
        e1 = np.maximum(e0 + 1, j - int(round(0.01 * fs)))
        plateau = sgn * (_window_means(fb, e0, e1) - level)
        # Along the edge to its first extreme (within 80 ms), then back to the plateau.
        end = np.minimum(n, j + int(0.08 * fs))
        ahead = int(0.08 * fs)
        steps = sgn[:, None] * np.diff(
            fb[np.minimum(j[:, None] + np.arange(ahead)[None, :], n - 1)]
        )
        turns = (steps <= 0) & (np.arange(ahead - 1)[None, :] <= (end - 2 - j)[:, None])
        top = np.where(turns.any(axis=1), j + np.argmax(turns, axis=1), end - 1)
        takeoff = edge_onsets(fb, e0, top, plateau + sgn * level, st.edge_levels, sgn)

        lost = np.flatnonzero(~sig.valid)
        g0 = np.floor(landing).astype(np.int64)
        g1 = np.ceil(np.nan_to_num(takeoff, nan=0.0)).astype(np.int64) + 1
        in_gap = _count_in(lost, g0, np.maximum(g1, g0)) > 0

        tc_s = (takeoff - landing) / fs
        why = np.full(k, "", dtype=object)
        short = ~((tc_s >= st.min_contact_s) & (tc_s <= st.max_contact_s))
        why[short] = [f"contact {x * 1e3:.0f} ms" for x in tc_s[short]]
        why[np.isnan(takeoff)] = "no take-off edge"
        why[~leaves] = "final"
        return {"landing": landing, "takeoff": takeoff, "in_gap": in_gap, "why": why}

    def analyze(
        self,
        t_s: np.ndarray,
        acc_mps2: np.ndarray,
        gyr_dps: np.ndarray,
        *,
        fs_hz: float,
        body_mass_kg: float | None = None,
        ten_five: bool = False,
        lever_arm_m: np.ndarray | None = None,
        planted_offset_mps2: float = 0.0,
        rate_delay_s: float | None = None,
    ) -> PogoResult:
        """Find every ground contact and summarise the rounds.

        Parameters
        ----------
        t_s : ndarray, shape (n,)
            Sample times (s), strictly increasing, gaps allowed.
        acc_mps2 : ndarray, shape (n, 3)
            Specific force (m/s^2), sensor axes in any orientation.
        gyr_dps : ndarray, shape (n, 3)
            Angular rate (deg/s).
        fs_hz : float
            Nominal rate (100-1000 Hz).
        body_mass_kg : float, optional
            Enables leg stiffness.
        ten_five : bool
            Score the 10/5 repeated jump test.
        lever_arm_m : ndarray, shape (3,), optional
            The sensor's position from the ball (m, sensor axes) to use instead of fitting
            it, e.g. the ``lever_arm_m`` of an earlier analysis of the same mounting (the
            live analysis passes the one its reference runs agreed on). The fit's search
            and refinement are skipped; contacts are found on the ball's force with it.
            None (default): fitted from this recording's impacts.
        planted_offset_mps2 : float
            With ``lever_arm_m``: the planted ball's mean specific force along gravity in
            excess of 1 g (m/s^2) that came with it (``planted_offset_mps2_`` of that
            analysis). Ignored when the lever arm is fitted.
        rate_delay_s : float, optional
            The gyroscope's delay relative to the accelerometer (s) to use instead of
            fitting it (``rate_delay_ms`` / 1000 of an earlier analysis of the same
            sensor). None (default): fitted.
        """
        st = self.settings
        sig = to_uniform(t_s, acc_mps2, gyr_dps, fs_hz=fs_hz)
        self.signal_ = sig
        fs = sig.fs_hz
        n = sig.n
        # Finding the contacts and the lever arm needs no more than 250 Hz (anti-alias
        # block means); the edges are then read at the full rate.
        sc = block_mean(sig, st.coarse_rate_hz)
        bias = np.median(np.radians(sc.gyr_dps), axis=0)  # the median rate of a session ~0
        k_blk = int(round(fs / sc.fs_hz))
        delay = 0.0 if rate_delay_s is None else float(rate_delay_s)  # else fitted below
        w_c, alpha_c = _rate_and_derivative(sc.gyr_dps, bias, sc.fs_hz, delay)
        c0, c1 = (int(round(x * sc.fs_hz)) for x in st.planted_window_s)
        c1 = max(c1, c0 + 3)
        # Pass 1: candidates from the sensor's own |f| (the rotation terms can make a
        # contact's hump rival its impact at some mountings): enough to fit r.
        if lever_arm_m is None:
            cand, windows = self._candidates(np.linalg.norm(sc.acc_mps2, axis=1), sc, c0, c1)
            r, offset = fit_lever_arm(sc, w_c, alpha_c, windows)
        else:  # given: no search, no refinement (the loop below goes straight to its else)
            r = np.array(lever_arm_m, dtype=np.float64).reshape(3)
            offset = float(planted_offset_mps2)
        # Then candidates from the ball's specific force, where impacts stand out
        # whatever the mounting, and refit from there until the lever arm settles (to
        # 5 mm). (A second grid search here changed no contact in the benchmark.)
        for _ in range(3 if lever_arm_m is None else 0):
            fb_c = _ball_force(sc, bias, r, delay)
            cand, windows = self._candidates(fb_c, sc, c0, c1)
            r_new, offset = fit_lever_arm(sc, w_c, alpha_c, windows, init=r, search=False)
            moved = float(np.linalg.norm(r_new - r))
            r = r_new
            if moved < 0.005:  # fb and its candidates for r_new would be all but the same
                break
        else:
            fb_c = _ball_force(sc, bias, r, delay)
            cand, windows = self._candidates(fb_c, sc, c0, c1)
        # The gyroscope's filter chain may lag the accelerometer's by a fraction of a
        # sample (several ms at 100 Hz): fit that delay on the contacts found so far (up
        # to 1200 candidates checked, of which it uses 400) and, if there is one, redo the
        # stages above with the rate delayed by it.
        if rate_delay_s is None:
            sel = np.linspace(0, len(cand) - 1, min(len(cand), 1200)).astype(int)
            k_s, b_s, _ = self._landing_checks(
                sc, w_c, alpha_c, fb_c, cand[sel], windows[sel], r, offset
            )
            delay = fit_rate_delay(
                sc,
                w_c,
                alpha_c,
                r,
                self._interiors(fb_c, sc, cand[sel][k_s & ~b_s], offset),
                max_delay_s=1.0 / fs,
            )
            if delay:
                w_c, alpha_c = _rate_and_derivative(sc.gyr_dps, bias, sc.fs_hz, delay)
                if lever_arm_m is None:
                    r, offset = fit_lever_arm(sc, w_c, alpha_c, windows, init=r, search=False)
                fb_c = _ball_force(sc, bias, r, delay)
                cand, windows = self._candidates(fb_c, sc, c0, c1)
        # The rate's running integral (rad), for the planted windows and for the checks
        # below that a landing ends a fall.
        phi_c = np.cumsum(w_c, axis=0) / sc.fs_hz
        keep, before, gravity = self._landing_checks(
            sc, w_c, alpha_c, fb_c, cand, windows, r, offset, phi_c
        )
        rejected = [(c, "ball not planted after the peak") for c in cand[~keep]]
        rejected += [(c, "ball planted before the peak: a take-off") for c in cand[before]]
        keep &= ~before
        up_after, up_at = gravity[keep], (windows[keep, 0] + windows[keep, 1]) // 2
        # The ball's force at the full rate, and each kept impact's peak there.
        fb = _ball_force(sig, bias, r, delay)
        self.ball_force_mps2_ = fb
        lo_blk = np.clip(cand[keep] * k_blk - k_blk, 0, n - 1)
        span = np.arange(3 * k_blk + 1)
        near = np.clip(lo_blk[:, None] + span[None, :], 0, n - 1)
        planted = near[np.arange(len(near)), np.argmax(fb[near], axis=1)]
        self.planted_offset_mps2_ = offset

        self.rejections_ = [(float(sc.time_of(c)), why) for c, why in sorted(rejected)]
        edges = self._edges(fb, sig, planted, offset)
        contacts: list[Contact] = []
        finals: list[float] = []
        max_c = int(st.max_contact_s * fs)
        # A landing ends a fall: the ball's vertical specific force just before it (the
        # second half of the shortest flight, up to 5 ms before the impact's onset, which
        # the sensor's causal filters do not smear backwards) near 0, not 1 g.
        t_land = (sig.time_of(edges["landing"]) - sc.t0_s) * sc.fs_hz
        pre_g = prelanding_g(
            sc, w_c, phi_c, r, t_land, up_after, up_at, (0.5 * st.min_flight_s, 0.005)
        )
        # Each contact's lift (min_contact_lift_g), on the coarse signal: a mean over a
        # contact needs no more than 250 Hz.
        lift_g = np.full(len(planted), np.nan)
        open_k = np.flatnonzero((edges["why"] == "") & np.isfinite(edges["takeoff"]))
        if len(open_k):
            lift_g[open_k] = contact_lift_g(
                sc.time_of(np.arange(sc.n)),
                sc.acc_mps2,
                sc.gyr_dps,
                sig.time_of(edges["landing"][open_k]),
                sig.time_of(edges["takeoff"][open_k]),
            )
        # Sequential only in which candidates an accepted contact hides (the edges above
        # are read for all at once): a candidate inside an accepted contact (ringing, heel
        # slap) is not a landing, nor is a peak within a minimum flight after a take-off
        # (this take-off's own burst, the foot pulled up after the body). A "final"
        # landing hides what follows for a longest contact (the heel coming down, the
        # shoe ringing: the ball stays planted, so each reads held up before it), except
        # a landing the ball fell into: then the ball did not stay down, and the "final"
        # was the burst of a take-off from standing whose flight, starting off the
        # planted level after a countermovement, no departure test took (synthetic seed 8
        # at 200 Hz: it hid the round's first landing).
        busy_until = -1
        final_k = -1  # the final landing that set busy_until, if one did
        kept_k: list[int] = []  # each contact's index among the kept candidates
        for k, p in enumerate(planted):
            if p <= busy_until:
                fell = not edges["why"][k] and pre_g[k] < st.max_prelanding_g
                if final_k < 0 or not fell:
                    continue
                finals.pop()
                self.rejections_.append(
                    (float(sig.time_of(planted[final_k])), "not final: a landing follows")
                )
            final_k = -1
            i_land, i_to, why = edges["landing"][k], edges["takeoff"][k], edges["why"][k]
            if why == "final":
                finals.append(float(sig.time_of(i_land)))
                busy_until = p + max_c
                final_k = k
                continue
            if not why and pre_g[k] >= st.max_prelanding_g:
                why = f"held up before the landing: {pre_g[k]:.2f} g vertical"
            if not why and lift_g[k] < st.min_contact_lift_g:
                why = f"held nothing up: {lift_g[k]:.2f} g over it, a flight"
            if why:
                self.rejections_.append((float(sig.time_of(p)), why))
                continue
            busy_until = int(np.ceil(i_to + st.min_flight_s * fs))
            kept_k.append(k)
            contacts.append(
                Contact(
                    landing_s=float(sig.time_of(i_land)),
                    takeoff_s=float(sig.time_of(i_to)),
                    contact_ms=1000.0 * (i_to - i_land) / fs,
                    flight_ms=None,
                    impact_g=float(fb[p] / GRAVITY_MPS2),
                    in_gap=bool(edges["in_gap"][k]),
                )
            )
        lost = np.flatnonzero(~sig.valid)
        w50 = max(1, int(round(0.05 * fs)))
        level = GRAVITY_MPS2 + offset
        tol = st.planted_tol_g * GRAVITY_MPS2

        def hidden(t0: float, t1: float) -> bool:
            # A contact whose landing fell in a gap inside the flight: from the gap on,
            # the ball planted for a contact's worth of time (the minimum contact less the
            # 50 ms mean's reach), its force averaged over 50 ms (the shoe's ringing,
            # 20-80 Hz, barely moves that) within planted_tol_g of 1 g. That stretch
            # begins by the end of the planted window after the landing (the impact and
            # the mean's reach are over by then): one that begins later (the steady
            # middle of a walking swing reads about 1 g too) hides no landing.
            a, b = (min(max(int((x - sig.t0_s) * fs), 0), n) for x in (t0, t1))
            i = int(np.searchsorted(lost, a))
            if i == len(lost) or lost[i] >= b:
                return False
            gaps = runs(~sig.valid[a:b])
            lo, hi = max(0, a - w50), min(n, b + w50)
            slow = uniform_filter1d(fb[lo:hi], w50)[a - lo : b - lo]
            rr = runs(np.abs(slow - level) < tol)
            begins = rr[(rr[:, 1] - rr[:, 0]) >= 0.5 * st.min_contact_s * fs, 0][:, None]
            reach = int(round(st.planted_window_s[1] * fs))
            return bool(((begins >= gaps[:, 0]) & (begins <= gaps[:, 1] + reach)).any())

        # Each flight between contacts must be a fall (see max_flight_fall_g): a walking
        # step's point of the foot that is planted for a contact's worth of time (a heel
        # from strike to heel-off, a ball from foot-flat to toe-off) is carried, not
        # flying, between its contacts.
        falls = np.ones(len(contacts), dtype=bool)
        land_s = np.array([c.landing_s for c in contacts])
        to_s = np.array([c.takeoff_s for c in contacts])
        if len(contacts) > 1:
            to_c, land_c = to_s[:-1], land_s[1:]
            near = np.flatnonzero(land_c - to_c <= st.max_flight_s)
            # Up three ways: the end of the contact before the flight, the planted window
            # after its landing, and the sensor's mean specific force over the whole hop
            # (landing to landing), which needs no lever arm. With the right lever arm all
            # are gravity; a fit of a few impacts that took a contact and its flight for
            # one contact, or flights for contacts, leaves one or both ends of a 'contact'
            # in the air, and the largest reading then says the 'flight' held a contact.
            kk = np.asarray(kept_k, dtype=np.int64)[near]
            t_to, t_next, t_from = (
                (x[near] - sc.t0_s) * sc.fs_hz for x in (to_c, land_c, land_s[:-1])
            )
            g_z = flight_fall_g(
                sc,
                w_c,
                phi_c,
                r,
                t_to,
                t_next,
                planted_up=(up_after[kk], up_at[kk]),
                cycle_start=t_from,
            )
            falls[near] = ~(g_z >= st.max_flight_fall_g)  # NaN: too short to tell
            self.rejections_ += [
                (float(land_c[i]), f"flight not a fall: {x:.2f} g vertical, a step")
                for i, x in zip(near, g_z, strict=True)
                if x >= st.max_flight_fall_g
            ]
        # Where samples were lost between a take-off and the next landing (hidden() is
        # asked only there), as hidden() reads it.
        gaps = np.zeros(len(contacts), bool)
        if len(lost) and len(contacts) > 1:
            ends = np.column_stack([to_s, land_s])
            ab = np.clip(np.trunc((ends - sig.t0_s) * fs), 0, n).astype(np.int64)
            i = np.searchsorted(lost, ab[:-1, 0])
            gaps[:-1] = (i < len(lost)) & (lost[np.minimum(i, len(lost) - 1)] < ab[1:, 1])
        rounds = _group_rounds(contacts, sorted(finals), st, body_mass_kg, hidden, falls, gaps)
        tf = _ten_five(contacts, rounds) if ten_five else None
        self.result_ = PogoResult(
            sample_rate_hz=float(fs_hz),
            contacts=contacts,
            rounds=rounds,
            lever_arm_m=r,
            body_mass_kg=body_mass_kg,
            ten_five=tf,
            rejected_candidates=int((~keep).sum()),
            rate_delay_ms=1000.0 * delay,
        )
        return self.result_


def _group_rounds(
    contacts: list[Contact],
    finals: list[float],
    st: PogoSettings,
    body_mass_kg: float | None,
    hidden: Callable[[float, float], bool] | None = None,
    falls: np.ndarray | None = None,
    gaps: np.ndarray | None = None,
) -> list[PogoRound]:
    """Flights, per-contact measures and rounds (sets ``flight_ms`` etc. in place).

    ``hidden(t0, t1)``: whether a contact whose landing fell in a data gap hides between
    a take-off and the next landing; that flight is then not measured (null), though the
    round goes on. ``falls[k]``: whether the foot fell from contact ``k``'s take-off to
    the next landing as in a flight (:func:`flight_fall_g`); if not, the round ends there
    (unless a contact hides in a gap in between, which the mean does not allow for).
    ``gaps[k]``: whether samples were lost between contact ``k``'s take-off and the next
    landing (``hidden`` is asked only there; all when None)."""
    if not contacts:
        return []
    finals_arr = np.asarray(finals, float)  # sorted
    # A round continues while the next landing follows the take-off within a flight.
    land = np.array([c.landing_s for c in contacts])
    to = np.array([c.takeoff_s for c in contacts])
    has_next = np.arange(len(contacts)) < len(contacts) - 1
    nxt = np.append(land[1:], np.inf)
    horizon = np.minimum(to + st.max_flight_s, nxt)
    # The first final landing after each take-off, before the horizon: the round stops.
    j = np.searchsorted(finals_arr, to, side="right")
    stop_s = np.append(finals_arr, np.inf)[j]
    has_stop = stop_s < horizon
    in_flight = has_next & ~has_stop & (nxt - to <= st.max_flight_s)
    lost = np.zeros(len(contacts), bool)
    if hidden is not None:
        for k in np.flatnonzero(in_flight & (gaps if gaps is not None else True)).tolist():
            lost[k] = hidden(float(to[k]), float(nxt[k]))
    if falls is not None:
        in_flight &= lost | falls  # a flight that did not fall: carried, a step
    flight_ms = np.where(in_flight & ~lost, 1000.0 * (nxt - to), np.nan)
    to_stop_ms = np.where(~in_flight & has_stop, 1000.0 * (stop_s - to), np.nan)
    starts = [0] + (np.flatnonzero(~in_flight & has_next) + 1).tolist()
    # The flight into the final landing is a real flight: its measures count.
    flight = np.where(np.isnan(flight_ms), to_stop_ms, flight_ms)
    tf = flight / 1000.0
    tc = np.array([c.contact_ms for c in contacts]) / 1000.0
    height_m = jump_height_m(tf)
    stiff = leg_stiffness_n_per_m(tc, tf, body_mass_kg) / 1e3 if body_mass_kg else None
    for k, c in enumerate(contacts):
        if not np.isnan(flight_ms[k]):
            c.flight_ms = float(flight_ms[k])
        if not np.isnan(to_stop_ms[k]):
            c.flight_to_stop_ms = float(to_stop_ms[k])
        if not np.isnan(tf[k]):
            c.jump_height_cm = float(100.0 * height_m[k])
            c.rsi_flight_contact = float(tf[k] / tc[k])
            c.rsi_height_contact_mps = float(height_m[k] / tc[k])
            if stiff is not None:
                c.stiffness_kn_per_m = float(stiff[k])
    rounds = []
    kept: list[Contact] = []
    bounds = starts + [len(contacts)]
    for i in range(len(starts)):
        members = contacts[bounds[i] : bounds[i + 1]]
        if len(members) < st.min_round_contacts:
            continue
        for c in members:
            c.round_index = len(rounds)
        kept += members
        rounds.append(_round_summary(len(rounds), members, finals_arr, st))
    contacts[:] = kept
    return rounds


def _round_summary(
    i: int, members: list[Contact], finals: np.ndarray, st: PogoSettings
) -> PogoRound:
    tc = np.array([c.contact_ms for c in members])
    tf = np.array([c.flight_ms for c in members if c.flight_ms is not None])
    land = np.array([c.landing_s for c in members])
    period = np.diff(land)
    last = members[-1]
    final = last.takeoff_s + last.flight_to_stop_ms / 1000.0 if last.flight_to_stop_ms else None
    q = max(1, len(tc) // 4)
    drift = 100.0 * (tc[-q:].mean() - tc[:q].mean()) / tc[:q].mean() if len(tc) >= 4 else None
    # Rhythm: coefficient of variation of the hop period over a sliding window of
    # rhythm_window hops; lost when it exceeds rhythm_cv_pct in two windows in a row.
    lost_s = None
    k = st.rhythm_window
    if len(period) >= k + 1:
        win = np.lib.stride_tricks.sliding_window_view(period, k)
        cv = 100.0 * win.std(axis=1) / win.mean(axis=1)
        bad = cv > st.rhythm_cv_pct
        both = np.flatnonzero(bad[:-1] & bad[1:])
        if len(both):
            lost_s = float(land[both[0] + k])
    rsi = [c.rsi_flight_contact for c in members if c.rsi_flight_contact is not None]
    return PogoRound(
        start_s=float(members[0].landing_s),
        end_s=float(last.takeoff_s),
        contacts=len(members),
        final_landing_s=final,
        contact_ms_mean=float(tc.mean()),
        contact_ms_sd=float(tc.std(ddof=1)) if len(tc) > 1 else 0.0,
        flight_ms_mean=float(tf.mean()) if len(tf) else None,
        flight_ms_sd=float(tf.std(ddof=1)) if len(tf) > 1 else None,
        hop_frequency_hz=float(1.0 / np.mean(period)) if len(period) else None,
        period_cv_pct=float(100.0 * period.std() / period.mean()) if len(period) > 1 else None,
        contact_drift_pct=float(drift) if drift is not None else None,
        rhythm_lost=lost_s is not None,
        rhythm_lost_s=lost_s,
        rsi_flight_contact_mean=float(np.mean(rsi)) if rsi else None,
    )


def _ten_five(contacts: list[Contact], rounds: list[PogoRound]) -> TenFive | None:
    """The 10/5 test: the first round of at least 10 contacts; best 5 RSI of its first 10."""
    for i, rd in enumerate(rounds):
        members = [c for c in contacts if c.round_index == i]
        if rd.contacts < 10:
            continue
        ten = members[:10]
        rsi = np.array(
            [np.nan if c.rsi_flight_contact is None else c.rsi_flight_contact for c in ten]
        )
        order = [int(j) for j in np.argsort(-np.nan_to_num(rsi, nan=-1.0))[:5]]
        best = [ten[j] for j in order]
        return TenFive(
            round_index=i,
            rsi_best5=float(np.nanmean(rsi[order])),
            best5_contact_indices=sorted(contacts.index(c) for c in best),
            contact_ms_best5=float(np.mean([c.contact_ms for c in best])),
            flight_ms_best5=float(np.nanmean([c.flight_ms or np.nan for c in best])),
        )
    return None


def analyze_pogo(t_s, acc_mps2, gyr_dps, *, fs_hz, body_mass_kg=None, ten_five=False,
                 settings=None) -> PogoResult:  # fmt: skip
    """Functional form of :class:`PogoAnalyzer`."""
    return PogoAnalyzer(settings).analyze(
        t_s, acc_mps2, gyr_dps, fs_hz=fs_hz, body_mass_kg=body_mass_kg, ten_five=ten_five
    )


__all__ = [
    "Contact",
    "PogoAnalyzer",
    "PogoResult",
    "PogoRound",
    "PogoSettings",
    "TenFive",
    "ball_force_mps2",
    "ball_force_reach",
    "derivative_window",
    "analyze_pogo",
    "jump_height_m",
    "leg_stiffness_n_per_m",
]
