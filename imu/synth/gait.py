"""Running strides and walking with ground truth: what a shoe-mounted IMU sees of gait.

Covers the strides of protocols.md section 3 (4-8 x 15-20 s of fast relaxed running, easy
pace to sprint, rearfoot / midfoot / forefoot strike) with the walk-back recovery between
reps, and walking drills (ordinary walking and the heel-toe walk), for one shoe or for both
shoes of the same session with two independent sensor clocks.

Model
-----
Both feet follow one step schedule; each foot is the rigid foot of :mod:`imu.synth.foot`
(pose = Euler angles + position of the ball, the first metatarsal head, on a dense grid)
plus a massless toe segment that only decides when the ground contact ends. Every phase is
an analytic function of absolute time evaluated on the dense grid, so events fall between
grid points, and pose, velocity and acceleration are continuous across phase boundaries
(impacts are fast, not discontinuous).

Step schedule (both feet)
    A session is standing, bouts of steps, standing. A bout starts from standing (one foot
    rises onto the ball and leaves, the other follows) and ends with two walking steps that
    bring the feet side by side. Step ``i`` has a contact time ``tc_i`` and a gap ``g_i``
    from its toe-off to the next initial contact of the other foot: the flight time when
    running (``g > 0``), minus the double support when walking (``g < 0``).
    Running: ``tc = tc_35 (v / 3.5)^-e`` (0.22-0.29 s at 3.5 m/s, e = 0.55-0.8: about
    0.15-0.2 s at 6 m/s, 0.11-0.16 s at 9 m/s); cadence ``c_35 (v / 3.5)^k`` (160-180
    steps/min at 3.5 m/s, k = 0.15-0.3) gives the step time, and the flight is the rest,
    kept in 40-155 ms (before step-to-step noise). Walking: cadence ``c_13 (v / 1.3)^k``
    (102-118 steps/min at 1.3 m/s; heel-toe drill 80-100), stance 60-69 % of the stride
    (drill 64-70 %, less when faster). A stride rep accelerates from standing (or from a
    few walking steps) over 4-8 steps (from 1.8-2.8 m/s: longer contacts, lower cadence),
    holds its speed (rep-to-rep spread) with a fatigue trend (contact time up by the
    setup's fraction over the steady part, flight down by half of it), slows over 4-8
    steps to a 2.4-3 m/s jog, breaks into a walk and stops; the walk-back starts with a
    180 degree turn over 4-6 short steps (each foot turns at most 90 degrees per swing),
    either straight from the walk-out or after standing. Step-to-step variation is AR(1)
    (rho 0.5). Left/right asymmetry lengthens the right foot's contacts by a fraction.
    Feet land on a path with step width (walking 6-13 cm, running 0-6 cm) and toe-out.

Stance, heel first (walking, rearfoot and some midfoot running)
    Why this timing: on the real walking recording (gaitmap example data, both feet, at the
    motion-capture events) the sagittal rate falls smoothly and linearly (about 5000
    deg/s^2 for the last 40 ms) from the late-swing dorsiflexion through zero at IC (+2 and
    +7 ms after it, left and right; no kink at IC), and the sharp heel-floor collision (the
    acc jerk spike, the plantarflexion rate jumping by about 200 deg/s within one sample)
    comes about 20 ms AFTER IC. That is the ground-reaction force of heel strikes: it
    starts at the touch and the impact transient peaks 10-25 ms (running 10-30 ms) later,
    once the heel pad and the midsole are loaded; a 20 N force-plate threshold triggers
    near the start of that, not at the transient.

    * Initial contact: the rear edge of the (rounded) heel touches with the foot
      dorsiflexed (walking 17-30 deg, heel-toe drill 25-35 deg, rearfoot running 8-22 deg
      at 3.5 m/s, 1-3 deg flatter per m/s) and inverted 1-6 deg, moving down (walking
      0.4-0.9 m/s, running 0.45-1 m/s x (v / 3.5)^0.3) and forward (walking 0.2-0.8 m/s,
      running 10-30 % of the speed), decelerating (the end of the swing). Its pitch rate is
      near zero: the late-swing dorsiflexion, slowing at 30-110 rad/s^2 (running 20-120),
      passes through zero 2-8 ms (walking, per person; +-2.5 ms per step) or -2-8 ms
      (running) after the touch, so the foot's greatest dorsiflexion is at IC.
    * Soft loading (heel pad, outsole and midsole foam, rounded heel): from the touch to
      the collision (walking 16-24 ms per person x 0.85-1.15 per step; running 12-26 ms,
      down to a quarter of it for flat landings, whose forefoot follows soon) the heel is
      slowed progressively, the foot keeping its free rotation (the rate goes on rising
      smoothly). The heel's velocity ``v + a s`` is multiplied by
      ``1 - (1 - k) W_l(s / (c0 + tau)) - k W_c((s - c0) / tau)``: the loading stage
      ``W_l(u) = 4u^3 - 3u^4`` (deceleration ``12 u^2 (1 - u)``: grows from zero, ends with
      the collision) and the collision stage ``W_c(u) = 6u^2 - 8u^3 + 3u^4`` (pulse
      ``12 u (1 - u)^2``, peak ``16/9 k v / tau`` a third into it), which stops the share
      ``k`` = 0.45-0.77 of the touch-down speed within ``tau`` (walking 4-9 ms, running
      6-14 ms) starting at ``c0`` (the collision peak minus tau / 3); horizontally (sole
      shear, friction) the collision takes 1.5-3 ``tau``. The heel sinks by its stopping
      distance (heel pad and midsole, about 4-17 mm) and slides a few mm to 1-2 cm.
    * Collision and rocker: the impact transient. The pitch rate jumps during the
      collision pulse from the loading's (a few tens of deg/s, up to about 150) to the
      rocker rate (walking 200-320 deg/s: the stopped heel turns the foot's forward
      momentum into rotation) and slows to 70-150 deg/s (running: about the strike angle
      per 45 ms, slowing to 25-45 %) when the forefoot lands; the forefoot slap (the soft
      forefoot pad, the dorsiflexors lowering the foot) stops the rotation within 12-30 ms,
      a second, smaller impact, at foot-flat (walking about 100-220 ms after IC). A damped
      shoe vibration (20-80 Hz, damping ratio 0.1-0.35) rings in height and pitch from the
      collision.
    * Foot-flat: the ball does not move, the sole is level (pitch 0), but the shoe is not
      quite still (upper and midsole: roll drifts by about 2 deg and yaw by 0.7 deg, a few
      deg/s on the gyro, as in the real recording).
    * Push-off: heel-off at 27-35 % of stance before toe-off when walking, 45-62 % when
      running; the rear foot pitches about the ball (the metatarsophalangeal joint) along a
      quintic from rest to its peak rate (1.5-2.1 times the mean rate of the push-off,
      capped at 1400 deg/s: walking about 450-700, running 800-1400), still accelerating
      into it (0-3000 deg/s^2, less where the rise would not stay monotonic), inverting 3-12
      deg and turning out 0-6 deg. From a pitch of 25-45 deg the toe segment starts to tilt
      too (MTP dorsiflexion grows more slowly than the pitch, C2 onset), so the ball rises
      1-3 cm while the toe tip stays on the ground.
    * Reversal and toe-off: on the real recording the push-off rate peaks about 5 ms before
      the reference toe-off and then reverses sharply (about 130 deg/s per sample; the kink
      about 3.5 ms before it). So the swing begins while the toe tip still touches: when the
      force model (below) has faded to 20 N + 1.5-6 % of body weight, but at most 4-8 ms
      before it falls below 20 N (walking: about 5-13 ms before the toe tip leaves, 2-8 ms
      before the 20 N toe-off; running, whose force falls fast: 0.3-1.5 ms before it), the
      leg takes over and the angular acceleration turns, within 1.5-3 ms (min-jerk: C2), to
      the peak rate / 16-26 ms (the rate at the lift keeps at least 45 % of the peak); the
      pitch still grows, so the toe tip stays on the ground until it leaves at the toe-off
      pitch (walking 52-68 deg, running 55-70 deg + 1 deg per m/s above 3.5): 28 % of the
      foot length plus 1-2.5 cm of shoe ahead of the ball, last; the rear foot and the
      sensor have been rotating for 100-250 ms. A rigid foot without this toe would have to
      leave from the ball (no toe roll) or push its toes through the floor at 60 deg of
      pitch.

Stance, ball first (forefoot and some midfoot running)
    The ball touches with the foot plantarflexed (forefoot 5-14 deg at 3.5 m/s, up to 16;
    the toes dorsiflexed so the ball lands first) and is stopped at once by one impact pulse
    (``W_c`` above over 10-22 ms from the touch, no soft loading stage: force and
    acceleration rise together), the heel drops about the ball to a lowest pitch at 30-45 %
    of contact (half the time it reaches the ground gently: pitch 0 at zero rate), then
    rises into the push-off, reversal and toe-off as above.

Swing
    From the toe-off state to the touch-down state of the next contact of the same foot
    (values, rates and their rates of angles and position), along piecewise quintic curves
    (C2 at the knots). The leg drives the foot through the ankle (2-3 x 0.1 of the foot
    length ahead of the heel, 6-9 cm up): the ankle joint follows the smooth curves and the
    foot rotates about it, so the fast pitch reversal after toe-off does not throw the
    heel around. Pitch: walking, it goes on rising for 12-25 ms (its rate, reversing since
    just before toe-off, falls through zero), swings forward at a near-constant rate (about
    -270..-430 deg/s) and slows to the touch-down rate in the last 35-60 ms; running, the
    rate first falls within 20-40 ms to 8-25 % of its toe-off value and the foot keeps
    pitching (heel kick) to a peak at 28-40 % of the swing, then swings
    forward (about -400..-600 deg/s, more when sprinting). The ankle's forward speed has a
    plateau in mid-swing (about 1.5 times its mean); it is lifted by a smooth bump (running:
    apex 25-70 cm at 34-44 % of the swing, higher with speed) so that heel and ball clear
    the ground by 1-3 cm in mid-swing. The massless toe segment relaxes from its toe-off
    angle toward its landing angle over half the swing or more. In a running flight the
    foot is not in free fall: it is being swung (median specific force 5-12 g at the laces).

Truth
    The foot's vertical ground force is modelled as ``F = A phi(u) + m_eff a_imp`` over the
    contact (``u`` from first touch to the toe tip's lift): ``phi = sin(pi u)`` running,
    ``sin(pi u) + c sin(3 pi u)`` (two humps, c = 0.15-0.3) walking, skewed by
    ``1 + beta (u - 1/2)``, scaled so its impulse is body weight times the step time, plus
    the deceleration of the first contact point times an effective mass (1-3 kg): for a
    heel, the soft loading's growing deceleration and then the collision pulse, so the force
    starts at the touch, rises over the loading and has its impact transient at the
    collision; for a ball, the impact pulse from the touch. Initial contact and toe-off are
    the first and last instants above 20 N, as a force plate with that threshold would see
    them: IC 2-6 ms after the heel first touches when walking (0.3-1.5 ms running, 0.1-0.3
    ms ball first), TO 0.3-1.2 ms (running) or 2-6 ms (walking's slower unloading; up to
    12 ms in the slow heel-toe drill) before the toe tip leaves. Both the threshold instants
    (``initial_contact_s``, ``toe_off_s``) and the kinematic ones (``touch_s``, ``lift_s``)
    are given; ``impact_ms`` is the duration of the collision pulse (heel) or of the impact
    (ball). ``flight_ms`` runs from a toe-off to the other foot's next initial contact
    (negative: double support). Contacts that span a
    stand (a bout's final landing to the next bout's first push-off) are listed apart.
    Times are on the dense grid's axis, which is the recording's time axis for one sensor
    (timestamps are nominal sampling instants; the true ones jitter by 2 % of a sample); for
    two sensors each has its own clock (start offset, drift, epoch) and the instants are
    given in each clock and in the common one (durations are true durations).

Sensor
    The virtual IMU of :mod:`imu.synth.foot` on a dense grid of ``max(4000, 4 fs)`` Hz: a
    place from ``random_mounting`` (lateral/medial mirrored for the right foot), random
    axes, consumer-grade errors, timestamp jitter, packet loss, front-end saturation
    (16 g, 2000 dps) and a causal 2nd-order low-pass at 0.25-0.5 of the output rate.

Checked against the real walking recording
    (gaitmap example data, lateral shoe sensors, 204.8 Hz; medians, synthetic 1.3 m/s at a
    lateral mount vs real left / right, each at its true / reference events): stance 0.72
    vs 0.73 s; push-off peak rate 547 vs 547 / 597 deg/s; forward-swing peak rate 305 vs
    399 / 388 deg/s (this person's swing is short: 0.36 s vs 0.40 s); mid-stance 1.00 g
    and 8 vs 8 / 12 deg/s; foot-flat 132 vs ~145 ms after IC; terminal-swing specific force
    (largest in the last 100 ms before IC) 6.3 vs 3.5 g; impact peak 6.0 vs 12 / 13 g (the
    real heel strikes ring harder: hard floor, strapped pod; at 1 kHz the synthetic ones are
    11-14 g). Event timing (ms, the sagittal rate = the gyro's first principal axis):
    upward zero crossing of the rate +4.7 vs +1.7 / +7.5 after IC, rate at IC -19 vs -8 /
    -33 deg/s, largest rise of the rate (the collision) +20 vs +27 / +22 after IC, push-off
    rate extreme -5.5 vs -5.9 / -5.4 before TO. ``tests/test_synth_gait.py`` checks these
    with stated tolerances.

Not modelled: midsole deformation beyond the impact sinking, ground compliance, slopes and
curves of the running path, arm swing and trunk, a pod's own mounting resonance beyond the
shoe vibration. In about 0.1 % of running swings the massless toe segment would dip up to
3 mm below the ground 50-80 ms after toe-off (it is taken to be held clear by the toe
extensors; no force).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from imu.recording import STANDARD_GRAVITY, Recording
from imu.synth.curves import Kin as _Kin
from imu.synth.curves import PhaseFn
from imu.synth.curves import append_until as _append_until
from imu.synth.curves import ar1 as _ar1
from imu.synth.curves import bump as _bump
from imu.synth.curves import polyval as _polyval
from imu.synth.curves import quintic as _quintic
from imu.synth.curves import state_at as _state_at
from imu.synth.foot import (
    FootGeometry,
    FootTrack,
    draw_errors,
    min_jerk,
    random_mounting,
    sample_times,
    virtual_imu,
)

G = STANDARD_GRAVITY
DEG = np.pi / 180.0
FORCE_THRESHOLD_N = 20.0
SIDES = ("left", "right")
STRIKES = ("rearfoot", "midfoot", "forefoot")
WALK_KINDS = ("walk", "heel-toe")
#: Plausible ranges of the truth (ms), used by the tests and useful to detectors' authors.
RUN_CONTACT_RANGE_MS = (90.0, 450.0)  # steady strides: 100-300
RUN_FLIGHT_RANGE_MS = (30.0, 170.0)  # steady strides: 50-160
WALK_STANCE_RANGE_MS = (480.0, 1300.0)  # ordinary walking: 550-800


# --------------------------------------------------------------------------------------
# Setups
# --------------------------------------------------------------------------------------


@dataclass
class StridesSetup:
    """A strides session (see :func:`random_strides_setup` for typical values).

    Attributes
    ----------
    n_reps : int
        Stride reps (protocols.md: 4-8).
    rep_s : float
        Running time of a rep, first to last running contact (15-20 s).
    speed_mps : float
        Speed the reps are run at once accelerated (3-4 easy pace, 5-7 strides, 8-9 sprint).
    speed_spread : float
        Relative rep-to-rep standard deviation of the speed.
    strike : {'rearfoot', 'midfoot', 'forefoot'}
        Foot strike at easy pace; rearfoot strikers land flatter as they speed up.
    accel_steps, decel_steps : int
        Steps to reach the rep speed from the start and to slow to a jog at the end.
    fatigue : float
        Relative growth of the contact time over the steady part of a rep (flight shrinks by
        half of it).
    variability : float
        Relative step-to-step standard deviation of contact and flight times (AR(1)).
    asymmetry : float
        The right foot's contacts are longer by this fraction (0.03: 3 %).
    walk_speed_mps : float
        Walking speed of the walk-in, walk-out and walk-back.
    walk_back : bool
        Walk back to the start between reps (else stand and start the next rep in place).
    walk_back_s : float or None
        Duration of the walk-back; None: the rep's distance at the walking speed (capped
        at 90 s).
    walk_back_without_stop : bool or None
        Turn and walk back straight from the walk-out; None: at random per rep.
    rest_s : float
        Standing before each rep after the walk-back.
    start_from_walk : bool or None
        Start each rep from a few walking steps instead of standing; None: at random.
    """

    n_reps: int = 6
    rep_s: float = 15.0
    speed_mps: float = 6.0
    speed_spread: float = 0.04
    strike: str = "rearfoot"
    accel_steps: int = 6
    decel_steps: int = 6
    fatigue: float = 0.03
    variability: float = 0.03
    asymmetry: float = 0.0
    walk_speed_mps: float = 1.3
    walk_back: bool = True
    walk_back_s: float | None = None
    walk_back_without_stop: bool | None = None
    rest_s: float = 10.0
    start_from_walk: bool | None = None

    def __post_init__(self) -> None:
        if self.strike not in STRIKES:
            raise ValueError(f"unknown strike {self.strike!r}; one of {STRIKES}")
        if self.n_reps < 1:
            raise ValueError("n_reps must be at least 1")


@dataclass
class WalkSetup:
    """A walking-drill session (see :func:`random_walk_setup`).

    Attributes
    ----------
    kind : {'walk', 'heel-toe'}
        Ordinary walking or the heel-toe walk (land on the heel, roll to the toes, push off:
        steeper heel landing, slower cadence, longer stance, stronger push-off).
    n_bouts : int
        Walking bouts, each from standing to standing, turning 180 degrees between them.
    bout_s : float
        Duration of a bout.
    speed_mps : float
    variability, fatigue, asymmetry : float
        As in :class:`StridesSetup` (fatigue lengthens the stance over a bout).
    rest_s : float
        Standing between bouts.
    """

    kind: str = "walk"
    n_bouts: int = 2
    bout_s: float = 20.0
    speed_mps: float = 1.3
    variability: float = 0.02
    fatigue: float = 0.0
    asymmetry: float = 0.0
    rest_s: float = 5.0

    def __post_init__(self) -> None:
        if self.kind not in WALK_KINDS:
            raise ValueError(f"unknown walk kind {self.kind!r}; one of {WALK_KINDS}")


def random_strides_setup(rng: np.random.Generator, n_reps: int | None = None) -> StridesSetup:
    """A plausible strides session (protocols.md section 3), drawn at random."""
    u = rng.uniform
    r = rng.random()
    speed = u(3.2, 4.5) if r < 0.15 else u(7.5, 9.0) if r > 0.85 else u(4.5, 7.5)
    strike = str(rng.choice(STRIKES, p=[0.6, 0.2, 0.2]))
    return StridesSetup(
        n_reps=int(n_reps if n_reps is not None else rng.integers(4, 9)),
        rep_s=u(12.0, 20.0),
        speed_mps=speed,
        speed_spread=u(0.0, 0.06),
        strike=strike,
        accel_steps=int(rng.integers(4, 9)),
        decel_steps=int(rng.integers(4, 9)),
        fatigue=u(0.0, 0.08),
        variability=u(0.015, 0.05),
        asymmetry=float(rng.choice([0.0, u(-0.06, 0.06)])),
        walk_speed_mps=u(0.9, 1.6),
        walk_back=bool(rng.random() < 0.85),
        rest_s=u(3.0, 30.0),
    )


def random_walk_setup(rng: np.random.Generator, kind: str | None = None) -> WalkSetup:
    """A plausible walking-drill session, drawn at random."""
    kind = kind or str(rng.choice(WALK_KINDS))
    u = rng.uniform
    return WalkSetup(
        kind=kind,
        n_bouts=int(rng.integers(1, 4)),
        bout_s=u(10.0, 30.0),
        speed_mps=u(0.8, 1.6) if kind == "walk" else u(0.6, 1.1),
        variability=u(0.01, 0.04),
        fatigue=u(0.0, 0.03),
        asymmetry=float(rng.choice([0.0, u(-0.06, 0.06)])),
        rest_s=u(2.0, 10.0),
    )


# --------------------------------------------------------------------------------------
# Analytic helpers (vectorised over samples and over the last axis)
# --------------------------------------------------------------------------------------


def _disp(T, v0, a0, v1, a1):
    """Displacement over T of the quintic whose velocity is the cubic Hermite curve through
    (v0, a0) and (v1, a1): with it the quintic has no wiggle."""
    return T * (v0 + v1) / 2 + T * T * (a0 - a1) / 12


class _Spline:
    """C2 piecewise quintic through knots (t_i, x_i, v_i, a_i); constant outside."""

    def __init__(self, t, x, v, a) -> None:
        self.t = np.asarray(t, float)
        x, v, a = (np.asarray(q, float).reshape(len(self.t), -1) for q in (x, v, a))
        self.c = [
            _quintic(self.t[i + 1] - self.t[i], x[i], v[i], a[i], x[i + 1], v[i + 1], a[i + 1])
            for i in range(len(self.t) - 1)
        ]

    def __call__(self, tq: np.ndarray) -> np.ndarray:
        tt = np.clip(np.asarray(tq, float), self.t[0], self.t[-1])
        idx = np.clip(np.searchsorted(self.t, tt, side="right") - 1, 0, len(self.c) - 1)
        out = np.empty((len(tt), self.c[0].shape[1]))
        for i in np.unique(idx):
            m = idx == i
            out[m] = _polyval(self.c[i], tt[m] - self.t[i])
        return out


def _decay_int(s, tau: float, v, a) -> np.ndarray:
    """Integral from 0 to s of (v + a s') (1 - w(s' / tau)), w(u) = 6u^2 - 8u^3 + 3u^4:
    displacement while a velocity ``v + a s`` is brought to zero by the impact pulse
    ``12 u (1 - u)^2 / tau`` of duration tau; (n, d)."""
    u = np.clip(np.asarray(s, float) / tau, 0.0, 1.0)[:, None]
    i0 = tau * u * (1.0 - 2.0 * u**2 + 2.0 * u**3 - 0.6 * u**4)
    i1 = tau**2 * u**2 * (0.5 - 1.5 * u**2 + 1.6 * u**3 - 0.5 * u**4)
    s2 = np.asarray(s, float)[:, None]
    extra = np.where(s2 < 0, 1.0, 0.0)  # before the impact: free motion
    free = np.atleast_1d(v) * s2 + 0.5 * np.atleast_1d(a) * s2**2
    return (1 - extra) * (np.atleast_1d(v) * i0 + np.atleast_1d(a) * i1) + extra * free


def _stop(s, tau_v: float, tau_h: float, v, a) -> np.ndarray:
    """Displacement of a contact point stopped vertically within tau_v and horizontally
    (shear of the sole, friction) within tau_h; (n, 3)."""
    v, a = np.asarray(v, float), np.asarray(a, float)
    out = _decay_int(s, tau_h, v, a)
    out[:, 2] = _decay_int(s, tau_v, v[2:], a[2:])[:, 0]
    return out


# Stages of a contact point's stop, W(u) from 0 to 1 with W'(0) = W'(1) = 0 (ascending
# coefficients): the soft loading, whose deceleration 12 u^2 (1 - u) grows progressively
# and ends with the collision, and the collision pulse 12 u (1 - u)^2 (as _decay_int).
_W_LOAD = np.array([0.0, 0.0, 0.0, 4.0, -3.0])
_W_HIT = np.array([0.0, 0.0, 6.0, -8.0, 3.0])


class _Stop:
    """A contact point's velocity ``v + a s`` (s from the first touch) brought to zero by
    weighted stages, ``v (1 - sum_k w_k W_k((s - c_k) / d_k))`` with ``sum_k w_k = 1``:
    positions are C2 (the deceleration starts and ends at zero) and exact (polynomials)."""

    def __init__(self, stages) -> None:
        P = np.polynomial.polynomial
        self.stages = [
            (w, c, d, W, P.polyder(W), P.polyint(W), P.polyint(P.polymulx(W)))
            for w, c, d, W in stages
        ]
        self.end = max(c + d for _, c, d, _ in stages)

    def disp(self, s, v: float, a: float) -> np.ndarray:
        """Displacement since the touch (free motion before it)."""
        pv = np.polynomial.polynomial.polyval
        s = np.asarray(s, float)
        out = v * s + 0.5 * a * s**2
        for w, c, d, _, _, q0, q1 in self.stages:
            y = np.clip((s - c) / d, 0.0, 1.0)
            e = c + d
            j = d * ((v + a * c) * pv(y, q0) + a * d * pv(y, q1))
            j = j + np.where(s > e, v * (s - e) + 0.5 * a * (s**2 - e**2), 0.0)
            out = out - w * j
        return out

    def acc(self, s, v: float, a: float) -> np.ndarray:
        """Acceleration minus the free one (the stopping deceleration, opposite to v)."""
        pv = np.polynomial.polynomial.polyval
        s = np.asarray(s, float)
        W = np.zeros_like(s)
        dW = np.zeros_like(s)
        for w, c, d, Wc, dWc, _, _ in self.stages:
            y = np.clip((s - c) / d, 0.0, 1.0)
            W += w * pv(y, Wc)
            dW += w * np.where((s > c) & (s < c + d), pv(y, dWc) / d, 0.0)
        return -a * W - (v + a * s) * dW

    def disp3(self, s, v, a, horizontal: _Stop) -> np.ndarray:
        """(n, 3): horizontal components by ``horizontal``, vertical by this one."""
        out = np.empty((len(np.atleast_1d(s)), 3))
        for k in range(2):
            out[:, k] = horizontal.disp(s, v[k], a[k])
        out[:, 2] = self.disp(s, v[2], a[2])
        return out


def _heel_stops(c0: float, tau: float, tau_h: float, share: float) -> tuple[_Stop, _Stop]:
    """Vertical and horizontal stop of the heel: soft loading from the touch to the end of
    the collision (weight 1 - share) plus the collision pulse (share), which starts at c0
    and lasts tau (vertically) or tau_h (horizontally: shear of the sole, friction)."""
    vert = _Stop([(1 - share, 0.0, c0 + tau, _W_LOAD), (share, c0, tau, _W_HIT)])
    hor = _Stop([(1 - share, 0.0, c0 + tau_h, _W_LOAD), (share, c0, tau_h, _W_HIT)])
    return vert, hor


def _blend_int(s, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """First and second integrals from 0 to s of min_jerk(s' / delta)."""
    s = np.asarray(s, float)
    u = np.clip(s / delta, 0.0, 1.0)
    i1 = delta * u**4 * (2.5 - 3.0 * u + u**2)
    i2 = delta**2 * u**5 * (0.5 - 0.5 * u + u**2 / 7.0)
    x = np.maximum(s - delta, 0.0)  # beyond delta: integrals of 1
    return i1 + x, i2 + 0.5 * delta * x + 0.5 * x**2


def _soft_ramp(x, delta: float) -> np.ndarray:
    """x^3 / (x^2 + delta^2) for x > 0, else 0: C2 at 0, ~x for x >> delta."""
    x = np.maximum(np.asarray(x, float), 0.0)
    return x**3 / (x**2 + delta**2)


def _rot_apply(yaw, pitch, roll, v) -> np.ndarray:
    """Rz(yaw) Ry(pitch) Rx(roll) v for arrays of angles and one vector v (3,): the same
    as ``_rot_apply(yaw, pitch, roll, v)``, without building Rotation objects."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    x, y, z = v
    y1 = y * cr - z * sr
    z1 = y * sr + z * cr
    x2 = x * cp + z1 * sp
    z2 = -x * sp + z1 * cp
    return np.column_stack([x2 * cy - y1 * sy, x2 * sy + y1 * cy, z2])


def _dir(yaw) -> np.ndarray:
    return np.array([np.cos(yaw), np.sin(yaw), 0.0])


def _state_central(fn: PhaseFn, t: float, h: float = 1e-4) -> _Kin:
    ang, pos = fn(t + h * np.arange(-1, 2))

    def d(x):
        return x[1].copy(), (x[2] - x[0]) / (2 * h), (x[2] - 2 * x[1] + x[0]) / h**2

    a0, a1, a2 = d(ang)
    p0, p1, p2 = d(pos)
    return _Kin(a0, a1, a2, p0, p1, p2)


def _sway_fn(rng: np.random.Generator, t0: float, t1: float, amp_rad: float):
    """Postural sway of a standing foot: a few sinusoids (0.3-3 Hz) faded in and out over
    0.5 s at the ends of [t0, t1] (C2); returns a function of absolute time."""
    f = rng.uniform(0.3, 3.0, 4)
    a = rng.normal(0.0, 1.0, 4)
    ph = rng.uniform(0.0, 2 * np.pi, 4)
    dur = max(t1 - t0, 1e-3)
    scale = amp_rad / 2.0 * min(1.0, (dur / 2.0) ** 2)
    ramp = min(0.5, dur / 2)

    def fn(t):
        t = np.asarray(t, float)
        x = np.sin(2 * np.pi * f[None, :] * (t[:, None] - t0) + ph[None, :]) @ a
        env = min_jerk((t - t0) / ramp) * min_jerk((t1 - t) / ramp)
        return scale * x * env

    return fn


# --------------------------------------------------------------------------------------
# The person
# --------------------------------------------------------------------------------------


@dataclass
class _Style:
    """Per-session traits of the person and the shoes (drawn once, shared by both feet)."""

    body_mass_kg: float
    foot_length_m: float
    toe_extra_m: float  # shoe ahead of the toes
    toe_out: float  # rad
    step_width_walk_m: float
    step_width_run_m: float
    # walking
    cad_13: float  # steps/min at 1.3 m/s
    walk_cad_exp: float
    stance_frac_13: float
    walk_strike: float  # rad, dorsiflexion at IC (positive)
    walk_to_pitch: float  # rad
    walk_kappa: float  # rate at toe-off / mean push-off rate
    walk_push_frac: float
    walk_rocker_w0: float  # rad/s
    walk_rocker_wff: float
    walk_zc_s: float  # the late-swing pitch rate crosses zero this long after the touch
    walk_heel_vz: float
    walk_heel_vx: float
    walk_tau: float
    walk_apex_m: float
    # running
    tc_35: float
    tc_exp: float
    cad_35: float  # running steps/min at 3.5 m/s
    cad_exp: float
    strike: str
    run_strike_35: float  # rad, dorsiflexion at IC at 3.5 m/s (negative: forefoot)
    strike_shift: float  # rad per m/s toward the forefoot
    run_to_pitch_35: float
    run_kappa: float
    run_push_frac: float
    run_heel_vz: float
    run_tau_heel: float
    run_tau_ball: float
    run_apex_35: float
    # shared
    toe_roll_from: float  # rad of pitch where the toe segment starts to tilt
    toe_roll_gain: float
    inv_touch: float  # rad, inversion at touch-down
    inv_toe_off: float
    vib_hz: float
    vib_zeta: float
    vib_gain: float
    vib_pitch_gain: float
    m_eff_kg: float
    force_beta: float
    force_c2: float  # walking double hump
    tau_slap: float
    ankle_x_frac: float  # ankle joint ahead of the heel, fraction of foot length
    ankle_h_m: float  # ankle joint above the sole
    tau_shear: float  # horizontal stop of the first contact point / vertical one
    walk_load_s: float  # heel touch to the peak of the collision (impact transient)
    run_load_s: float
    load_share: float  # share of the heel's touch-down speed stopped by the collision


def _draw_style(
    rng: np.random.Generator, strike: str, drill: bool, rng2: np.random.Generator
) -> _Style:
    """The traits; ``rng2`` draws those of the heel's soft loading (so that the plan, drawn
    from ``rng`` afterwards, does not depend on them)."""
    u = rng.uniform
    if strike == "rearfoot":
        s35 = u(8, 22) * DEG
        shift = u(1.0, 3.0) * DEG
    elif strike == "midfoot":
        s35 = u(-3, 3) * DEG
        shift = u(0.0, 1.5) * DEG
    else:
        s35 = -u(5, 14) * DEG
        shift = u(0.0, 1.0) * DEG
    return _Style(
        body_mass_kg=u(50, 95),
        foot_length_m=u(0.23, 0.30),
        toe_extra_m=u(0.01, 0.025),
        toe_out=u(2, 12) * DEG,
        step_width_walk_m=u(0.06, 0.13),
        step_width_run_m=u(0.0, 0.06),
        cad_13=u(80, 100) if drill else u(102, 118),
        walk_cad_exp=u(0.25, 0.4),
        stance_frac_13=u(0.64, 0.70) if drill else u(0.60, 0.69),
        walk_strike=(u(25, 35) if drill else u(17, 30)) * DEG,
        walk_to_pitch=(u(58, 72) if drill else u(52, 68)) * DEG,
        walk_kappa=u(1.7, 2.05),
        walk_push_frac=u(0.27, 0.35),
        walk_rocker_w0=u(200, 320) * DEG,
        walk_rocker_wff=u(70, 150) * DEG,
        walk_zc_s=u(0.002, 0.008),
        walk_heel_vz=u(0.4, 0.9),
        walk_heel_vx=u(0.2, 0.8),
        walk_tau=u(0.004, 0.009),
        walk_apex_m=u(0.06, 0.12),
        tc_35=u(0.22, 0.29),
        tc_exp=u(0.55, 0.8),
        cad_35=u(160, 180),
        cad_exp=u(0.15, 0.3),
        strike=strike,
        run_strike_35=s35,
        strike_shift=shift,
        run_to_pitch_35=u(55, 70) * DEG,
        run_kappa=u(1.5, 2.1),
        run_push_frac=u(0.45, 0.62),
        run_heel_vz=u(0.45, 1.0),
        run_tau_heel=u(0.006, 0.014),
        run_tau_ball=u(0.010, 0.022),
        run_apex_35=u(0.15, 0.25),
        toe_roll_from=u(25, 45) * DEG,
        toe_roll_gain=u(0.3, 0.6),
        inv_touch=u(1, 6) * DEG,
        inv_toe_off=u(3, 12) * DEG,
        vib_hz=u(20, 80),
        vib_zeta=u(0.1, 0.35),
        vib_gain=u(0.05, 0.4),
        vib_pitch_gain=u(0.0, 0.15),
        m_eff_kg=u(1.0, 3.0),
        force_beta=u(-0.3, 0.3),
        force_c2=u(0.15, 0.3),
        tau_slap=u(0.012, 0.03),
        ankle_x_frac=u(0.18, 0.28),
        ankle_h_m=u(0.06, 0.09),
        tau_shear=u(1.5, 3.0),
        walk_load_s=rng2.uniform(0.016, 0.024),
        run_load_s=rng2.uniform(0.012, 0.026),
        load_share=rng2.uniform(0.5, 0.7),
    )


def _run_tc(st: _Style, v: float) -> float:
    return st.tc_35 * (max(v, 1.5) / 3.5) ** (-st.tc_exp)


def _run_tf(st: _Style, v: float) -> float:
    """Flight time: the step time of the cadence model minus the contact time."""
    step = 60.0 / (st.cad_35 * (max(v, 1.5) / 3.5) ** st.cad_exp)
    return float(np.clip(step - _run_tc(st, v), 0.04, 0.155))


def _walk_step_time(st: _Style, v: float) -> float:
    cad = st.cad_13 * (max(v, 0.4) / 1.3) ** st.walk_cad_exp
    return 60.0 / cad


def _walk_stance_frac(st: _Style, v: float) -> float:
    return float(np.clip(st.stance_frac_13 - 0.08 * (v - 1.3), 0.57, 0.72))


# --------------------------------------------------------------------------------------
# Planning: what the person does, step by step
# --------------------------------------------------------------------------------------


@dataclass
class _StepSpec:
    mode: str  # 'walk' or 'run'
    speed: float
    steady: bool
    purpose: str  # 'run', 'walk', 'walk_in', 'walk_out', 'walk_back'
    rep: int | None = None
    turn: float = 0.0  # heading change (rad) with this step
    length_scale: float = 1.0
    q: float = 0.0  # progress through the rep's steady part (fatigue)


def _walk_steps(
    rng: np.random.Generator,
    st: _Style,
    v: float,
    duration_s: float,
    purpose: str,
    turn_at_start: bool,
    start_from_stand: bool = True,
    end_with_stop: bool = True,
) -> list[_StepSpec]:
    """Walking steps of about ``duration_s``, with gait initiation/termination speeds."""
    n = max(4, int(round(duration_s / _walk_step_time(st, v))))
    out = []
    n_turn = int(rng.integers(4, 7)) if turn_at_start else 0  # each foot turns <= 90 deg
    for i in range(n):
        f = 1.0
        if start_from_stand and i < 2:
            f = (0.6, 0.85)[i]
        if end_with_stop and i >= n - 2:
            f = min(f, (0.85, 0.65)[i - (n - 2)])
        turning = i < n_turn
        out.append(
            _StepSpec(
                mode="walk",
                speed=v * f,
                steady=f == 1.0 and not turning,
                purpose=purpose,
                turn=(np.pi / n_turn) * rng.choice([-1.0, 1.0]) if turning else 0.0,
                length_scale=rng.uniform(0.35, 0.6) if turning else 1.0,
            )
        )
    if n_turn:  # one direction for the whole turn
        sgn = np.sign(out[0].turn)
        for s in out[:n_turn]:
            s.turn = abs(s.turn) * sgn
    return out


def _plan_strides(rng: np.random.Generator, setup: StridesSetup, st: _Style) -> list:
    """[('stand', seconds) | ('bout', [_StepSpec, ...]), ...] for a strides session."""
    plan: list = [("stand", rng.uniform(4.0, 8.0))]
    for r in range(setup.n_reps):
        steps: list[_StepSpec] = []
        from_walk = setup.start_from_walk
        if from_walk is None:
            from_walk = bool(rng.random() < 0.3)
        if from_walk:
            steps += _walk_steps(
                rng, st, setup.walk_speed_mps, rng.uniform(2.0, 5.0), "walk_in", False, True, False
            )
        v_rep = setup.speed_mps * float(np.exp(rng.normal(0.0, setup.speed_spread)))
        v0 = rng.uniform(1.8, 2.8)
        k_acc = max(1.0, setup.accel_steps / 3.0)
        run: list[_StepSpec] = []
        elapsed = 0.0
        n_dec = setup.decel_steps
        v_jog = rng.uniform(2.4, 3.0)
        dec_speeds = v_rep + (v_jog - v_rep) * (np.arange(1, n_dec + 1) / n_dec)
        dec_time = sum(_run_tc(st, v) + _run_tf(st, v) for v in dec_speeds)
        i = 0
        while True:
            v = v_rep - (v_rep - v0) * np.exp(-i / k_acc)
            steady = i >= setup.accel_steps
            run.append(_StepSpec("run", float(v), steady, "run", r))
            elapsed += _run_tc(st, v) + _run_tf(st, v)
            i += 1
            if i >= setup.accel_steps + 2 and elapsed + dec_time >= setup.rep_s:
                break
        for v in dec_speeds:
            run.append(_StepSpec("run", float(v), False, "run", r))
        steady_idx = [k for k, s in enumerate(run) if s.steady]
        for j, k in enumerate(steady_idx):
            run[k].q = j / max(1, len(steady_idx) - 1)
        steps += run
        # jog -> walk transition and walk-out
        walk_out = _walk_steps(
            rng, st, setup.walk_speed_mps, rng.uniform(2.0, 6.0), "walk_out", False, False, True
        )
        walk_out[0].speed = max(walk_out[0].speed, 1.7)
        walk_out[0].steady = False
        distance = sum(s.speed * (_run_tc(st, s.speed) + _run_tf(st, s.speed)) for s in run)
        back_s = setup.walk_back_s
        if back_s is None:
            back_s = min(90.0, distance / setup.walk_speed_mps)
        last = r == setup.n_reps - 1
        do_back = setup.walk_back and (not last or rng.random() < 0.5)
        no_stop = setup.walk_back_without_stop
        if no_stop is None:
            no_stop = bool(rng.random() < 0.4)
        if do_back and no_stop:
            walk_out = walk_out[:-2] if len(walk_out) > 4 else walk_out[:2]
            for s in walk_out:
                s.steady = False
            steps += walk_out
            steps += _walk_steps(
                rng, st, setup.walk_speed_mps, back_s, "walk_back", True, False, True
            )
            plan.append(("bout", steps))
            plan.append(("stand", setup.rest_s * rng.uniform(0.8, 1.2)))
        else:
            steps += walk_out
            plan.append(("bout", steps))
            if do_back:
                plan.append(("stand", rng.uniform(2.0, 6.0)))
                plan.append(
                    (
                        "bout",
                        _walk_steps(rng, st, setup.walk_speed_mps, back_s, "walk_back", True),
                    )
                )
            plan.append(("stand", setup.rest_s * rng.uniform(0.8, 1.2)))
    plan[-1] = ("stand", rng.uniform(3.0, 8.0))
    return plan


def _plan_walk(rng: np.random.Generator, setup: WalkSetup, st: _Style) -> list:
    plan: list = [("stand", rng.uniform(3.0, 8.0))]
    for b in range(setup.n_bouts):
        steps = _walk_steps(rng, st, setup.speed_mps, setup.bout_s, "walk", b > 0)
        steady = [s for s in steps if s.steady]
        for j, s in enumerate(steady):
            s.q = j / max(1, len(steady) - 1)
        plan.append(("bout", steps))
        plan.append(("stand", setup.rest_s * rng.uniform(0.8, 1.2)))
    plan[-1] = ("stand", rng.uniform(3.0, 8.0))
    return plan


@dataclass
class _Step:
    """One foot contact of the schedule (common time, kinematic instants)."""

    side: str
    mode: str
    speed: float
    steady: bool
    purpose: str
    rep: int | None
    bout: int
    touch: float | None  # None: the foot was standing (start of a bout)
    lift: float | None  # None: the foot stays standing (end of a bout)
    ball_xy: np.ndarray
    yaw: float  # foot yaw (heading + toe-out)
    heading: float
    step_s: float  # this IC to the other foot's next IC (or a nominal step time)


def _schedule(
    rng: np.random.Generator,
    plan: list,
    st: _Style,
    var: float,
    fatigue: float,
    asym: float,
) -> tuple[list[_Step], float]:
    """Turn a plan into timed foot contacts of both feet; returns (steps, session end)."""
    t = 0.0
    P = np.zeros(2)
    heading = 0.0
    out: list[_Step] = []
    bout_no = 0
    for what, arg in plan:
        if what == "stand":
            t += float(arg)
            continue
        specs: list[_StepSpec] = arg
        n = len(specs)
        lead = SIDES[int(rng.integers(2))]
        other = SIDES[1 - SIDES.index(lead)]
        noise_c = np.exp(_ar1(rng, n, var))
        noise_g = np.exp(_ar1(rng, n, var))
        tc = np.zeros(n)
        g = np.zeros(n)
        side = [lead if i % 2 == 0 else other for i in range(n)]
        for i, s in enumerate(specs):
            a = (1.0 + asym) if side[i] == "right" else 1.0
            if s.mode == "run":
                tc[i] = _run_tc(st, s.speed) * (1 + fatigue * s.q) * noise_c[i] * a
                g[i] = _run_tf(st, s.speed) * (1 - 0.5 * fatigue * s.q) * noise_g[i]
            else:
                T = _walk_step_time(st, s.speed) * noise_g[i]
                stance = 2 * T * _walk_stance_frac(st, s.speed) * (1 + fatigue * s.q)
                tc[i] = stance * noise_c[i] ** 0.5 * a
                g[i] = T - tc[i]
        # The foot's swing (this toe-off to its next touch) must be long enough.
        for i in range(n - 2):
            sw_min = 0.25 if specs[i].mode == "run" else 0.32
            sw = tc[i + 1] + g[i] + g[i + 1]
            if sw < sw_min:
                g[i + 1] += sw_min - sw
        # Times: step 0 = lead foot's first landing.
        push0 = rng.uniform(0.25, 0.45) if specs[0].mode == "walk" else rng.uniform(0.2, 0.35)
        first_swing = rng.uniform(0.36, 0.46) if specs[0].mode == "walk" else rng.uniform(0.3, 0.4)
        lead_to = t + push0
        ic = np.zeros(n)
        ic[0] = lead_to + first_swing
        trail_to = ic[0] - (g[0] if specs[0].mode == "run" else -rng.uniform(0.08, 0.15))
        trail_to = max(trail_to, lead_to + 0.1)
        for i in range(1, n - 1):
            ic[i] = ic[i - 1] + tc[i - 1] + g[i - 1]
        # The closing step: the last foot joins the other one.
        T_last = _walk_step_time(st, specs[-1].speed)
        ic[n - 1] = max(ic[n - 2] + T_last, ic[n - 3] + tc[n - 3] + 0.32 if n >= 3 else 0.0)
        # Positions.
        sgn = {"left": 1.0, "right": -1.0}
        pos0 = {}
        for sd in SIDES:
            w = st.step_width_walk_m if specs[0].mode == "walk" else st.step_width_run_m
            nrm = np.array([-np.sin(heading), np.cos(heading)])
            pos0[sd] = P + sgn[sd] * w / 2 * nrm
        # standing contacts that end with this bout's first toe-offs
        for sd, to_time in ((lead, lead_to), (other, trail_to)):
            out.append(
                _Step(
                    side=sd,
                    mode=specs[0].mode,
                    speed=specs[0].speed,
                    steady=False,
                    purpose="stand",
                    rep=None,
                    bout=bout_no,
                    touch=None,
                    lift=float(to_time),
                    ball_xy=pos0[sd],
                    yaw=heading + sgn[sd] * st.toe_out,
                    heading=heading,
                    step_s=float(_walk_step_time(st, 1.0)),
                )
            )
        for i, s in enumerate(specs):
            heading += s.turn
            step_time = (ic[i + 1] - ic[i]) if i < n - 1 else T_last
            if i == n - 1:  # the closing step: beside the other foot
                L = 0.0
            else:  # the body travels at the step's speed since the previous landing
                L = s.speed * (ic[i] - (ic[i - 1] if i else lead_to)) * s.length_scale
            P = P + L * np.array([np.cos(heading), np.sin(heading)])
            w = st.step_width_walk_m if s.mode == "walk" else st.step_width_run_m
            nrm = np.array([-np.sin(heading), np.cos(heading)])
            stop = i >= n - 2
            out.append(
                _Step(
                    side=side[i],
                    mode=s.mode,
                    speed=s.speed,
                    steady=s.steady,
                    purpose=s.purpose,
                    rep=s.rep,
                    bout=bout_no,
                    touch=float(ic[i]),
                    lift=None if stop else float(ic[i] + tc[i]),
                    ball_xy=P + sgn[side[i]] * w / 2 * nrm,
                    yaw=heading + sgn[side[i]] * st.toe_out,
                    heading=heading,
                    step_s=float(step_time),
                )
            )
        t = ic[n - 1] + 0.6
        bout_no += 1
    return out, t


# --------------------------------------------------------------------------------------
# One foot: contacts and swings
# --------------------------------------------------------------------------------------


@dataclass
class _Contact:
    """A physical ground contact of one foot: the landing of one step (None: standing since
    the session start) and the push-off of the same step, or of the next bout's standing
    start after a stop (None: standing until the session end)."""

    land: _Step | None
    push: _Step | None
    touch: float | None
    lift: float | None
    ball_xy: np.ndarray
    yaw: float


def _foot_contacts(steps: list[_Step], side: str) -> list[_Contact]:
    mine = sorted(
        (s for s in steps if s.side == side), key=lambda s: s.lift if s.touch is None else s.touch
    )
    out: list[_Contact] = []
    pending: _Step | None = None  # a landing after which the foot stands
    for s in mine:
        if s.touch is None:  # standing start: ends the contact that began with a stop
            land = pending
            xy, yaw = (land.ball_xy, land.yaw) if land else (s.ball_xy, s.yaw)
            out.append(_Contact(land, s, land.touch if land else None, s.lift, xy, yaw))
            pending = None
        elif s.lift is None:
            pending = s
        else:
            out.append(_Contact(s, s, s.touch, s.lift, s.ball_xy, s.yaw))
    if pending is not None:
        out.append(_Contact(pending, None, pending.touch, None, pending.ball_xy, pending.yaw))
    return out


@dataclass
class _Stance:
    """What a built contact tells the swings around it and the truth."""

    fn: PhaseFn
    t0: float
    t1: float
    approach: PhaseFn | None  # free motion into the first touch (None: standing before)
    first_point: str | None  # 'heel' or 'ball'
    strike: str | None
    v_touch: np.ndarray | None  # velocity of the first point at touch (m/s)
    a_touch: np.ndarray | None
    tau: float | None  # impact duration
    theta_of_pitch: Callable[[np.ndarray], np.ndarray] | None  # toe tilt during push-off
    p_ic: float | None
    p_to: float | None
    ff_s: float | None  # foot-flat (or heel touch) instant
    ho_s: float | None  # heel-off instant
    mtp_land: float = 0.0  # MTP dorsiflexion the toes land with (rad)
    # deceleration (m/s^2, up) of the first contact point by the ground, s after the touch
    impact_acc: Callable[[np.ndarray], np.ndarray] | None = None


class _Foot:
    """Builds one foot's FootTrack from its contacts."""

    def __init__(
        self, track: FootTrack, rng: np.random.Generator, st: _Style, side: str, toe_len: float
    ) -> None:
        self.track = track
        self.rng = rng
        self.st = st
        self.side = side
        self.inv = -1.0 if side == "left" else 1.0  # inversion lifts the medial (inner) edge
        self.d = track.geometry.heel_to_ball_m
        self.Lt = toe_len
        # the ankle joint in the foot frame (origin at the ball)
        self.ankle = np.array([-self.d + st.ankle_x_frac * st.foot_length_m, 0.0, st.ankle_h_m])

    # -- per-contact parameters -------------------------------------------------------
    def _landing(self, s: _Step) -> dict:
        st, rng = self.st, self.rng
        u = rng.uniform
        if s.mode == "walk":
            strike = st.walk_strike * u(0.9, 1.1) + rng.normal(0, 1.0) * DEG
            strike = float(np.clip(strike, 8 * DEG, 38 * DEG))
            sp = (max(s.speed, 0.5) / 1.3) ** 0.5
            out = {
                "first": "heel",
                "strike": "rearfoot",
                "p_ic": -strike,
                "vz": -st.walk_heel_vz * u(0.8, 1.2) * sp,
                "vx": st.walk_heel_vx * u(0.8, 1.2) * sp,
                "tau": st.walk_tau * u(0.85, 1.15),
                "w0": st.walk_rocker_w0 * u(0.9, 1.1),
                "wff": st.walk_rocker_wff * u(0.85, 1.15),
                # the late-swing dorsiflexion slows through zero around the touch, and
                # goes on slowing through the soft loading until the collision
                "zc": st.walk_zc_s + rng.normal(0.0, 0.0025),
                "al_touch": u(30.0, 110.0),
                "t_col": st.walk_load_s * u(0.85, 1.15),
                "share": st.load_share * u(0.9, 1.1),
                "decel": u(5.0, 20.0),  # terminal-swing deceleration at the touch (m/s^2)
            }
        else:
            v = s.speed
            strike = st.run_strike_35 - st.strike_shift * (v - 3.5) + rng.normal(0, 1.5) * DEG
            strike = float(np.clip(strike, -16 * DEG, 25 * DEG))
            if abs(strike) < 1.0 * DEG:
                strike = 1.0 * DEG if strike >= 0 else -1.0 * DEG
            heel = strike > 0
            out = {
                "first": "heel" if heel else "ball",
                "strike": "rearfoot"
                if strike > 4 * DEG
                else ("midfoot" if strike > -4 * DEG else "forefoot"),
                "p_ic": -strike,
                "vz": -st.run_heel_vz * u(0.85, 1.15) * (v / 3.5) ** 0.3,
                "vx": u(0.1, 0.3) * min(v, 8.0),
                "tau": (st.run_tau_heel if heel else st.run_tau_ball) * u(0.85, 1.15),
                "al_touch": u(20.0, 120.0) if heel else u(-50.0, 50.0),
                "decel": u(10.0, 40.0),
            }
            if heel:
                w0 = float(np.clip(strike / 0.045 * u(0.9, 1.2), 250 * DEG, 900 * DEG))
                # flat landings: the forefoot follows soon, the loading is short
                flat = float(np.clip((strike - 2 * DEG) / (8 * DEG), 0.25, 1.0))
                out.update(
                    w0=w0,
                    wff=w0 * u(0.25, 0.45),
                    zc=u(-0.002, 0.008),
                    t_col=st.run_load_s * u(0.85, 1.15) * flat,
                    share=st.load_share * u(0.9, 1.1),
                )
            else:
                out.update(w_touch=-u(0, 150) * DEG)
        out["roll"] = self.inv * st.inv_touch * u(0.5, 1.5)
        out["yaw_off"] = rng.normal(0, 1.5) * DEG
        out["tau_slap"] = st.tau_slap * u(0.8, 1.2)
        out["w_roll"] = rng.normal(0, 20) * DEG
        out["w_yaw"] = rng.normal(0, 15) * DEG
        return out

    def _pushoff(self, s: _Step, tc: float | None) -> dict:
        st, rng = self.st, self.rng
        u = rng.uniform
        if s.mode == "walk":
            p_to = st.walk_to_pitch * u(0.95, 1.05) * (max(s.speed, 0.5) / 1.3) ** 0.15
            kappa = st.walk_kappa * u(0.92, 1.08)
            frac = st.walk_push_frac * u(0.9, 1.1)
            t_stand = u(0.25, 0.4)
        else:
            p_to = (st.run_to_pitch_35 + 1.0 * DEG * (s.speed - 3.5)) * u(0.95, 1.05)
            kappa = st.run_kappa * u(0.92, 1.08)
            frac = st.run_push_frac * u(0.92, 1.08)
            t_stand = u(0.2, 0.32)
        q = u(0.0, 1.0)  # how early the leg takes over (one draw: force and time)
        return {
            "p_to": float(np.clip(p_to, 40 * DEG, 82 * DEG)),
            "kappa": kappa,
            "t_push": frac * tc if tc is not None else t_stand,
            "roll": self.inv * st.inv_toe_off * u(0.6, 1.4),
            "yaw": -self.inv * u(0.0, 6.0) * DEG,  # the toe turns out at push-off
            "p_sw": st.toe_roll_from * u(0.9, 1.1),
            "k_t": st.toe_roll_gain * u(0.9, 1.1),
            # the reversal: the leg takes over when the force has faded to 20 N + f_rev W
            # (at most rev_lead before 20 N), and would stop the rate within rev_s;
            # min-jerk onset over blend_s
            "f_rev": 0.015 + 0.045 * q,
            "rev_lead": 0.004 + 0.004 * q,
            "rev_s": u(0.016, 0.026),
            "blend_s": u(0.0015, 0.003),
            "a_end": u(0.0, 3000.0) * DEG,  # the rate still rising into the reversal
        }

    def _vibration(self, s, tau, v_imp, t_fade):
        """Damped shoe vibration after an impact: (height m, pitch rad) offsets, faded out
        by ``t_fade`` after the touch."""
        st = self.st
        om = 2 * np.pi * st.vib_hz
        peak = abs(v_imp) * 16 / 9 / tau
        s = np.asarray(s, float)
        env = min_jerk(s / tau) * np.exp(-st.vib_zeta * om * np.maximum(s, 0.0)) * np.sin(om * s)
        env = env * (1 - min_jerk((s - 0.5 * t_fade) / (0.5 * t_fade)))
        return st.vib_gain * peak / om**2 * env, st.vib_pitch_gain * peak / 0.1 / om**2 * env

    def _push_fn(self, Pp: dict, T: float, p_start: float = 0.0, a_start: float = 0.0):
        """Pitch (function of the time since heel-off, or since the lowest pitch of a
        forefoot contact) to the toe tip's lift at T and pitch p_to: a quintic from rest
        that rises to the peak rate (kappa times the mean rate) at the reversal, ``d_rev``
        before the lift, still accelerating (a_end, less if the rise would not stay
        monotonic; if even a zero end acceleration would not, the peak rate is raised);
        then the angular acceleration turns to -w_pk / rev_s within blend_s (min-jerk: C2)
        while the toe tip stays on the ground (the pitch still grows)."""
        p_to, dl = Pp["p_to"], Pp["blend_s"]
        w_pk = min(Pp["kappa"] * (p_to - p_start) / T, 1400 * DEG)
        d = float(np.clip(Pp["d_rev"], 0.0, 0.2 * T))
        i1, i2 = (float(x[0]) for x in _blend_int(np.array([d]), dl))
        # deceleration per unit peak rate (the rate at the lift keeps 45 % of the peak)
        c_al = min(1.0 / Pp["rev_s"], 0.55 / max(i1, 1e-9))
        T1 = T - d
        q = np.linspace(0.0, T1, 200)

        def p_rev(w, a1):  # pitch at the reversal
            return p_to - (w * d + 0.5 * a1 * d * d - (c_al * w + a1) * i2)

        def rising(sp):
            rate = np.diff(sp(q)[:, 0])
            return bool(np.all(np.diff(rate[20:]) > -1e-9 * w_pk))

        k = 0.5 * d * d - i2  # p_rev is linear in a1: the wiggle-free one
        r = p_to - w_pk * d + c_al * w_pk * i2 - p_start - T1 * w_pk / 2
        a_wf = (a_start - 12 * r / T1**2) / (1 - 12 * k / T1**2)
        for a1 in (max(a_wf, Pp["a_end"]), max(a_wf, 0.5 * Pp["a_end"]), max(a_wf, 0.0)):
            sp = _Spline([0.0, T1], [p_start, p_rev(w_pk, a1)], [0.0, w_pk], [a_start, a1])
            if rising(sp):
                break
        else:  # a faster push-off: wiggle-free with a zero end acceleration
            a1 = 0.0
            w_pk = (p_to - p_start - T1**2 * a_start / 12) / (T1 / 2 + d - c_al * i2)
            sp = _Spline([0.0, T1], [p_start, p_rev(w_pk, a1)], [0.0, w_pk], [a_start, a1])
        pr, alpha = p_rev(w_pk, a1), c_al * w_pk

        def fn(s):
            s = np.asarray(s, float)
            out = sp(np.minimum(s, T1))[:, 0]
            x = np.maximum(s - T1, 0.0)
            _, j2 = _blend_int(x, dl)
            rev = pr + w_pk * x + 0.5 * a1 * x * x - (alpha + a1) * j2
            return np.where(s > T1, rev, out)

        return fn

    # -- stance ---------------------------------------------------------------------------
    def contact(self, c: _Contact, t_start: float, t_end: float) -> _Stance:
        L = self._landing(c.land) if c.touch is not None else None
        t0 = c.touch if c.touch is not None else t_start
        t1 = c.lift if c.lift is not None else t_end
        regular = c.land is c.push
        Pp = self._pushoff(c.push, (t1 - t0) if regular else None) if c.lift is not None else None
        if Pp is not None:  # the rate reverses when the force has faded to 20 N + f_rev W,
            # at most rev_lead before it falls below 20 N (slow unloading)
            step = c.land if c.land is not None else c.push
            f_rev = FORCE_THRESHOLD_N + Pp["f_rev"] * self.st.body_mass_kg * G
            tc_f = (t1 - t0) if regular else 0.65
            walking = step.mode == "walk"
            Pp["d_rev"] = min(
                _unload_gap(self.st, tc_f, walking, step.step_s, f_rev),
                _unload_gap(self.st, tc_f, walking, step.step_s, FORCE_THRESHOLD_N)
                + Pp["rev_lead"],
            )
        if L is not None and L["first"] == "ball":
            return self._ball_first(c, L, Pp, t0, t1)
        return self._heel_first(c, L, Pp, t0, t1)

    def _toe_roll(self, Pp: dict | None):
        if Pp is None:
            return None
        p_sw, k_t = Pp["p_sw"], Pp["k_t"]
        return lambda p: k_t * _soft_ramp(np.asarray(p) - p_sw, 15 * DEG)

    def _heel_first(self, c, L, Pp, t0, t1) -> _Stance:
        rng, st = self.rng, self.st
        d, Lt = self.d, self.Lt
        tc = t1 - t0
        psi = c.yaw
        B = np.array([c.ball_xy[0], c.ball_xy[1], 0.0])
        ff = 0.0
        c0 = 0.0  # the collision pulse starts (s after the touch)
        if L is not None:
            p_ic, tau, tau_f = L["p_ic"], L["tau"], L["tau_slap"]
            w0, wff = L["w0"], L["wff"]
            zc, al, share = L["zc"], L["al_touch"], float(np.clip(L["share"], 0.3, 0.85))
            c0 = max(L["t_col"] - tau / 3, 0.0)  # the pulse peaks a third into it
            delta = -p_ic

            def loading_turn(c0, al):  # pitch gained and rate at the collision
                return al * (0.5 * c0 * c0 - zc * c0), al * (c0 - zc)

            rot_c = loading_turn(c0, al)[0]
            if rot_c > 0.3 * delta:  # the foot turns no more than 30 % during the loading
                al *= 0.3 * delta / rot_c
            p_c = p_ic + loading_turn(c0, al)[0]
            p_slap = -min(0.4 * wff * tau_f, 0.5 * -p_c)
            wff = -p_slap / (0.4 * tau_f)
            w0 = max(w0, wff)
            T_r = (p_slap - p_c) / (0.5 * (w0 + wff)) * rng.uniform(1.0, 1.08)
            T_r_min = 1.3 * tau + 0.004
            if T_r < T_r_min:  # almost flat landing: slow the rocker down
                T_r = T_r_min
                wff = -p_c / (1.4 * T_r + 0.4 * tau_f)
                w0 = 1.8 * wff
                p_slap = -0.4 * wff * tau_f
            ff = c0 + T_r + tau_f
        ho = tc + 10.0
        if Pp is not None:
            t_push = Pp["t_push"]
            if L is not None and tc - t_push < ff + 0.008:  # no room: shorter push-off
                t_push = max(0.3 * tc, tc - ff - 0.008)
                if tc - t_push < ff + 0.004:  # and a faster loading and rocker
                    k = (tc - t_push - 0.004) / ff
                    T_r *= k
                    tau_f *= k
                    c0 *= k
                    w0, wff = w0 / k, wff / k
                    ff = c0 + T_r + tau_f
                    tau = min(tau, T_r / 1.3)
            ho = tc - t_push
            push = self._push_fn(Pp, t_push)
        if L is not None:
            tau = min(tau, T_r / 1.3)
            p_c, w_c = loading_turn(c0, al)
            p_c += p_ic
            rocker = _Spline([0.0, T_r], [p_c, p_slap], [w0, wff], [0.0, 0.0])
            w_touch = np.array([-al * zc, L["w_roll"], L["w_yaw"]])
            al_touch = np.array([al, 0.0, 0.0])
            ang0 = np.array([p_ic, L["roll"], psi + L["yaw_off"]])
            ang_c = ang0 + w_touch * c0 + 0.5 * al_touch * c0**2  # at the collision
            # at the collision the pitch rate jumps from the loading's to the rocker's
            dw = np.array([w_c - w0, 0.0, 0.0])
            delta_end = _decay_int(np.array([tau]), tau, dw, al_touch)[0]

        # roll and yaw: knots at the collision, foot-flat, heel-off, toe-off
        r_flat = rng.normal(0, 0.7) * DEG
        kn = []  # (t, roll, roll rate, yaw, yaw rate)
        if L is not None:
            kn.append((c0, ang_c[1], L["w_roll"], ang_c[2], L["w_yaw"]))
            kn.append((ff, r_flat, 0.0, psi, 0.0))
        else:
            kn.append((0.0, 0.0, 0.0, psi, 0.0))
        if Pp is not None:
            # the shoe is not quite still on the ground (upper and midsole deform)
            r_ho = kn[-1][1] + rng.normal(0, 2.0) * DEG * (L is not None)
            y_ho = psi + rng.normal(0, 0.7) * DEG * (L is not None)
            if ho > kn[-1][0] + 0.02:
                kn.append((ho, r_ho, 0.0, y_ho, 0.0))
            else:
                y_ho = kn[-1][3]
            T = tc - ho
            kn.append(
                (
                    tc,
                    Pp["roll"],
                    1.2 * (Pp["roll"] - r_ho) / T,
                    y_ho + Pp["yaw"],
                    1.2 * Pp["yaw"] / T,
                )
            )
        elif tc > kn[-1][0] + 0.3:
            kn.append((tc, 0.0, 0.0, psi, 0.0))
        kn = np.array(kn)
        roll_sp = _Spline(kn[:, 0], kn[:, 1], kn[:, 2], np.zeros(len(kn)))
        yaw_sp = _Spline(kn[:, 0], kn[:, 3], kn[:, 4], np.zeros(len(kn)))
        sway = None
        a0, a1 = t0 + ff + 0.05, t0 + min(ho, tc) - 0.05
        if a1 - a0 > 0.8:
            sway = _sway_fn(rng, a0, a1, rng.uniform(0.02, 0.08) * DEG)

        if L is not None:
            vh = np.array([L["vx"] * np.cos(psi), L["vx"] * np.sin(psi), L["vz"]])
            ax = -L["decel"]
            ah = np.array([ax * np.cos(psi), ax * np.sin(psi), rng.uniform(-3.0, 3.0)])
            tau_h = min(tau * st.tau_shear * rng.uniform(0.8, 1.2), 0.9 * (ff - c0))
            stop_v, stop_h = _heel_stops(c0, tau, tau_h, share)
            slide = stop_v.disp3(np.array([stop_v.end + stop_h.end]), vh, ah, stop_h)[0]
            H0 = B - d * _dir(psi) - slide
            # the collision rings the shoe (gain as for a stop from the touch-down speed)
            v_imp = float(np.linalg.norm(vh))

            def impact_acc(s):
                return stop_v.acc(s, vh[2], ah[2])

        theta = self._toe_roll(Pp)
        tip = B + Lt * _dir(psi)
        arm = np.array([d, 0.0, 0.0])

        def fn(t):
            t = np.asarray(t, float)
            s = t - t0
            n = len(s)
            ang = np.zeros((n, 3))
            ang[:, 1] = roll_sp(s)[:, 0]
            ang[:, 2] = yaw_sp(s)[:, 0]
            pos = np.tile(B, (n, 1))
            if sway is not None:
                ang[:, 0] += sway(t)
            if L is not None:
                m = s < c0  # soft loading: the foot turns freely
                if m.any():
                    sm = s[m][:, None]
                    ang[m] = ang0 + w_touch * sm + 0.5 * al_touch * sm**2
                m = (s >= c0) & (s < c0 + T_r)
                if m.any():
                    ang[m, 0] = rocker(s[m] - c0)[:, 0]
                m = (s >= c0 + T_r) & (s < ff)
                if m.any():
                    sm = s[m] - c0 - T_r
                    ang[m, 0] = p_slap + _decay_int(sm, tau_f, np.array([wff]), 0.0)[:, 0]
                m = (s >= c0) & (s < ff)
                if m.any():
                    sm = s[m] - c0
                    blend = (
                        _decay_int(sm, tau, dw, al_touch) - delta_end * min_jerk(sm / T_r)[:, None]
                    )
                    ang[m] += blend
                m = s < ff
                if m.any():
                    sm = s[m]
                    vz, vp = self._vibration(sm - c0, tau, v_imp, ff - c0)
                    ang[m, 0] += vp
                    rot = _rot_apply(ang[m, 2], ang[m, 0], ang[m, 1], arm)
                    pos[m] = H0 + stop_v.disp3(sm, vh, ah, stop_h) + rot
                    pos[m, 2] += vz
            if Pp is not None:
                m = s > ho
                if m.any():
                    ang[m, 0] = push(s[m] - ho)
                    th = theta(ang[m, 0])
                    dx = Lt * np.cos(th)
                    pos[m, 0] = tip[0] - dx * np.cos(psi)
                    pos[m, 1] = tip[1] - dx * np.sin(psi)
                    pos[m, 2] = Lt * np.sin(th)
            return ang, pos

        approach = None
        if L is not None:

            def approach(t):
                s = (np.asarray(t, float) - t0)[:, None]
                a = ang0 + w_touch * s + 0.5 * al_touch * s**2
                return a, H0 + vh * s + 0.5 * ah * s**2 + _rot_apply(a[:, 2], a[:, 0], a[:, 1], arm)

        return _Stance(
            fn=fn,
            t0=t0,
            t1=t1,
            approach=approach,
            first_point="heel" if L is not None else None,
            strike=L["strike"] if L is not None else None,
            v_touch=vh if L is not None else None,
            a_touch=ah if L is not None else None,
            tau=tau if L is not None else None,
            theta_of_pitch=theta,
            p_ic=L["p_ic"] if L is not None else None,
            p_to=Pp["p_to"] if Pp is not None else None,
            ff_s=t0 + ff if L is not None else None,
            ho_s=t0 + ho if Pp is not None else None,
            mtp_land=self.rng.uniform(0.0, 10.0) * DEG,
            impact_acc=impact_acc if L is not None else None,
        )

    def _ball_first(self, c, L, Pp, t0, t1) -> _Stance:
        rng, st = self.rng, self.st
        Lt = self.Lt
        tc = t1 - t0
        psi = c.yaw
        B = np.array([c.ball_xy[0], c.ball_xy[1], 0.0])
        tau, p_ic = L["tau"], L["p_ic"]
        vb = np.array([L["vx"] * np.cos(psi), L["vx"] * np.sin(psi), L["vz"]])
        ax = -L["decel"]
        ab = np.array([ax * np.cos(psi), ax * np.sin(psi), rng.uniform(-3.0, 3.0)])
        heel_touch = bool(rng.random() < 0.5)
        p_min = 0.0 if heel_touch else rng.uniform(0.15, 0.5) * p_ic
        s_min = rng.uniform(0.3, 0.45) * tc if Pp is not None else rng.uniform(0.08, 0.15)
        s_min = max(s_min, 1.5 * tau)
        tau_h = min(tau * st.tau_shear * rng.uniform(0.8, 1.2), 0.9 * s_min)
        slide = _stop(np.array([max(tau, tau_h)]), tau, tau_h, vb, ab)[0]
        B0 = B - slide
        # The heel drops about the ball: right after the impact the ankle keeps part of the
        # touch-down speed; the rate then slows to zero at the lowest pitch.
        if Pp is not None:
            T2 = tc - s_min
            al_min = rng.uniform(2.0, 5.0) * (Pp["p_to"] - p_min) / T2**2
        else:
            al_min = 0.0
        w_b0 = 2 * ((p_min - p_ic) + s_min**2 * al_min / 12) / s_min  # wiggle-free
        # before the touch the heel was already coming down, a little slower
        w_touch = 0.5 * w_b0 + 0.5 * min(L["w_touch"], 0.0)
        drop = _Spline([0.0, s_min], [p_ic, p_min], [w_b0, 0.0], [0.0, al_min])
        rise = self._push_fn(Pp, tc - s_min, p_min, al_min) if Pp is not None else None
        w_t = np.array([w_touch, L["w_roll"], L["w_yaw"]])
        al_t = np.array([L["al_touch"], 0.0, 0.0])
        dw = w_t - np.array([w_b0, 0.0, 0.0])
        delta_end = _decay_int(np.array([tau]), tau, dw, al_t)[0]
        t_end_kn = tc if Pp is not None else max(tc, s_min + 0.3)
        r_end = Pp["roll"] if Pp is not None else 0.0
        y_end = psi + (Pp["yaw"] if Pp is not None else 0.0)
        T2 = t_end_kn - s_min
        wr_end = 1.2 * r_end / T2 if Pp is not None else 0.0
        wy_end = 1.2 * (y_end - psi) / T2 if Pp is not None else 0.0
        kt = [0.0, s_min, t_end_kn]
        # the touch-down roll and yaw rates are carried by the impact blend below
        roll_sp = _Spline(kt, [L["roll"], 0.0, r_end], [0.0, 0.0, wr_end], np.zeros(3))
        yaw_sp = _Spline(kt, [psi + L["yaw_off"], psi, y_end], [0.0, 0.0, wy_end], np.zeros(3))
        theta = self._toe_roll(Pp)
        tip = B + Lt * _dir(psi)
        v_imp = float(np.linalg.norm(vb))
        stop = _Stop([(1.0, 0.0, tau, _W_HIT)])  # the ball: force and acc rise together
        sway = None
        if Pp is None and tc - s_min > 1.0:
            sway = _sway_fn(rng, t0 + s_min + 0.1, t1 - 0.05, rng.uniform(0.02, 0.08) * DEG)

        def fn(t):
            t = np.asarray(t, float)
            s = t - t0
            ang = np.empty((len(s), 3))
            ang[:, 0] = drop(s)[:, 0]
            if rise is not None:
                m = s > s_min
                if m.any():
                    ang[m, 0] = rise(s[m] - s_min)
            ang[:, 1] = roll_sp(s)[:, 0]
            ang[:, 2] = yaw_sp(s)[:, 0]
            ang += _decay_int(s, tau, dw, al_t) - delta_end * min_jerk(s / s_min)[:, None]
            vz, vp = self._vibration(s, tau, v_imp, s_min)
            ang[:, 0] += vp
            if sway is not None:
                ang[:, 0] += sway(t)
            pos = B0 + _stop(s, tau, tau_h, vb, ab)
            pos[:, 2] += vz
            if theta is not None:
                m = s > s_min
                if m.any():
                    th = theta(ang[m, 0])
                    dx = Lt * np.cos(th)
                    pos[m, 0] = tip[0] - dx * np.cos(psi)
                    pos[m, 1] = tip[1] - dx * np.sin(psi)
                    pos[m, 2] = Lt * np.sin(th)
            return ang, pos

        ang0 = np.array([p_ic, L["roll"], psi + L["yaw_off"]])

        def approach(t):
            s = (np.asarray(t, float) - t0)[:, None]
            return ang0 + w_t * s + 0.5 * al_t * s**2, B0 + vb * s + 0.5 * ab * s**2

        return _Stance(
            fn=fn,
            t0=t0,
            t1=t1,
            approach=approach,
            first_point="ball",
            strike=L["strike"],
            v_touch=vb,
            a_touch=ab,
            tau=tau,
            theta_of_pitch=theta,
            p_ic=p_ic,
            p_to=Pp["p_to"] if Pp is not None else None,
            ff_s=t0 + s_min if heel_touch else None,
            ho_s=t0 + s_min if Pp is not None else None,
            mtp_land=p_ic + rng.uniform(2.0, 8.0) * DEG,
            impact_acc=lambda s: stop.acc(s, vb[2], ab[2]),
        )

    # -- swing ----------------------------------------------------------------------------
    def _ankle(self, fn: PhaseFn) -> PhaseFn:
        """The same phase with the ankle joint in place of the ball."""
        arm = self.ankle

        def g(t):
            ang, pos = fn(t)
            return ang, pos + _rot_apply(ang[:, 2], ang[:, 0], ang[:, 1], arm)

        return g

    def swing(self, prev: _Stance, nxt: _Stance, step: _Step) -> tuple[PhaseFn, dict]:
        """From the toe-off of ``prev`` to the first touch of ``nxt`` (C2 at both ends).

        The leg drives the foot through the ankle: the ankle joint follows smooth curves and
        the foot rotates about it (pitch reversal after toe-off, forward swing, slowing
        before touch-down)."""
        rng = self.rng
        u = rng.uniform
        ta, tb = prev.t1, nxt.t0
        T = tb - ta
        to = _state_at(self._ankle(prev.fn), ta, False)
        td = _state_central(self._ankle(nxt.approach), tb)
        run = step.mode == "run"
        v = step.speed
        # ---- pitch: toe-off -> (fast drop of the rate) -> peak -> forward swing at a
        # near-constant rate -> slowing -> touch-down. Knot rates are fixed or proportional
        # to the forward-swing rate wm, which is solved so the pitch lands where it must.
        p0, w0, a0 = to.ang[0], to.w[0], to.al[0]
        p1, w1, a1 = td.ang[0], td.w[0], td.al[0]
        kt, vf, vc, af, ac = [0.0], [w0], [0.0], [a0], [0.0]
        if run:  # heel kick: the foot keeps pitching (slower) for a third of the swing
            t_a = min(u(0.02, 0.04), 0.1 * T)
            kt.append(t_a)
            vf.append(u(0.08, 0.25) * w0)
            vc.append(0.0)
            af.append(0.0)
            ac.append(0.0)
            t_pk = u(0.28, 0.4) * T
            dt_c = min(u(0.04, 0.07), 0.2 * T)
        else:
            t_pk = min(u(0.012, 0.025), 0.15 * T)
            dt_c = min(u(0.035, 0.06), 0.25 * T)
        t3 = T - dt_c
        t2 = t_pk + (u(0.2, 0.4) if run else u(0.05, 0.2)) * (t3 - t_pk)
        gam = u(0.8, 1.1)
        kt += [t_pk, t2, t3, T]
        vf += [0.0, 0.0, 0.0, w1]
        vc += [0.0, 1.0, gam, 0.0]
        af += [0.0, 0.0, 0.0, a1]
        ac += [(1.0 if run else 1.5) / (t2 - t_pk), 0.0, 0.0, 0.0]
        kt, vf, vc, af, ac = (np.array(x, float) for x in (kt, vf, vc, af, ac))

        def disps(wm):
            v, a = vf + wm * vc, af + wm * ac
            return _disp(np.diff(kt), v[:-1], a[:-1], v[1:], a[1:])

        f0, f1 = disps(0.0).sum(), disps(1.0).sum()
        wm = (p1 - p0 - f0) / (f1 - f0)
        kx = p0 + np.concatenate([[0.0], np.cumsum(disps(wm))])
        pitch_sp = _Spline(kt, kx, vf + wm * vc, af + wm * ac)
        p_peak = float(kx[2 if run else 1])
        # ---- roll, yaw: quintic + a small mid-swing roll
        ry_sp = _Spline(
            [0.0, T], [to.ang[1:], td.ang[1:]], [to.w[1:], td.w[1:]], [to.al[1:], td.al[1:]]
        )
        roll_amp = rng.normal(0, 6.0) * DEG
        yaw_amp = rng.normal(0, 5.0) * DEG
        # ---- ankle: horizontal speed with a plateau (peak about 1.5 times the mean)
        ta_, tb_ = u(0.25, 0.4) * T, u(0.6, 0.75) * T
        gb = u(0.85, 1.1)
        D = td.pos[:2] - to.pos[:2]
        rest = (
            D
            - _disp(ta_, to.vel[:2], to.acc[:2], 0.0, 0.0)
            - _disp(T - tb_, 0.0, 0.0, td.vel[:2], td.acc[:2])
        )
        unit = (
            _disp(ta_, 0.0, 0.0, 1.0, 0.0)
            + _disp(tb_ - ta_, 1.0, 0.0, gb, 0.0)
            + _disp(T - tb_, gb, 0.0, 0.0, 0.0)
        )
        vm = rest / unit
        xa = to.pos[:2] + _disp(ta_, to.vel[:2], to.acc[:2], vm, 0.0)
        xb = xa + _disp(tb_ - ta_, vm, 0.0, gb * vm, 0.0)
        xy_sp = _Spline(
            [0.0, ta_, tb_, T],
            [to.pos[:2], xa, xb, td.pos[:2]],
            [to.vel[:2], vm, gb * vm, td.vel[:2]],
            [to.acc[:2], np.zeros(2), np.zeros(2), td.acc[:2]],
        )
        z_sp = _Spline(
            [0.0, T], [to.pos[2], td.pos[2]], [to.vel[2], td.vel[2]], [to.acc[2], td.acc[2]]
        )
        kap = u(0.65, 0.85) if run else u(0.8, 1.1)  # running: apex at 34-44 % of the swing
        lat = rng.normal(0, 0.01)
        nrm = np.array([-np.sin(step.heading), np.cos(step.heading)])
        # toe segment: the MTP joint relaxes from its toe-off angle to its landing angle
        th_fn = prev.theta_of_pitch
        if th_fn is not None:
            theta_to = float(th_fn(np.array([p0]))[0])
            dtheta = (float(th_fn(np.array([p0 + 1e-5]))[0]) - theta_to) / 1e-5 * w0
        else:
            theta_to = dtheta = 0.0
        m0, r0 = p0 - theta_to, w0 - dtheta
        m_land = nxt.mtp_land
        tau_m = u(0.5, 0.8) * T  # passive toes stay dorsiflexed while the foot is pitched
        arm = self.ankle

        def base(t):
            s = np.asarray(t, float) - ta
            ang = np.empty((len(s), 3))
            ang[:, 0] = pitch_sp(s)[:, 0]
            ang[:, 1:] = ry_sp(s)
            ang[:, 1] += roll_amp * _bump(s / T)
            ang[:, 2] += yaw_amp * _bump(s / T)
            ank = np.empty((len(s), 3))
            ank[:, :2] = xy_sp(s) + lat * _bump(s / T)[:, None] * nrm
            ank[:, 2] = z_sp(s)[:, 0]
            ball = ank - _rot_apply(ang[:, 2], ang[:, 0], ang[:, 1], arm)
            return ang, ball

        def heights(t, ang, pos):
            """Heights of heel, ball and toe tip."""
            s = np.asarray(t, float) - ta
            mtp = m_land + (m0 - m_land + r0 * s) * (1 - min_jerk(s / tau_m))
            z_heel = pos[:, 2] + self.d * np.sin(ang[:, 0]) * np.cos(ang[:, 1])
            z_tip = pos[:, 2] - self.Lt * np.sin(ang[:, 0] - mtp)
            return z_heel, pos[:, 2], z_tip

        # Lift: the ankle's apex when running; heel and ball clear the ground by at least
        # 1-3 cm in mid-swing (the passive toes bend out of the way).
        uq = np.linspace(0.02, 0.98, 97)
        tq = ta + uq * T
        ang_q, pos_q = base(tq)
        bq = _bump(uq**kap)
        low = np.minimum.reduce(heights(tq, ang_q, pos_q)[:2])  # heel and ball
        required = u(0.01, 0.03) * np.clip((np.minimum(uq, 1 - uq) - 0.05) / 0.1, 0.0, 1.0)
        need = float(np.max((required + 0.001 - low) / np.maximum(bq, 1e-4)))
        if run:  # the heel kick lifts the ankle 25-70 cm
            apex = float(np.clip(u(0.25, 0.35) + u(0.04, 0.06) * (v - 3.5), 0.2, 0.7))
            line = float(np.max(z_sp(tq - ta)[:, 0]))
            A = max(apex - line, need, 0.0)
        else:
            A = max(need, u(0.0, 0.02))

        def fn(t):
            ang, pos = base(t)
            s = np.asarray(t, float) - ta
            pos[:, 2] += A * _bump(np.clip(s / T, 0.0, 1.0) ** kap)
            return ang, pos

        def clearance(t):
            ang, pos = fn(t)
            return heights(t, ang, pos)

        return fn, {"heights": clearance, "peak_pitch": p_peak, "swing_rate": float(wm)}

    # -- the whole foot -------------------------------------------------------------------
    def build(self, contacts: list[_Contact], t_end: float) -> list[tuple[_Contact, _Stance]]:
        track = self.track
        prev: _Stance | None = None
        out = []
        self.swings: list[dict] = []
        for c in contacts:
            stance = self.contact(c, track.t_now, t_end)
            if c.touch is not None:
                if prev is None:
                    raise RuntimeError("a landing without a take-off before it")
                fn, sw = self.swing(prev, stance, c.land)
                _append_until(track, c.touch, fn)
                sw.update({"t0": prev.t1, "t1": c.touch})
                self.swings.append(sw)
            _append_until(track, stance.t1, stance.fn)
            out.append((c, stance))
            prev = stance
        return out


# --------------------------------------------------------------------------------------
# Truth: the force-plate instants
# --------------------------------------------------------------------------------------


def _phi(u, walking: bool, beta: float, c2: float):
    u = np.clip(u, 0.0, 1.0)
    base = np.sin(np.pi * u) + (c2 * np.sin(3 * np.pi * u) if walking else 0.0)
    return base * (1.0 + beta * (u - 0.5))


def _force_amp(st: _Style, tc: float, walking: bool, step_s: float) -> tuple[float, float]:
    """Amplitude A (N) and double-hump weight of ``A phi(u)``, whose impulse over the
    contact time tc is body weight times the step time."""
    c2 = st.force_c2 if walking else 0.0
    integral = (2 / np.pi) * (1 + c2 / 3)
    return st.body_mass_kg * G * step_s / (tc * integral), c2


def _unload_gap(st: _Style, tc: float, walking: bool, step_s: float, F: float) -> float:
    """Time (s) from the force's last fall through F to the end of the contact."""
    A, c2 = _force_amp(st, tc, walking, step_s)
    s = tc - np.linspace(0.0, min(0.05, tc / 3), 10001)
    f = A * _phi(s / tc, walking, st.force_beta, c2)
    return tc - float(s[int(np.argmax(f >= F))])


def _force_events(st: _Style, stance: _Stance, walking: bool, step_s: float, regular: bool):
    """(IC, TO, peak force / body weight) as a 20 N force threshold sees them."""
    W = st.body_mass_kg * G
    tc = stance.t1 - stance.t0 if regular else 0.65
    A, c2 = _force_amp(st, tc, walking, step_s)
    ic = to = None
    if stance.approach is not None:
        # the force starts at the touch: the body's share grows with phi, the first contact
        # point's deceleration (soft loading, then the collision) adds the impact transient
        s = np.linspace(0.0, min(0.04, tc / 3), 8001)
        a_imp = stance.impact_acc(s)
        f = A * _phi(s / tc, walking, st.force_beta, c2) + st.m_eff_kg * np.maximum(a_imp, 0.0)
        ic = stance.t0 + float(s[int(np.argmax(f >= FORCE_THRESHOLD_N))])
    if stance.ho_s is not None and stance.t1 is not None:
        to = stance.t1 - _unload_gap(st, tc, walking, step_s, FORCE_THRESHOLD_N)
    uu = np.linspace(0, 1, 401)
    peak = float(np.max(A * _phi(uu, walking, st.force_beta, c2)) / W)
    return ic, to, peak


# --------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------


def _clocks(rng: np.random.Generator) -> dict:
    """Two sensors started 0.5-5 s apart, each with a clock drift of up to +-100 ppm."""
    first = rng.uniform(0.0, 1.0)
    second = first + rng.uniform(0.5, 5.0)
    starts = (first, second) if rng.random() < 0.5 else (second, first)
    return {
        side: {"start_common_s": float(s), "drift_ppm": float(rng.uniform(-100.0, 100.0))}
        for side, s in zip(SIDES, starts, strict=True)
    }


def _motion(seed: int, exercise: str, setup) -> dict:
    """Everything about the session but the sensors: both feet's tracks and the truth on the
    common clock. The same seed and setup give the same motion whichever sensors are made."""
    ss = np.random.SeedSequence(seed)
    r_plan, r_left, r_right, r_clock, r_sens_l, r_sens_r, r_load = (
        np.random.default_rng(s) for s in ss.spawn(7)
    )
    if exercise == "strides":
        setup = setup or random_strides_setup(r_plan)
        st = _draw_style(r_plan, setup.strike, False, r_load)
        plan = _plan_strides(r_plan, setup, st)
    elif exercise == "walk":
        setup = setup or random_walk_setup(r_plan)
        st = _draw_style(r_plan, "rearfoot", setup.kind == "heel-toe", r_load)
        plan = _plan_walk(r_plan, setup, st)
    else:
        raise ValueError(f"unknown exercise {exercise!r}")
    var, fat, asym = setup.variability, setup.fatigue, setup.asymmetry
    clocks = _clocks(r_clock)
    latest = max(c["start_common_s"] for c in clocks.values())
    plan[0] = ("stand", max(plan[0][1], latest + r_clock.uniform(2.0, 4.0)))
    steps, t_moves_end = _schedule(r_plan, plan, st, var, fat, asym)
    t_end = t_moves_end + plan[-1][1]
    for c in clocks.values():
        c["stop_common_s"] = float(t_end - r_clock.uniform(0.05, 2.0))
    geometry = FootGeometry(foot_length_m=st.foot_length_m)
    toe_len = st.foot_length_m * (1 - geometry.heel_to_ball_fraction) + st.toe_extra_m
    return {
        "setup": setup,
        "style": st,
        "steps": steps,
        "t_end": t_end,
        "clocks": clocks,
        "geometry": geometry,
        "toe_len": toe_len,
        "rngs": {"left": r_left, "right": r_right},
        "sensor_rngs": {"left": r_sens_l, "right": r_sens_r},
        "plan": plan,
    }


def _build_feet(m: dict, fs_int: float) -> dict:
    feet = {}
    for side in SIDES:
        track = FootTrack(fs_int, m["geometry"])
        foot = _Foot(track, m["rngs"][side], m["style"], side, m["toe_len"])
        built = foot.build(_foot_contacts(m["steps"], side), m["t_end"])
        feet[side] = {"track": track, "built": built, "foot": foot}
    return feet


def _truth_common(m: dict, feet: dict) -> dict:
    """Contacts, standing contacts, bouts and reps on the common clock."""
    st = m["style"]
    contacts = {s: [] for s in SIDES}
    standing = {s: [] for s in SIDES}
    for side in SIDES:
        track = feet[side]["track"]
        t_d, pitch = track.arrays()[:2]
        for c, stance in feet[side]["built"]:
            regular = c.land is c.push
            step = c.land if c.land is not None else c.push
            walking = step.mode == "walk"
            ic, to, peak = _force_events(st, stance, walking, step.step_s, regular)
            if not regular:
                standing[side].append(
                    {
                        "side": side,
                        "initial_contact_s": ic,
                        "toe_off_s": to,
                        "bout_before": c.land.bout if c.land else None,
                        "bout_after": c.push.bout if c.push else None,
                    }
                )
                continue
            s = c.land
            contacts[side].append(
                {
                    "side": side,
                    "kind": s.mode,
                    "purpose": s.purpose,
                    "rep": s.rep,
                    "bout": s.bout,
                    "steady": bool(s.steady),
                    "speed_mps": float(s.speed),
                    "initial_contact_s": float(ic),
                    "toe_off_s": float(to),
                    "contact_ms": float(1000 * (to - ic)),
                    "touch_s": float(stance.t0),
                    "lift_s": float(stance.t1),
                    "first_point": stance.first_point,
                    "strike": stance.strike,
                    "foot_flat_s": stance.ff_s,
                    "heel_off_s": stance.ho_s,
                    "pitch_ic_deg": float(np.degrees(np.interp(ic, t_d, pitch))),
                    "pitch_to_deg": float(np.degrees(np.interp(to, t_d, pitch))),
                    "touch_speed_mps": float(np.linalg.norm(stance.v_touch)),
                    "impact_ms": float(1000 * stance.tau),
                    "peak_force_bw": peak,
                }
            )
    # Flight, step and stride times need both feet.
    allc = sorted(contacts["left"] + contacts["right"], key=lambda c: c["initial_contact_s"])
    for c in allc:
        other = "right" if c["side"] == "left" else "left"
        same_bout_o = [
            o
            for o in contacts[other]
            if o["bout"] == c["bout"] and o["initial_contact_s"] > c["initial_contact_s"]
        ]
        same_bout_s = [
            o
            for o in contacts[c["side"]]
            if o["bout"] == c["bout"] and o["initial_contact_s"] > c["initial_contact_s"]
        ]
        c["flight_ms"] = (
            float(1000 * (same_bout_o[0]["initial_contact_s"] - c["toe_off_s"]))
            if same_bout_o
            else None
        )
        c["step_ms"] = (
            float(1000 * (same_bout_o[0]["initial_contact_s"] - c["initial_contact_s"]))
            if same_bout_o
            else None
        )
        c["stride_ms"] = (
            float(1000 * (same_bout_s[0]["initial_contact_s"] - c["initial_contact_s"]))
            if same_bout_s
            else None
        )
    # The final landings of a bout (stop) have no next contact in truth["contacts"]; their
    # ICs are in "standing". Flight into a stop landing:
    stops = {s: [x for x in standing[s] if x["initial_contact_s"] is not None] for s in SIDES}
    for c in allc:
        if c["flight_ms"] is None:
            other = "right" if c["side"] == "left" else "left"
            later = [
                x["initial_contact_s"]
                for x in stops[other]
                if x["initial_contact_s"] > c["initial_contact_s"]
            ]
            if later:
                c["flight_ms"] = float(1000 * (min(later) - c["toe_off_s"]))
                c["step_ms"] = float(1000 * (min(later) - c["initial_contact_s"]))
    # Bouts: parts of equal (kind, purpose) in each movement bout; standing in between.
    bouts = []
    n_b = max((s.bout for s in m["steps"]), default=-1) + 1
    t_prev_end = 0.0
    for b in range(n_b):
        starts = [
            x
            for s in SIDES
            for x in standing[s]
            if x["bout_after"] == b and x["toe_off_s"] is not None
        ]
        ends = [
            x
            for s in SIDES
            for x in standing[s]
            if x["bout_before"] == b and x["initial_contact_s"] is not None
        ]
        t_a = min(x["toe_off_s"] for x in starts)
        t_b = max(x["initial_contact_s"] for x in ends)
        bouts.append(
            {"kind": "stand", "start_s": t_prev_end, "end_s": t_a, "purpose": "stand", "rep": None}
        )
        cs = [c for c in allc if c["bout"] == b]
        parts: list[list[dict]] = []
        for c in cs:
            if parts and (parts[-1][-1]["kind"], parts[-1][-1]["purpose"]) == (
                c["kind"],
                c["purpose"],
            ):
                parts[-1].append(c)
            else:
                parts.append([c])
        starts = [t_a] + [min(c["initial_contact_s"] for c in p) for p in parts[1:]]
        for k, p in enumerate(parts):
            # a part ends at its last toe-off, or where the next part begins (walking
            # overlaps by the double support)
            end = t_b if k == len(parts) - 1 else min(max(c["toe_off_s"] for c in p), starts[k + 1])
            bouts.append(
                {
                    "kind": p[0]["kind"],
                    "purpose": p[0]["purpose"],
                    "rep": p[0]["rep"],
                    "start_s": starts[k],
                    "end_s": end,
                    "contacts": len(p),
                }
            )
        t_prev_end = t_b
    bouts.append(
        {
            "kind": "stand",
            "start_s": t_prev_end,
            "end_s": m["t_end"],
            "purpose": "stand",
            "rep": None,
        }
    )
    # Reps (strides): running contacts of both feet.
    reps = []
    rep_ids = sorted({c["rep"] for c in allc if c["kind"] == "run" and c["rep"] is not None})
    for r in rep_ids:
        rc = [c for c in allc if c["kind"] == "run" and c["rep"] == r]
        sc = [c for c in rc if c["steady"]]
        by = {s: [c["contact_ms"] for c in sc if c["side"] == s] for s in SIDES}
        steps_ms = [c["step_ms"] for c in sc if c["step_ms"] is not None]
        reps.append(
            {
                "rep": r,
                "start_s": min(c["initial_contact_s"] for c in rc),
                "end_s": max(c["toe_off_s"] for c in rc),
                "contacts": len(rc),
                "contacts_left": sum(c["side"] == "left" for c in rc),
                "contacts_right": sum(c["side"] == "right" for c in rc),
                "steady_contacts": len(sc),
                "contact_ms_steady": float(np.mean([c["contact_ms"] for c in sc])) if sc else None,
                "flight_ms_steady": float(
                    np.mean([c["flight_ms"] for c in sc if c["flight_ms"] is not None])
                )
                if sc
                else None,
                "cadence_spm_steady": float(60000.0 / np.mean(steps_ms)) if steps_ms else None,
                "speed_mps_steady": float(np.mean([c["speed_mps"] for c in sc])) if sc else None,
                "contact_ms_left": float(np.mean(by["left"])) if by["left"] else None,
                "contact_ms_right": float(np.mean(by["right"])) if by["right"] else None,
            }
        )
    return {"contacts": contacts, "standing": standing, "bouts": bouts, "reps": reps}


def _map_times(obj, fn):
    """Copy of a truth structure with every instant (a float under a key ending in
    ``_s``) mapped by fn."""
    if isinstance(obj, dict):
        return {
            k: (fn(v) if (k.endswith("_s") and isinstance(v, float)) else _map_times(v, fn))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_map_times(v, fn) for v in obj]
    return obj


def _sensor(
    m: dict,
    feet: dict,
    side: str,
    seed: int,
    fs_hz: float,
    mounting: str | None,
    sensor_errors: bool,
    packet_loss: float,
    clock: dict | None,
    exercise: str,
    sensor_range: tuple[float, float] = (16.0, 2000.0),
) -> tuple[Recording, dict]:
    rng = m["sensor_rngs"][side]
    track = feet[side]["track"]
    geometry = m["geometry"]
    where, offset, mount = random_mounting(rng, geometry, mounting)
    if side == "right":  # random_mounting places lateral/medial for a left foot
        offset[1] = -offset[1]
    if clock is None:
        start, stop, drift = 0.0, m["t_end"] - 0.01, 0.0
    else:
        start, stop, drift = (
            clock["start_common_s"],
            clock["stop_common_s"],
            clock["drift_ppm"] * 1e-6,
        )
    t_local, t_stamp = sample_times(
        rng, (stop - start) * (1 + drift), fs_hz, packet_loss=packet_loss
    )
    t_true = start + t_local / (1 + drift)
    errors = draw_errors(rng, fs_hz, *sensor_range) if sensor_errors else None
    lowpass = (rng.uniform(0.25, 0.5) * fs_hz, rng.uniform(0.25, 0.5) * fs_hz)
    acc, gyr = virtual_imu(track, offset, mount, t_true, errors, rng, lowpass_hz=lowpass)
    st = m["style"]
    meta = {
        "sample_rate_hz": f"{fs_hz:g}",
        "side": side,
        "sensor": f"SYNTHETIC: ankle-motion imu.synth.gait {exercise} seed={seed}",
        "foot_length_cm": f"{100 * geometry.foot_length_m:.1f}",
        "body_mass_kg": f"{st.body_mass_kg:.1f}",
        "exercise": exercise,
        "synthetic": "yes",
    }
    rec = Recording(t_s=t_stamp, acc_mps2=acc, gyr_dps=gyr, fs_hz=float(fs_hz), meta=meta)
    info = {
        "mounting": {"place": where, "offset_m": offset.tolist(), "quat": mount.as_quat().tolist()},
        "sensor": {
            "lowpass_hz": list(lowpass),
            "dense_rate_hz": track.fs,
            "range": {"acc_g": float(sensor_range[0]), "gyr_dps": float(sensor_range[1])},
        },
    }
    return rec, info


def _side_truth(common: dict, side: str, m: dict, exercise: str, seed: int, fs_hz: float) -> dict:
    other = "right" if side == "left" else "left"
    st = m["style"]
    return {
        "source": "synthetic",
        "exercise": exercise,
        "seed": seed,
        "sample_rate_hz": fs_hz,
        "side": side,
        "foot_length_cm": 100 * m["geometry"].foot_length_m,
        "heel_to_ball_cm": 100 * m["geometry"].heel_to_ball_m,
        "toe_length_cm": 100 * m["toe_len"],
        "body_mass_kg": st.body_mass_kg,
        "setup": asdict(m["setup"]),
        "model": {k: (float(v) if not isinstance(v, str) else v) for k, v in asdict(st).items()},
        "contacts": common["contacts"][side],
        "other_foot": common["contacts"][other],
        "standing": common["standing"][side],
        "bouts": common["bouts"],
        "reps": common["reps"],
    }


def _session(
    seed, exercise, fs_hz, setup, mounting, sensor_errors, packet_loss, side, sensor_range
):
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    m = _motion(seed, exercise, setup)
    feet = _build_feet(m, max(4000.0, 4.0 * fs_hz))
    common = _truth_common(m, feet)
    rec, info = _sensor(
        m,
        feet,
        side,
        seed,
        fs_hz,
        mounting,
        sensor_errors,
        packet_loss,
        None,
        exercise,
        sensor_range,
    )
    truth = _side_truth(common, side, m, exercise, seed, fs_hz)
    truth.update(info)
    return rec, truth


def strides_session(
    seed: int,
    fs_hz: float = 400.0,
    setup: StridesSetup | None = None,
    mounting: str | None = None,
    sensor_errors: bool = True,
    packet_loss: float = 0.005,
    side: str = "left",
    sensor_range: tuple[float, float] = (16.0, 2000.0),
) -> tuple[Recording, dict]:
    """Synthesize a strides session (standing, reps with walk-back, standing) for one shoe.

    Parameters
    ----------
    seed : int
        Everything random derives from it; the motion (both feet) depends only on seed and
        setup, so the left and right sessions of one seed are the two feet of one session.
    fs_hz : float
        Nominal sensor rate, 100 to 1000 Hz.
    setup : StridesSetup, optional
        Drawn by :func:`random_strides_setup` when omitted.
    mounting : {'laces', 'heel', 'lateral', 'medial'}, optional
        Random when omitted; the axes are always randomly rotated.
    sensor_errors : bool
        Bias, scale error, noise and range limits of a consumer IMU.
    packet_loss : float
        Probability that one BLE packet (12.5 ms of samples) is lost.
    side : {'left', 'right'}
    sensor_range : (float, float)
        Full-scale ranges, accelerometer (g) and gyroscope (deg/s), where the readings
        saturate (with ``sensor_errors``; ideal readings are never clipped). Changing
        them changes nothing else of the session.

    Returns
    -------
    recording : Recording
    truth : dict
        On the recording's time axis (s); durations in ms:

        * ``contacts``: this foot's complete contacts in order: ``initial_contact_s``,
          ``toe_off_s`` (20 N force threshold), ``contact_ms``, ``flight_ms`` (to the other
          foot's next initial contact; negative when walking = double support; None at
          the end of a bout), ``step_ms``, ``stride_ms``, ``kind`` ('run' / 'walk'),
          ``purpose`` ('run', 'walk_in', 'walk_out', 'walk_back', 'walk'), ``rep``,
          ``bout``, ``steady`` (False for acceleration, slowing, turning, first and last
          walking steps), ``speed_mps``, ``touch_s`` / ``lift_s`` (the sole's first touch
          and the toe tip's lift), ``first_point`` ('heel' / 'ball'), ``strike``,
          ``foot_flat_s``, ``heel_off_s``, ``pitch_ic_deg``, ``pitch_to_deg``,
          ``touch_speed_mps``, ``impact_ms``, ``peak_force_bw``.
        * ``other_foot``: the same for the other foot (not recorded by this sensor).
        * ``standing``: contacts that span a stand: ``initial_contact_s`` (a bout's final
          landing, None at the session start) and ``toe_off_s`` (a bout's first
          push-off, None at the end).
        * ``bouts``: ``kind`` ('stand', 'walk', 'run'), ``purpose``, ``rep``,
          ``start_s``, ``end_s`` (movement from the first toe-off from standing to the final
          landing; a run bout from its first initial contact to its last toe-off).
        * ``reps``: per stride rep: ``start_s``, ``end_s``, ``contacts`` (both feet),
          ``contacts_left`` / ``_right``, steady means of contact and flight time,
          ``cadence_spm_steady``, ``speed_mps_steady``, ``contact_ms_left`` / ``_right``.
        * ``mounting``, ``sensor``, ``setup``, ``model`` (drawn traits), foot sizes,
          ``body_mass_kg``.
    """
    return _session(
        seed, "strides", fs_hz, setup, mounting, sensor_errors, packet_loss, side, sensor_range
    )


def walk_session(
    seed: int,
    fs_hz: float = 400.0,
    setup: WalkSetup | None = None,
    mounting: str | None = None,
    sensor_errors: bool = True,
    packet_loss: float = 0.005,
    side: str = "left",
    sensor_range: tuple[float, float] = (16.0, 2000.0),
) -> tuple[Recording, dict]:
    """Synthesize a walking-drill session (walk or heel-toe walk) for one shoe; parameters
    and truth as :func:`strides_session` (no ``reps``; contacts are 'walk')."""
    return _session(
        seed, "walk", fs_hz, setup, mounting, sensor_errors, packet_loss, side, sensor_range
    )


def two_sensor_session(
    seed: int,
    exercise: str = "strides",
    fs_hz: float | tuple[float, float] = 400.0,
    setup: StridesSetup | WalkSetup | None = None,
    mounting: str | tuple[str | None, str | None] | None = None,
    sensor_errors: bool = True,
    packet_loss: float = 0.005,
    clock_epoch_s: tuple[float, float] = (0.0, 0.0),
    sensor_range: tuple[float, float] = (16.0, 2000.0),
) -> tuple[Recording, Recording, dict]:
    """A left and a right recording of the SAME session, each on its own clock.

    Each sensor starts at its own moment (0.5-5 s apart), stops at its own moment, and its
    clock runs fast or slow by up to 100 ppm: a sample stamped ``t`` on sensor ``k`` was
    taken at common time ``start_k + (t - epoch_k) / (1 + drift_k)``.

    Parameters
    ----------
    exercise : {'strides', 'walk'}
    fs_hz : float or (left, right)
    mounting : place for both, or (left, right)
    clock_epoch_s : (left, right)
        What each sensor's clock reads at its first sample (0: time since start).
    sensor_range : (float, float)
        Full-scale ranges of both sensors, accelerometer (g) and gyroscope (deg/s).

    Returns
    -------
    left, right : Recording
    truth : dict
        ``clocks`` (per side: ``start_common_s``, ``stop_common_s``, ``drift_ppm``,
        ``epoch_s``), ``common`` (contacts of both feet, standing, bouts, reps on the
        common clock, whose zero is the start of the motion), ``left`` and ``right``
        (each as the truth of :func:`strides_session`, on that sensor's own clock).
    """
    m = _motion(seed, exercise, setup)
    fss = (fs_hz, fs_hz) if np.isscalar(fs_hz) else tuple(fs_hz)
    mts = mounting if isinstance(mounting, tuple) else (mounting, mounting)
    feet = _build_feet(m, max(4000.0, 4.0 * max(fss)))
    common = _truth_common(m, feet)
    out = {}
    truth: dict = {
        "source": "synthetic",
        "exercise": exercise,
        "seed": seed,
        "clocks": {},
        "common": {
            "contacts": sorted(
                common["contacts"]["left"] + common["contacts"]["right"],
                key=lambda c: c["initial_contact_s"],
            ),
            "standing": common["standing"]["left"] + common["standing"]["right"],
            "bouts": common["bouts"],
            "reps": common["reps"],
        },
    }
    for k, side in enumerate(SIDES):
        clock = dict(m["clocks"][side])
        clock["epoch_s"] = float(clock_epoch_s[k])
        rec, info = _sensor(
            m,
            feet,
            side,
            seed,
            fss[k],
            mts[k],
            sensor_errors,
            packet_loss,
            clock,
            exercise,
            sensor_range,
        )
        start, drift, epoch = clock["start_common_s"], clock["drift_ppm"] * 1e-6, clock["epoch_s"]
        rec.t_s = rec.t_s + epoch
        st_ = _side_truth(common, side, m, exercise, seed, fss[k])

        def to_local(c, start=start, drift=drift, epoch=epoch):
            return float(epoch + (c - start) * (1 + drift))

        st_ = _map_times(st_, to_local)
        st_.update(info)
        st_["clock"] = clock
        truth[side] = st_
        truth["clocks"][side] = clock
        out[side] = rec
    return out["left"], out["right"], truth
