"""Pogo jumps and hops with ground truth: what a shoe-mounted IMU sees of spring work.

Covers double- and single-leg pogo, hops forward/back and side to side, the 10/5 repeated
jump test and the two-minute easy bounce (protocols.md section 2), with standing, weight
shifts, walking and rest around the rounds.

Model
-----
The foot is the rigid foot of :mod:`imu.synth.foot` (pose = Euler angles + ball position
on a dense grid). The body is not simulated segment by segment; it enters through the
ballistic flight it imposes on the foot and through a simple ground-force model that
defines the truth. A bout is a push-off from standing, hops (contact, flight) and a final
landing. Every phase is an analytic function of absolute time evaluated on the dense grid,
so events fall between grid points, and pose, velocity and acceleration are continuous
across phase boundaries (impact and push-off are fast, never discontinuous; only the jerk
may jump, as a force onset does).

Contact: the ball is the pivot
    * Pitch lands plantarflexed (10-35 deg), dips (heel drop) by ``dip`` and rises to the
      take-off pitch:
      ``pitch(u) = p_land + (p_takeoff - p_land) u^m - dip sin(pi g(u))``, ``u`` the
      fraction of contact, ``m`` in 2-3.5 (late, fast push-off), ``g`` a monotone cubic
      whose end slopes set the heel-drop rate just after the impact (the ankle keeps
      25-60 % of its touch-down speed) and the plantarflexion rate at take-off. The heel
      never goes below -1 deg (it may reach about level in soft hops). Roll follows the
      pitch (inversion with plantarflexion, mirrored for the right foot) plus a wobble
      that is larger on one leg; yaw changes a little.
    * Impact: the ball arrives with the flight's velocity (vertical ``g t_f / 2`` plus
      -3..+8 % as the leg reaches for the ground) and is stopped within ``tau`` (10-26 ms,
      per hop +-20 %): its velocity ``v + a s`` is multiplied by ``1 - w(s / tau)``,
      ``w(u) = 6u^2 - 8u^3 + 3u^4``. The deceleration pulse ``12 u (1 - u)^2`` rises
      linearly from zero at first touch (force grows with compression), peaks at a third
      of the impact and fades with zero slope. The ball stops within ``0.4 v tau``, capped
      at 20 mm: the rigid foot lumps the forefoot's compliance (toes and shoe flexing at
      the toe break, midsole, plantar pad, arch) into the ball. Euler-angle rates are
      blended from their flight values to the contact profile by the same pulse. A damped
      shoe/soft-tissue vibration (20-80 Hz, damping ratio 0.1-0.35, 5-25 % of the peak
      deceleration, in the ball's height and in pitch) follows and is faded out before
      push-off; the sole compresses by 1.5-4 mm with the force.
    * After the impact the ball does not move horizontally; its height changes only by
      the sole's compression and the vibration (a few mm).

Flight: ballistic body, the foot moving relative to it
    * The body's vertical velocity is ``+g t_f / 2`` at take-off and ``-g t_f / 2`` at
      landing (jump height ``h = g t_f^2 / 8``). Travelling hops move the foot
      horizontally by the hop distance (0.15-0.45 m, at most 1.1 m/s times the flight,
      back and forth or continuous) along a quintic from rest.
    * Take-off: the ball leaves the ground at rest with continuous (near zero)
      acceleration, then a quintic "catch" brings it to the body's velocity; its duration
      follows from how much further the ball falls behind the body meanwhile (2.5-6 cm
      times ``sqrt(dv / 2 m/s)``: the ankle and knee extend a little after take-off), which
      gives 25-90 ms and the acceleration burst after toe-off that foot IMUs show. The
      push-off plantarflexion rate fades over 30-60 ms.
    * The rest of the flight is a quintic on top of the ballistic path (and a small tuck,
      up to 6 % of the jump height, and a mid-flight dorsiflexion of up to a few degrees)
      that brings the foot to its landing pose, so the specific force in flight is small
      but not zero.

Timing
    Contact and flight times per hop come from the setup's means with fatigue drift
    (contact longer, flight shorter through the round), AR(1) hop-to-hop variation, a
    build-up over the first rebounds of the 10/5 test, and, when the rhythm is lost,
    growing irregularity late in the round and possibly a stop and restart. Contact times
    are kept in 120-350 ms and flight times in 100-550 ms. A bout starts from flat
    standing with a heel rise about the ball (0.1-0.35 s) into the first take-off and ends
    with a landing after which the heel is lowered to flat standing (0.3-0.6 s).

Truth
    The per-foot vertical ground force ``F = F_peak phi(u) + m_eff a_impact``, with
    ``phi(u) = sin(pi u) (1 + beta (u - 1/2))`` and ``F_peak`` from the contact's impulse
    ``share m (g t_c + v_land + v_takeoff)``, defines the events as a force plate with a
    20 N threshold would: landing is the first instant above 20 N (a fraction of a ms
    after the sole first touches), take-off the last one. ``contact_ms`` and ``flight_ms``
    are differences of these instants. The dense grid's time is the recording's time axis
    (the file's timestamps are the nominal sampling instants; the true ones jitter by 2 %
    of a sample).

Sensor
    The virtual IMU of :mod:`imu.synth.foot` on a dense grid of ``max(4000, 4 fs)`` Hz
    (a 5 ms pulse spans 20 points): a place from ``random_mounting`` (lateral/medial
    mirrored for the right foot) with random axes, consumer-grade errors, timestamp jitter,
    packet loss, and the part's own signal chain ahead of sampling: front-end saturation
    at the range (16 g, 2000 dps), then a causal 2nd-order Butterworth low-pass with its
    group delay, cut-off 0.25-0.45 of the output rate (drawn for accelerometer and
    gyroscope separately).

Shape check against published foot-IMU traces
    Shoe-mounted IMUs report impact peaks of roughly 5-15 g in running (RunScribe "impact
    G's" 5-15 g; laces and insole units in Napier et al., Front. Sports Act. Living 2021,
    3:643385, and 2022, 4:802019), where the foot touches down at well under 1 m/s; a
    free-fall-like flight between contacts and a take-off burst in jumping (foot-worn
    jump-height methods detect take-off and landing from these). With the defaults and a
    laces mount at 1000 Hz the impact peaks are (10th/50th/90th percentile) about
    5/8/12 g for the easy bounce, 9/15/25 g for pogo and 16/24/37 g for 10/5 jumps
    without range limit (touch-down at 1.5-2.6 m/s; with the 16 g range these saturate),
    about half of that at 100 Hz; the specific-force norm is 1-3 m/s^2 in the middle of
    long flights, several m/s^2 in short and travelling ones (the foot starts each flight
    at rest on the ground), and 1 g when standing. ``tests/test_synth_hops.py`` checks
    these shapes.

Not modelled: a toe joint (the ball is the pivot; the toes would touch first), heel slap
when the heel reaches the ground, ground compliance (hard floor), a pod's own mounting
resonance on the laces beyond the vibration above, the other foot.
"""

from __future__ import annotations

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
from imu.synth.scenarios import DEG, _sway, _walk, _weight_shift

G = STANDARD_GRAVITY
KINDS = ("pogo", "single-leg", "forward-back", "side-to-side", "ten-five", "easy-bounce")
CONTACT_RANGE_MS = (120.0, 350.0)
FLIGHT_RANGE_MS = (100.0, 550.0)
FORCE_THRESHOLD_N = 20.0


@dataclass
class PogoSetup:
    """What the synthetic athlete does (see :func:`random_pogo_setup` for typical values).

    Attributes
    ----------
    kind : {'pogo', 'single-leg', 'forward-back', 'side-to-side', 'ten-five', 'easy-bounce'}
    n_rounds : int
    round_s : float
        Length of a round (first take-off to last landing), used when
        ``contacts_per_round`` is None.
    contacts_per_round : int or None
        Fixed number of complete contacts (landing and take-off) per round; 10 for the
        10/5 test when None.
    single_leg : bool
        Hops on the sensor foot only (longer contact, shorter flight, more roll).
    contact_ms, flight_ms : float
        Mean contact and flight times at the start of a round.
    fatigue : float
        Relative growth of the contact time from the first to the last hop of a round; the
        flight time shrinks by half that fraction.
    variability : float
        Relative hop-to-hop standard deviation of contact and flight times (AR(1)).
    travel_m : float
        Hop distance of 'forward-back' and 'side-to-side' (0 for in-place kinds).
    continuous : bool
        Travelling hops keep one direction instead of going back and forth over a line.
    lose_rhythm : bool
        Late in a round the contacts become irregular and the athlete may stop and restart.
    stop_restart : bool or None
        Whether a round with lost rhythm has a stop (final landing, a few seconds of
        standing) and a restart; None: at random (60 %) when ``lose_rhythm``.
    rest_between_rounds_s : float
    walk_between_rounds : bool
    """

    kind: str = "pogo"
    n_rounds: int = 2
    round_s: float = 20.0
    contacts_per_round: int | None = None
    single_leg: bool = False
    contact_ms: float = 170.0
    flight_ms: float = 300.0
    fatigue: float = 0.05
    variability: float = 0.04
    travel_m: float = 0.0
    continuous: bool = False
    lose_rhythm: bool = False
    stop_restart: bool | None = None
    rest_between_rounds_s: float = 60.0
    walk_between_rounds: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown pogo kind {self.kind!r}; one of {KINDS}")
        if self.kind == "single-leg":
            self.single_leg = True


def random_pogo_setup(rng: np.random.Generator, kind: str | None = None) -> PogoSetup:
    """A plausible session of protocols.md section 2, drawn at random."""
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    u = rng.uniform
    common = {
        "fatigue": u(0.0, 0.12),
        "variability": u(0.02, 0.06),
        "rest_between_rounds_s": u(30.0, 90.0),
        "walk_between_rounds": bool(rng.random() < 0.6),
    }
    if kind == "ten-five":
        return PogoSetup(
            kind=kind,
            n_rounds=int(rng.integers(1, 4)),
            contacts_per_round=10,
            contact_ms=u(150, 250),
            flight_ms=u(350, 520),
            **{**common, "fatigue": u(0.0, 0.08), "rest_between_rounds_s": u(60, 180)},
        )
    if kind == "easy-bounce":
        return PogoSetup(
            kind=kind,
            n_rounds=1,
            round_s=120.0,
            contact_ms=u(130, 220),
            flight_ms=u(110, 220),
            lose_rhythm=bool(rng.random() < 0.5),
            **{**common, "variability": u(0.03, 0.08)},
        )
    single = kind == "single-leg" or (
        kind in ("forward-back", "side-to-side") and bool(rng.random() < 0.5)
    )
    travel = kind in ("forward-back", "side-to-side")
    return PogoSetup(
        kind=kind,
        n_rounds=int(rng.integers(2, 4)),
        round_s=u(15, 25),
        single_leg=single,
        contact_ms=u(190, 300) if single else u(140, 230),
        flight_ms=(u(180, 320) if single else u(220, 380))
        if travel
        else (u(150, 300) if single else u(200, 380)),
        travel_m=u(0.15, 0.45) if travel else 0.0,
        continuous=bool(travel and rng.random() < 0.3),
        **common,
    )


# --------------------------------------------------------------------------------------
# Small analytic helpers (all vectorised over samples and over the last axis)
# --------------------------------------------------------------------------------------


def _polyint(c: np.ndarray) -> np.ndarray:
    """Coefficients of the integral from 0 (one degree higher)."""
    k = np.arange(1, c.shape[0] + 1, dtype=float)[:, None]
    return np.concatenate([np.zeros((1, c.shape[1])), c / k])


def _impact_w(s: np.ndarray, tau: float) -> np.ndarray:
    """Progress of the impact, 0 -> 1 over tau: w(u) = 6u^2 - 8u^3 + 3u^4.

    Its rate ``12 u (1 - u)^2 / tau`` is the shape of the deceleration pulse: it rises
    linearly from zero (the force on a sole grows with its compression), peaks at a third
    of the impact and fades out with zero slope.
    """
    u = np.clip(np.asarray(s, float) / tau, 0.0, 1.0)
    return u**2 * (6.0 - 8.0 * u + 3.0 * u**2)


def _impact_w_rate(s: np.ndarray, tau: float) -> np.ndarray:
    """d/ds of :func:`_impact_w`."""
    u = np.clip(np.asarray(s, float) / tau, 0.0, 1.0)
    return 12.0 * u * (1.0 - u) ** 2 / tau


def _decay_int(s: np.ndarray, tau: float, v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Integral from 0 to s of (v + a s') (1 - w(s')): the displacement while a velocity
    ``v + a s`` is brought to zero by the impact pulse of duration ``tau``; (n, d)."""
    u = np.clip(np.asarray(s, float) / tau, 0.0, 1.0)[:, None]
    i0 = tau * u * (1.0 - 2.0 * u**2 + 2.0 * u**3 - 0.6 * u**4)
    i1 = tau**2 * u**2 * (0.5 - 1.5 * u**2 + 1.6 * u**3 - 0.5 * u**4)
    return v * i0 + a * i1


def _phi(u: np.ndarray, beta: float) -> np.ndarray:
    """Ground-force shape over the contact (0 at both ends, skewed by beta)."""
    u = np.clip(u, 0.0, 1.0)
    return np.sin(np.pi * u) * (1.0 + beta * (u - 0.5))


def _dip_shape(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Heel-drop profile over the contact: sin(pi g(u)) with g a monotone cubic from 0 to 1
    with slopes a at landing and b at take-off, so the slope is pi a at u = 0 and -pi b at
    u = 1 (a > 1: the heel drops fast right after the impact)."""
    u = np.clip(u, 0.0, 1.0)
    g = (a + b - 2) * u**3 + (3 - 2 * a - b) * u**2 + a * u
    return np.sin(np.pi * g)


def _glide(
    s: np.ndarray,
    T: float,
    x0,
    v0,
    a0,
    x1,
    v1,
    a1,
    v_ref,
    a_ref,
    tau_c: float,
    j0=0.0,
) -> np.ndarray:
    """A free-phase coordinate from state (x0, v0, a0) to (x1, v1, a1) over [0, T].

    It follows a reference motion ``x0 + v_ref s + a_ref s^2 / 2`` (the ballistic body),
    starts with the velocity difference to it, which a quintic "catch" removes within
    ``tau_c`` (starting with jerk ``j0``), and a quintic over the whole phase brings it to
    the end state; (n, d).
    """
    v_ref, a_ref = np.asarray(v_ref, float), np.asarray(a_ref, float)
    cv = _quintic(tau_c, v0 - v_ref, a0 - a_ref, j0, 0.0, 0.0, 0.0)
    cp = _polyint(cv)
    r_c = _polyval(cp, np.minimum(s, tau_c))
    r_end = _polyval(cp, np.array([tau_c]))[0]
    ref_T = x0 + v_ref * T + 0.5 * a_ref * T**2
    cq = _quintic(T, 0.0, 0.0, 0.0, x1 - ref_T - r_end, v1 - (v_ref + a_ref * T), a1 - a_ref)
    s2 = np.asarray(s, float)[:, None]
    return x0 + v_ref * s2 + 0.5 * a_ref * s2**2 + r_c + _polyval(cq, s)


def _catch_duration(d_v: float, s0: float, j0: float, lag: float) -> float:
    """Duration of the take-off catch that lets the ball fall ``lag`` behind the body.

    The smallest positive root of ``d_v T / 2 - s0 T^2 / 10 - j0 T^3 / 120 = lag``; when
    the initial jerk is so steep that no duration gives that lag, the duration that gives
    the most.
    """
    roots = np.roots([j0 / 120.0, s0 / 10.0, -d_v / 2.0, lag])
    real = roots[(np.abs(roots.imag) < 1e-12) & (roots.real > 0)].real
    if len(real):
        return float(real.min())
    crit = np.roots([j0 / 40.0, s0 / 5.0, -d_v / 2.0])
    crit = crit[(np.abs(crit.imag) < 1e-12) & (crit.real > 0)].real
    return float(crit.min()) if len(crit) else 0.025


# --------------------------------------------------------------------------------------
# The athlete
# --------------------------------------------------------------------------------------


@dataclass
class _Style:
    """Per-recording traits of the athlete and the shoe (drawn once)."""

    body_mass_kg: float
    share: float  # fraction of the body's force on this foot
    pitch_land: float  # rad
    dip_frac: float  # heel drop as a fraction of (landing pitch + 1 deg)
    pitch_rise: float  # take-off minus landing pitch, rad
    push_power: float  # exponent m of the push-off profile u^m
    ankle_follow: float  # ankle speed right after the impact / touch-down speed
    beta: float  # force-shape skew
    tau_imp_s: float
    compress_m: float
    vib_hz: float
    vib_zeta: float
    vib_gain: float
    vib_pitch_gain: float
    lag_m: float  # how much further the ball falls behind the body after take-off
    tuck: float  # tuck as a fraction of jump height
    dorsi: float  # mid-flight dorsiflexion (rad) per 0.3 s of flight
    k_inv: float  # inversion per unit plantarflexion
    roll_sd: float  # rad
    wobble_sd: float  # rad
    yaw_sd: float  # rad
    drift_m: float  # in-place hop-to-hop wander
    m_eff_kg: float  # mass stopped by the impact (foot, shoe, part of the shank)
    m_to_kg: float  # mass the leg accelerates at the ball just after take-off


def _draw_style(rng: np.random.Generator, setup: PogoSetup) -> _Style:
    u = rng.uniform
    single = setup.single_leg
    big = setup.kind == "ten-five"
    small = setup.kind == "easy-bounce"
    return _Style(
        body_mass_kg=u(50, 95),
        share=1.0 if single else 0.5,
        pitch_land=(u(18, 35) if big else u(10, 24) if small else u(12, 30)) * DEG,
        dip_frac=u(0.35, 0.9),
        pitch_rise=(u(2, 12) if not small else u(0, 8)) * DEG,
        push_power=u(2.0, 3.5),
        ankle_follow=u(0.25, 0.6),
        beta=u(-0.4, 0.4),
        tau_imp_s=u(0.010, 0.026),
        compress_m=u(0.0015, 0.004),
        vib_hz=u(20, 80),
        vib_zeta=u(0.1, 0.35),
        vib_gain=u(0.05, 0.25),
        vib_pitch_gain=u(0.0, 0.15),
        lag_m=u(0.025, 0.06),
        tuck=u(0.0, 0.06),
        dorsi=u(0.0, 5.0) * DEG,
        k_inv=u(0.0, 0.2),
        roll_sd=(u(2, 4) if single else u(0.5, 1.5)) * DEG,
        wobble_sd=(u(2, 5) if single else u(0.3, 1.0)) * DEG,
        yaw_sd=(u(1.5, 4) if single else u(0.5, 1.5)) * DEG,
        drift_m=u(0.015, 0.03) if single else u(0.005, 0.015),
        m_eff_kg=u(1.0, 3.0),
        m_to_kg=u(1.5, 6.0),
    )


def _round_schedule(rng: np.random.Generator, setup: PogoSetup) -> list[dict]:
    """Contact and flight times (s) of one round, split into bouts (stop and restart).

    Each bout: ``tc`` (n,) contact times and ``tf`` (n + 1,) flights: the first from the
    push-off, the last into the final landing; ``pause_s`` of standing before the next.
    """
    tc0, tf0 = setup.contact_ms / 1000.0, setup.flight_ms / 1000.0
    n_fixed = setup.contacts_per_round
    if n_fixed is None and setup.kind == "ten-five":
        n_fixed = 10
    n = n_fixed if n_fixed is not None else int(np.ceil(1.3 * setup.round_s / (tc0 + tf0))) + 4
    n = max(1, n)
    q = np.arange(n) / max(1, n - 1)
    irregular = np.ones(n)
    if setup.lose_rhythm:
        q0 = rng.uniform(0.55, 0.8)
        irregular += 2.5 * np.clip((q - q0) / (1 - q0), 0, 1)
    sd = setup.variability
    tc = tc0 * (1 + setup.fatigue * q) * np.exp(_ar1(rng, n, sd) * irregular)
    qf = np.arange(n + 1) / n
    irr_f = np.concatenate([irregular, irregular[-1:]])
    tf = tf0 * (1 - 0.5 * setup.fatigue * qf) * np.exp(_ar1(rng, n + 1, sd) * irr_f)
    tf[0] *= rng.uniform(0.85, 1.1)  # the jump from standing
    if setup.kind == "ten-five":  # height is built over the first rebounds
        tf[1:] *= 1 - rng.uniform(0.0, 0.15) * np.exp(-np.arange(n) / 1.2)
    tc = np.clip(tc, CONTACT_RANGE_MS[0] / 1000 + 0.003, CONTACT_RANGE_MS[1] / 1000 - 0.003)
    tf = np.clip(tf, FLIGHT_RANGE_MS[0] / 1000 + 0.003, FLIGHT_RANGE_MS[1] / 1000 - 0.003)
    if n_fixed is None:  # as many hops as fit in the round
        elapsed = tf[0] + np.cumsum(tc + tf[1:])
        n = max(1, int(np.searchsorted(elapsed, setup.round_s)))
        tc, tf = tc[:n], tf[: n + 1]
    cuts = []
    restart = setup.stop_restart
    if restart is None:
        restart = setup.lose_rhythm and bool(rng.random() < 0.6)
    if restart and n >= 20:
        cuts = [int(rng.integers(int(0.6 * n), n - 5))]
    bouts = []
    start = 0
    for cut in [*cuts, n]:
        sl_c = slice(start, cut)
        tf_b = np.concatenate([tf[start : cut + 1]])
        if start > 0:  # a fresh jump from standing after the pause
            tf_b = tf_b.copy()
            tf_b[0] = tf0 * rng.uniform(0.85, 1.1)
        bouts.append({"tc": tc[sl_c], "tf": tf_b, "pause_s": rng.uniform(1.5, 5.0)})
        start = cut
    return bouts


class _Hopper:
    """Drives a FootTrack through bouts of hops and records the truth."""

    def __init__(self, track: FootTrack, rng: np.random.Generator, setup: PogoSetup, side: str):
        self.track = track
        self.rng = rng
        self.setup = setup
        self.st = _draw_style(rng, setup)
        self.sgn = 1.0 if side == "left" else -1.0  # inversion is +roll on the left foot
        self.contacts: list[dict] = []
        self.events: list[dict] = []
        self.stop_landings: list[dict] = []
        self.yaw0 = 0.0  # yaw the athlete faces in the current bout
        self.origin = np.zeros(3)  # where the current bout started (in-place hops wander)

    # -- pieces -------------------------------------------------------------------------
    def _land_pose(self) -> tuple[np.ndarray, float, float]:
        """Landing angles, heel dip and take-off pitch of one contact."""
        st, rng = self.st, self.rng
        p_l = np.clip(st.pitch_land + rng.normal(0, 2.0) * DEG, 6 * DEG, 40 * DEG)
        r_l = self.sgn * st.k_inv * p_l + rng.normal(0, st.roll_sd)
        y_l = self.yaw0 + rng.normal(0, st.yaw_sd)
        dip = np.clip(st.dip_frac * rng.uniform(0.85, 1.15), 0.1, 1.0) * (p_l + 1 * DEG)
        p_t = np.clip(p_l + st.pitch_rise + rng.normal(0, 2.0) * DEG, p_l - 3 * DEG, 50 * DEG)
        return np.array([p_l, r_l, y_l]), float(dip), float(p_t)

    def _touchdown(self, pos_land: np.ndarray, tf: float, disp: np.ndarray, ang: np.ndarray):
        """Foot state at first touch for a flight of ``tf`` landing on ``pos_land``."""
        rng = self.rng
        v_body = G * tf / 2
        vel = np.zeros(3)
        vel[:2] = rng.uniform(0.1, 0.5) * disp[:2] / tf
        vel[2] = -v_body * (1 + rng.uniform(-0.03, 0.08))  # the leg reaches for the ground
        acc = np.array([0.0, 0.0, -G + rng.uniform(-0.5, 2.0)])
        # The ball stops within 0.4 v tau: at most 20 mm of forefoot compliance.
        tau = min(self.st.tau_imp_s * rng.uniform(0.8, 1.2), 0.02 / (0.4 * abs(vel[2])))
        slide = _decay_int(np.array([tau]), tau, vel, acc)[0]
        w = np.array([rng.normal(0, 1.0), rng.normal(0, 0.3), rng.normal(0, 0.3)])
        td = _Kin(ang, w, np.zeros(3), pos_land - slide, vel, acc)
        return td, tau

    def _vibration(self, s, tau, v_imp, tc, t_fade0=0.6):
        """Damped shoe vibration after the impact: (height m, pitch rad) offsets."""
        st = self.st
        om = 2 * np.pi * st.vib_hz
        peak = abs(v_imp) * 16 / 9 / tau  # peak deceleration of the ball
        env = min_jerk(s / tau) * np.exp(-st.vib_zeta * om * s) * np.sin(om * s)
        env = env * (1 - min_jerk((s / tc - t_fade0) / (1 - t_fade0)))
        return st.vib_gain * peak / om**2 * env, st.vib_pitch_gain * peak / 0.1 / om**2 * env

    def _force_truth(self, t_l, tc, td, tau, f_peak, beta, takeoff: bool):
        """Threshold-crossing instants of the per-foot vertical ground force."""
        st = self.st
        s = np.linspace(0.0, min(0.004, tc / 3), 801)
        w_dot = _impact_w_rate(s, tau)
        a_imp = -td.acc[2] * _impact_w(s, tau) - (td.vel[2] + td.acc[2] * s) * w_dot
        f = f_peak * _phi(s / tc, beta) + st.m_eff_kg * np.maximum(a_imp, 0.0)
        landing = t_l + s[int(np.argmax(f >= FORCE_THRESHOLD_N))]
        if not takeoff:
            return landing, None
        s2 = tc - np.linspace(0.0, min(0.006, tc / 3), 1201)
        f2 = f_peak * _phi(s2 / tc, beta)
        return landing, t_l + s2[int(np.argmax(f2 >= FORCE_THRESHOLD_N))]

    def _contact_fn(self, t_l, tc, td: _Kin, tau, dip, ang_t, beta, wobble) -> PhaseFn:
        st = self.st
        m = st.push_power
        ang_l = td.ang
        comp = st.compress_m
        # Heel drop right after the impact: the ankle keeps part of its touch-down speed.
        r_ankle = 0.65 * self.track.geometry.heel_to_ball_m
        w_drop = st.ankle_follow * abs(td.vel[2]) / r_ankle * self.rng.uniform(0.85, 1.15)
        a_dip = float(np.clip(w_drop * tc / (max(dip, 1e-3) * np.pi), 0.7, 2.6))
        b_dip = self.rng.uniform(0.7, 1.3)

        def base(t):
            u = np.clip((np.asarray(t) - t_l) / tc, 0.0, 1.0)
            ph = _phi(u, beta)
            out = np.empty((len(u), 3))
            out[:, 0] = ang_l[0] + (ang_t[0] - ang_l[0]) * u**m - dip * _dip_shape(u, a_dip, b_dip)
            out[:, 1] = ang_l[1] + (ang_t[1] - ang_l[1]) * min_jerk(u) + wobble * ph
            out[:, 2] = ang_l[2] + (ang_t[2] - ang_l[2]) * min_jerk(u)
            return out

        b0 = _state_at(lambda t: (base(t), np.zeros((len(t), 3))), t_l, True)
        dw, dal = td.w - b0.w, td.al - b0.al
        delta_end = _decay_int(np.array([tau]), tau, dw, dal)[0]
        touch = td.pos

        def fn(t):
            s = np.asarray(t) - t_l
            u = np.clip(s / tc, 0.0, 1.0)
            vz, vp = self._vibration(s, tau, td.vel[2], tc)
            ang = base(t) + _decay_int(s, tau, dw, dal) - delta_end * min_jerk(u)[:, None]
            ang[:, 0] += vp
            pos = touch + _decay_int(s, tau, td.vel, td.acc)
            pos[:, 2] += -comp * _phi(u, beta) * _impact_w(s, tau) + vz
            return ang, pos

        return fn

    def _stop_fn(self, t_l, t_settle, td: _Kin, tau) -> PhaseFn:
        """The last landing of a bout: the heel is lowered to flat standing."""
        rng = self.rng
        ang_end = np.array([0.0, 0.0, td.ang[2]])
        w0 = np.array([-rng.uniform(0.9, 1.5) * td.ang[0] / t_settle, 0.0, 0.0])
        coef = _quintic(t_settle, td.ang, w0, 0.0, ang_end, 0.0, 0.0)
        dw, dal = td.w - w0, td.al
        delta_end = _decay_int(np.array([tau]), tau, dw, dal)[0]
        comp = self.st.compress_m

        def fn(t):
            s = np.asarray(t) - t_l
            u = np.clip(s / t_settle, 0.0, 1.0)
            vz, vp = self._vibration(s, tau, td.vel[2], t_settle, 0.3)
            ang = _polyval(coef, np.clip(s, 0.0, t_settle))
            ang += _decay_int(s, tau, dw, dal) - delta_end * min_jerk(u)[:, None]
            ang[:, 0] += vp
            pos = td.pos + _decay_int(s, tau, td.vel, td.acc)
            pos[:, 2] += -comp * _bump(u) * _impact_w(s, tau) + vz
            return ang, pos

        return fn

    def _flight_fn(
        self, t_to, tf, to: _Kin, td: _Kin, disp: np.ndarray, jerk0: float = 0.0
    ) -> PhaseFn:
        st, rng = self.st, self.rng
        v_body = G * tf / 2
        # The catch: the ball, at rest at take-off, is brought to the body's velocity. Its
        # vertical acceleration is continuous at take-off and starts growing at ``jerk0``
        # (the rate at which the ground force fell, now taken up by the leg: see bout()).
        # Its duration follows from how much further the ball falls behind (the leg
        # extends a little more after take-off: ankle, knee),
        # lag = D tau / 2 - s0 tau^2 / 10 - j0 tau^3 / 120 for the quintic used, with D
        # the speed difference, s0 its initial rate and j0 the initial jerk.
        d_v = max(v_body - to.vel[2], 0.05)
        s0 = G + to.acc[2]
        lag = st.lag_m * rng.uniform(0.8, 1.2) * np.sqrt(d_v / 2.0)
        tau_c = _catch_duration(d_v, s0, jerk0, lag)
        tau_c = float(np.clip(tau_c, 0.025, 0.4 * tf))
        tau_a = min(rng.uniform(0.03, 0.06), 0.4 * tf)  # the push-off rotation fades
        # Horizontally the foot goes from rest to its landing spot along a quintic; only
        # the vertical follows the ballistic body (after the catch).
        v_ref = np.array([0.0, 0.0, v_body])
        a_ref = np.array([0.0, 0.0, -G])
        tuck = st.tuck * rng.uniform(0.5, 1.5) * G * tf**2 / 8
        dorsi = st.dorsi * rng.uniform(0.5, 1.5) * tf / 0.3

        def fn(t):
            s = np.clip(np.asarray(t) - t_to, 0.0, tf)
            pos = _glide(
                s,
                tf,
                to.pos,
                to.vel,
                to.acc,
                td.pos,
                td.vel,
                td.acc,
                v_ref,
                a_ref,
                tau_c,
                j0=np.array([0.0, 0.0, jerk0]),
            )
            pos[:, 2] += tuck * _bump(s / tf)
            ang = _glide(s, tf, to.ang, to.w, to.al, td.ang, td.w, td.al, 0.0, 0.0, tau_a)
            ang[:, 0] -= dorsi * _bump(s / tf)
            return ang, pos

        return fn

    # -- a bout: push-off from standing, hops, final landing ----------------------------
    def bout(self, tc: np.ndarray, tf: np.ndarray, round_idx: int) -> None:
        track, rng, st = self.track, self.rng, self.st
        p0, r0, y0, ball0 = track.state
        self.yaw0 = y0
        self.origin = ball0.copy()
        # Push-off from flat standing: heel rise about the ball, then take-off.
        _, _, p_t = self._land_pose()  # the pitch it will take off with
        w_t = rng.uniform(2.5, 5.0)
        ang_t = np.array([p_t, self.sgn * st.k_inv * p_t + rng.normal(0, st.roll_sd / 2), y0])
        t_push = rng.uniform(1.6, 2.3) * (p_t - p0) / w_t
        t0 = track.t_now
        coef = _quintic(t_push, np.array([p0, r0, y0]), 0.0, 0.0, ang_t, [w_t, 0, 0], 0.0)

        def push(t, coef=coef, t0=t0):
            ang = _polyval(coef, np.clip(np.asarray(t) - t0, 0.0, t_push))
            return ang, np.tile(ball0, (len(ang), 1))

        t_to = t0 + t_push
        _append_until(track, t_to, push)
        to = _state_at(push, t_to, False)
        f_push = st.share * st.body_mass_kg * (G * t_push + G * tf[0] / 2) / (t_push * 2 / np.pi)
        s2 = np.linspace(0.0, 0.006, 1201)
        lift = (
            t_to - s2[int(np.argmax(f_push * np.sin(np.pi / 2 * s2 / t_push) >= FORCE_THRESHOLD_N))]
        )
        self.events.append(
            {"t_s": float(lift), "kind": "takeoff", "round": round_idx, "from_standing": True}
        )
        # Force continuity: the ball's acceleration after take-off grows from zero at the
        # rate the ground force fell (dF/dt at F = 0) over the mass the leg now pulls.
        jerk0 = f_push * np.pi / (2 * t_push) / st.m_to_kg
        prev_takeoff = float(lift)
        pos = ball0.copy()
        direction = 1.0 if rng.random() < 0.5 else -1.0
        n = len(tc)
        for k in range(n + 1):
            # Where and how the foot lands.
            if self.setup.travel_m > 0:
                yaw = self.yaw0
                fwd = np.array([np.cos(yaw), np.sin(yaw), 0.0])
                left = np.array([-np.sin(yaw), np.cos(yaw), 0.0])
                axis = fwd if self.setup.kind == "forward-back" else left
                # The foot covers the hop distance in the flight: at most about 1.1 m/s.
                dist = min(self.setup.travel_m * rng.uniform(0.85, 1.15), 1.1 * tf[k])
                disp = direction * dist * axis + rng.normal(0, 0.5 * st.drift_m, 3) * [1, 1, 0]
                if not self.setup.continuous:
                    direction = -direction
            else:
                disp = rng.normal(0, st.drift_m, 3) - 0.3 * (pos - self.origin)
                disp[2] = 0.0
            pos_land = pos + disp
            pos_land[2] = 0.0
            ang_l, dip, p_t = self._land_pose()
            td, tau = self._touchdown(pos_land, tf[k], disp, ang_l)
            t_l = t_to + tf[k]
            fl = self._flight_fn(t_to, tf[k], to, td, disp, jerk0)
            _append_until(track, t_l, fl)
            v_land = G * tf[k] / 2
            if k == n:  # the final landing: heel down to flat standing
                t_settle = rng.uniform(0.3, 0.6)
                fn = self._stop_fn(t_l, t_settle, td, tau)
                _append_until(track, t_l + t_settle, fn)
                f_peak = st.share * st.body_mass_kg * (G * t_settle + v_land) / t_settle * 1.2
                landing, _ = self._force_truth(t_l, t_settle, td, tau, f_peak, 0.0, False)
                landing = float(landing)
                self.events.append(
                    {"t_s": landing, "kind": "landing", "round": round_idx, "stop": True}
                )
                self.stop_landings.append(
                    {
                        "landing_s": landing,
                        "round": round_idx,
                        "flight_ms": float(1000 * (landing - prev_takeoff)),
                    }
                )
                self._set_flight(prev_takeoff, landing, round_idx)
                break
            beta = st.beta + rng.normal(0, 0.1)
            tck = tc[k]
            dip *= np.sqrt(tck / (self.setup.contact_ms / 1000.0))
            dip = min(dip, ang_l[0] + 1 * DEG)
            ang_t = np.array(
                [p_t, self.sgn * st.k_inv * p_t + rng.normal(0, st.roll_sd / 2), ang_l[2]]
            )
            ang_t[2] += rng.normal(0, 0.3 * DEG)
            wobble = self.sgn * rng.normal(0, st.wobble_sd)
            fn = self._contact_fn(t_l, tck, td, tau, dip, ang_t, beta, wobble)
            t_to = t_l + tck
            _append_until(track, t_to, fn)
            to = _state_at(fn, t_to, False)
            v_next = G * tf[k + 1] / 2
            f_peak = st.share * st.body_mass_kg * (G * tck + v_land + v_next) / (tck * 2 / np.pi)
            landing, takeoff = self._force_truth(t_l, tck, td, tau, f_peak, beta, True)
            jerk0 = f_peak * np.pi * (1 + beta / 2) / tck / st.m_to_kg  # -dF/dt at u = 1
            self._set_flight(prev_takeoff, landing, round_idx)
            self.contacts.append(
                {
                    "round": round_idx,
                    "landing_s": float(landing),
                    "takeoff_s": float(takeoff),
                    "contact_ms": float(1000 * (takeoff - landing)),
                    "flight_ms": None,
                    "peak_force_bw": float(f_peak / (st.body_mass_kg * G)),
                    "impact_ms": float(1000 * tau),
                    "touch_speed_mps": float(-td.vel[2]),
                }
            )
            self.events.append({"t_s": float(landing), "kind": "landing", "round": round_idx})
            self.events.append({"t_s": float(takeoff), "kind": "takeoff", "round": round_idx})
            prev_takeoff = float(takeoff)
            pos = pos_land

    def _set_flight(self, prev_takeoff: float, landing: float, round_idx: int) -> None:
        """Set the flight time of the previous contact of the round (to this landing)."""
        if self.contacts and self.contacts[-1]["round"] == round_idx:
            c = self.contacts[-1]
            if c["flight_ms"] is None and abs(c["takeoff_s"] - prev_takeoff) < 1e-12:
                c["flight_ms"] = float(1000 * (landing - prev_takeoff))


def pogo_motion(
    rng: np.random.Generator, setup: PogoSetup, fs_internal_hz: float, side: str = "left"
) -> tuple[FootTrack, dict]:
    """The foot's motion through a pogo session on the dense grid, with its truth.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of everything random (person, shoe, hop-to-hop variation).
    setup : PogoSetup
    fs_internal_hz : float
        Rate of the dense grid (4000 Hz or more resolves a 5 ms impact with 20 points).
    side : {'left', 'right'}

    Returns
    -------
    track : FootTrack
        Dense pose; its time axis (0 at the first point) is the truth's time axis.
    truth : dict
        ``contacts``, ``stop_landings``, ``events``, ``rounds``, ``segments``, ``model``
        (the athlete's drawn traits), ``body_mass_kg`` (see :func:`pogo_session`).
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    geometry = FootGeometry(foot_length_m=rng.uniform(0.23, 0.30))
    fs_int = float(fs_internal_hz)
    track = FootTrack(fs_int, geometry)
    hopper = _Hopper(track, rng, setup, side)
    segments: list[dict] = []

    def seg(kind: str, fn, *args) -> None:
        t0 = track.t_now
        fn(*args)
        segments.append({"kind": kind, "start_s": t0, "end_s": track.t_now})

    def stand(duration: float, amp_deg: float = 0.03) -> None:
        n = track.samples(duration)
        track.hold(duration, _sway(rng, n, fs_int, amp_deg * DEG))

    seg("standing", stand, rng.uniform(2.0, 5.0))
    if rng.random() < 0.5:
        seg("weight_shift", _weight_shift, track, rng)
        seg("standing", stand, rng.uniform(1.0, 2.0))
    rounds = []
    for r in range(setup.n_rounds):
        t_round = track.t_now
        n_before = len(hopper.contacts)
        bouts = _round_schedule(rng, setup)
        for b, bout in enumerate(bouts):
            hopper.bout(bout["tc"], bout["tf"], r)
            track.hold(0.05)
            if b < len(bouts) - 1:
                stand(bout["pause_s"], 0.1)
        segments.append({"kind": "round", "start_s": t_round, "end_s": track.t_now})
        cs = hopper.contacts[n_before:]
        stops = [s for s in hopper.stop_landings if s["round"] == r]
        firsts = [e["t_s"] for e in hopper.events if e["round"] == r and e.get("from_standing")]
        rounds.append(
            {
                "round": r,
                "start_s": min([c["landing_s"] for c in cs] + [s["landing_s"] for s in stops]),
                "end_s": stops[-1]["landing_s"],
                "first_takeoff_s": firsts[0],
                "last_takeoff_s": cs[-1]["takeoff_s"] if cs else firsts[-1],
                "contacts": len(cs),
                "restarts": len(bouts) - 1,
            }
        )
        if r < setup.n_rounds - 1:
            rest = setup.rest_between_rounds_s
            seg("rest", stand, 0.3 * rest)
            seg("weight_shift", _weight_shift, track, rng)
            if setup.walk_between_rounds:
                n_str = int(rng.integers(2, 5))
                seg("walking", _walk, track, rng, n_str, np.pi)
                seg("rest", stand, 2.0)
                seg("walking", _walk, track, rng, n_str, np.pi)
            else:
                seg("rest", stand, 0.4 * rest)
            seg("weight_shift", _weight_shift, track, rng)
            seg("rest", stand, 0.3 * rest)
    seg("standing", stand, rng.uniform(2.0, 4.0))

    t_dense, pitch, roll, yaw, ball = track.arrays()
    # True pitch at the events (dense grid, 0.25 ms or finer).
    for c in hopper.contacts:
        i0 = int(np.floor(c["landing_s"] * fs_int))
        i1 = int(np.ceil(c["takeoff_s"] * fs_int)) + 1
        c["pitch_landing_deg"] = float(np.degrees(np.interp(c["landing_s"], t_dense, pitch)))
        c["pitch_takeoff_deg"] = float(np.degrees(np.interp(c["takeoff_s"], t_dense, pitch)))
        c["pitch_min_deg"] = float(np.degrees(pitch[i0:i1].min()))

    st = hopper.st
    return track, {
        "contacts": hopper.contacts,
        "stop_landings": hopper.stop_landings,
        "events": sorted(hopper.events, key=lambda e: e["t_s"]),
        "rounds": rounds,
        "segments": segments,
        "model": {k: float(v) for k, v in asdict(st).items()},
        "body_mass_kg": st.body_mass_kg,
    }


def pogo_session(
    seed: int,
    fs_hz: float = 400.0,
    setup: PogoSetup | None = None,
    mounting: str | None = None,
    sensor_errors: bool = True,
    packet_loss: float = 0.0,
    side: str = "left",
    sensor_range: tuple[float, float] = (16.0, 2000.0),
) -> tuple[Recording, dict]:
    """Synthesize a pogo / hopping session with ground truth.

    Parameters
    ----------
    seed : int
        Everything random is drawn from ``numpy.random.default_rng(seed)``.
    fs_hz : float
        Nominal sensor rate, 100 to 1000 Hz.
    setup : PogoSetup, optional
        The athlete's behaviour; drawn by :func:`random_pogo_setup` when omitted.
    mounting : {'laces', 'heel', 'lateral', 'medial'}, optional
        Where the sensor is; random when omitted. Its axes are always randomly rotated.
    sensor_errors : bool
        Add bias, scale error, noise and range limits of a consumer IMU.
    packet_loss : float
        Probability that one BLE packet (12.5 ms of samples) is lost.
    sensor_range : (float, float)
        Full-scale ranges, accelerometer (g) and gyroscope (deg/s), where the readings
        saturate (with ``sensor_errors``). Changing them changes nothing else of the session.
    side : {'left', 'right'}

    Returns
    -------
    recording : Recording
    truth : dict
        On the recording's time axis (s):

        * ``contacts``: one per complete ground contact, in order: ``round``,
          ``landing_s``, ``takeoff_s`` (20 N threshold of the foot's vertical force),
          ``contact_ms``, ``flight_ms`` (from this take-off to the next landing of the
          round, which may be a final landing), ``pitch_landing_deg``,
          ``pitch_min_deg``, ``pitch_takeoff_deg`` (true foot pitch), ``peak_force_bw``,
          ``impact_ms``, ``touch_speed_mps``.
        * ``stop_landings``: landings after which the athlete stands (no take-off):
          ``landing_s``, ``round``, ``flight_ms``.
        * ``events``: every landing and take-off, ``t_s``, ``kind``, ``round``; take-offs
          from standing carry ``from_standing``, final landings ``stop``.
        * ``rounds``: ``start_s`` (first landing), ``end_s`` (final landing),
          ``first_takeoff_s``, ``last_takeoff_s``, ``contacts`` (complete contacts),
          ``restarts``.
        * ``segments``: standing / walking / weight_shift / round / rest intervals.
        * ``setup``, ``mounting``, ``sensor`` (low-pass cut-offs), ``model`` (drawn
          traits), ``foot_length_cm``, ``heel_to_ball_cm``, ``body_mass_kg``.
    """
    rng = np.random.default_rng(seed)
    setup = setup or random_pogo_setup(rng)
    fs_int = max(4000.0, 4.0 * fs_hz)
    track, motion = pogo_motion(rng, setup, fs_int, side)
    geometry = track.geometry
    t_dense = track.arrays()[0]
    where, offset, mount = random_mounting(rng, geometry, mounting)
    if side == "right":  # random_mounting places lateral/medial for a left foot
        offset[1] = -offset[1]
    duration = t_dense[-1] - 0.01
    t_true, t_stamp = sample_times(rng, duration, fs_hz, packet_loss=packet_loss)
    errors = draw_errors(rng, fs_hz, *sensor_range) if sensor_errors else None
    lowpass = (rng.uniform(0.25, 0.45) * fs_hz, rng.uniform(0.25, 0.45) * fs_hz)
    acc, gyr = virtual_imu(track, offset, mount, t_true, errors, rng, lowpass_hz=lowpass)

    meta = {
        "sample_rate_hz": f"{fs_hz:g}",
        "side": side,
        "sensor": f"SYNTHETIC: ankle-motion imu.synth pogo_session seed={seed}",
        "foot_length_cm": f"{100 * geometry.foot_length_m:.1f}",
        "body_mass_kg": f"{motion['body_mass_kg']:.1f}",
        "exercise": "pogo",
        "synthetic": "yes",
    }
    rec = Recording(t_s=t_stamp, acc_mps2=acc, gyr_dps=gyr, fs_hz=float(fs_hz), meta=meta)
    truth = {
        "source": "synthetic",
        "exercise": "pogo",
        "seed": seed,
        "sample_rate_hz": fs_hz,
        "side": side,
        "mounting": {"place": where, "offset_m": offset.tolist(), "quat": mount.as_quat().tolist()},
        "sensor": {
            "lowpass_hz": list(lowpass),
            "dense_rate_hz": fs_int,
            "range": {"acc_g": float(sensor_range[0]), "gyr_dps": float(sensor_range[1])},
        },
        "foot_length_cm": 100 * geometry.foot_length_m,
        "heel_to_ball_cm": 100 * geometry.heel_to_ball_m,
        "body_mass_kg": motion["body_mass_kg"],
        "setup": asdict(setup),
        "model": motion["model"],
        "contacts": motion["contacts"],
        "stop_landings": motion["stop_landings"],
        "events": motion["events"],
        "rounds": motion["rounds"],
        "segments": motion["segments"],
    }
    return rec, truth
