"""Scenarios with ground truth: a whole session as a runner would record it.

Each scenario draws its person, mounting, sensor and behaviour from a random generator,
drives a :class:`~imu.synth.foot.FootTrack`, samples the virtual IMU and returns the
:class:`~imu.recording.Recording` together with a truth dictionary (JSON-ready).

Heel-raise truth follows the phase convention of the analysis exactly (10 % / 90 % of the
excursion from the bottom just before the rep to the rep's peak), computed on the TRUE
foot pitch of the dense internal grid, on the file's time axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imu.recording import Recording
from imu.synth.foot import (
    FootGeometry,
    FootTrack,
    draw_errors,
    random_mounting,
    sample_times,
    virtual_imu,
)

DEG = np.pi / 180.0


@dataclass
class Tempo:
    """Seconds up / hold at top / down / rest at bottom of one rep (movement times)."""

    up_s: float
    hold_s: float
    down_s: float
    rest_s: float


@dataclass
class HeelRaiseSetup:
    """What the synthetic athlete does. Every field has a randomised default."""

    n_sets: int = 2
    reps_per_set: tuple[int, ...] = (8, 8)
    tempo: Tempo = field(default_factory=lambda: Tempo(2.0, 1.0, 3.0, 0.5))
    on_step: bool = False
    bent_knee: bool = False
    rom_deg: float = 30.0
    fatigue_rom: float = 0.1  # fraction of range lost from first to last rep
    fatigue_down: float = 0.2  # fraction of lowering time lost from first to last rep
    tempo_jitter: float = 0.08  # relative rep-to-rep variation of each phase
    partial_reps: tuple[int, ...] = ()  # (set-local) rep indices done at partial range
    dropped_reps: tuple[int, ...] = ()  # rep indices lowered without control
    partial_rom_fraction: float | None = None  # of the full range; None: 0.4-0.6 at random
    extra_rest_s: dict[int, float] = field(default_factory=dict)  # rep index -> late by (s)
    rest_between_sets_s: float = 20.0
    walk_between_sets: bool = True


def _sway(rng: np.random.Generator, n: int, fs: float, amp_rad: float) -> np.ndarray:
    """Smooth postural sway: a few sinusoids between 0.3 and 3 Hz, zero at both ends."""
    if n <= 0:
        return np.zeros(0)
    t = np.arange(n) / fs
    out = np.zeros(n)
    for _ in range(4):
        f = rng.uniform(0.3, 3.0)
        out += rng.normal(0, 1) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    # The taper must not create accelerations a person would not: a hold shorter than
    # 2 s gets proportionally less sway (amplitude ~ duration^2 keeps accelerations flat).
    out *= amp_rad / 2.0 * min(1.0, (n / fs / 2.0) ** 2)
    return out * np.sin(np.pi * np.arange(1, n + 1) / n) ** 2


def _crossings(t: np.ndarray, x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Times where x crosses ``level`` upward and downward (linear interpolation)."""
    above = x >= level
    idx = np.flatnonzero(above[1:] != above[:-1])
    frac = (level - x[idx]) / (x[idx + 1] - x[idx])
    tc = t[idx] + frac * (t[idx + 1] - t[idx])
    up = above[idx + 1]
    return tc[up], tc[~up]


def rep_phases(t: np.ndarray, pitch: np.ndarray, bottom: float) -> dict[str, float]:
    """The contract's phase times of one rep from a pitch trace covering it.

    ``pitch`` (rad or deg, any unit) runs from the bottom before the rep to the bottom
    after it; ``bottom`` is the pitch at the bottom just before the rep.
    """
    peak = float(np.max(pitch))
    exc = peak - bottom
    up10, dn10 = _crossings(t, pitch, bottom + 0.1 * exc)
    up90, dn90 = _crossings(t, pitch, bottom + 0.9 * exc)
    start = up10[0]
    top_start = up90[up90 > start][0]
    top_end = dn90[dn90 > top_start][-1]
    end = dn10[dn10 > top_end][0]
    return {
        "start_s": float(start),
        "top_start_s": float(top_start),
        "top_end_s": float(top_end),
        "end_s": float(end),
        "concentric_s": float(top_start - start),
        "hold_s": float(top_end - top_start),
        "eccentric_s": float(end - top_end),
        "peak": peak,
        "excursion": exc,
    }


def _walk(track: FootTrack, rng: np.random.Generator, n_strides: int, turn_rad: float) -> None:
    """A few walking strides of the sensor foot, starting and ending flat."""
    stride_time = rng.uniform(1.0, 1.25)
    for _ in range(n_strides):
        track.hold(0.30 * stride_time)  # the other foot swings past
        track.rotate_about_ball(0.22 * stride_time, rng.uniform(35, 50) * DEG, shape=0.3)
        land = -rng.uniform(12, 25) * DEG
        rocker = 0.08 * stride_time
        track.swing(
            0.38 * stride_time,
            stride_m=rng.uniform(1.1, 1.5),
            pitch_to=land,
            lift_m=rng.uniform(0.06, 0.12),
            yaw_change=turn_rad / n_strides,
            pitch_rate_end=-1.2 * land / rocker,
        )
        track.rotate_about_heel(rocker, 0.0, shape=0.0)


def _weight_shift(track: FootTrack, rng: np.random.Generator) -> None:
    """Shifting weight between the feet: the shoe tips by at most 2.5 degrees."""
    amp = rng.uniform(0.5, 2.5) * DEG
    if rng.random() < 0.5:
        track.rotate_about_ball(rng.uniform(0.6, 1.5), amp)
        track.hold(rng.uniform(0.5, 2.0))
        track.rotate_about_ball(rng.uniform(0.6, 1.5), 0.0)
    else:
        track.rotate_about_heel(rng.uniform(0.6, 1.5), -amp)
        track.hold(rng.uniform(0.5, 2.0))
        track.rotate_about_heel(rng.uniform(0.6, 1.5), 0.0)


def random_heel_raise_setup(rng: np.random.Generator) -> HeelRaiseSetup:
    """A plausible session drawn at random (variants of protocols.md section 1)."""
    bent = bool(rng.random() < 0.3)
    n_sets = int(rng.integers(1, 4))
    reps = tuple(int(rng.integers(5, 16)) for _ in range(n_sets))
    up, hold, down = (rng.uniform(0.5, 4.0) for _ in range(3))
    hold = hold if rng.random() < 0.7 else rng.uniform(0.0, 0.3)
    tempo = Tempo(up, hold, down, rng.uniform(0.0, 2.0))
    return HeelRaiseSetup(
        n_sets=n_sets,
        reps_per_set=reps,
        tempo=tempo,
        on_step=bool(rng.random() < 0.35),
        bent_knee=bent,
        rom_deg=rng.uniform(14, 24) if bent else rng.uniform(24, 40),
        fatigue_rom=rng.uniform(0.0, 0.2),
        fatigue_down=rng.uniform(0.0, 0.3),
        rest_between_sets_s=rng.uniform(15, 40),
        walk_between_sets=bool(rng.random() < 0.7),
    )


def heel_raise_session(
    seed: int,
    fs_hz: float = 400.0,
    setup: HeelRaiseSetup | None = None,
    mounting: str | None = None,
    sensor_errors: bool = True,
    packet_loss: float = 0.0,
    side: str = "left",
    sensor_range: tuple[float, float] = (16.0, 2000.0),
) -> tuple[Recording, dict]:
    """Synthesize a heel-raise session with ground truth.

    Parameters
    ----------
    seed : int
        Everything random is drawn from ``numpy.random.default_rng(seed)``.
    fs_hz : float
        Nominal sensor rate, 50 to 1000 Hz.
    setup : HeelRaiseSetup, optional
        The athlete's behaviour; drawn at random when omitted.
    mounting : {'laces', 'heel', 'lateral', 'medial'}, optional
        Where the sensor is; random when omitted. Its axes are always randomly rotated.
    sensor_errors : bool
        Add bias, scale error and noise of a consumer IMU.
    packet_loss : float
        Probability that one BLE packet (12.5 ms of samples) is lost.
    sensor_range : (float, float)
        Full-scale ranges, accelerometer (g) and gyroscope (deg/s), where the readings
        saturate (with ``sensor_errors``). Changing them changes nothing else of the session.

    Returns
    -------
    recording : Recording
    truth : dict
        ``reps`` (phase times, ``rom_deg``, ``heel_rise_cm``, ``partial``, ``dropped``,
        movement times), ``sets``, ``segments`` (standing / walking / weight shifts),
        and the mounting and person drawn.
    """
    rng = np.random.default_rng(seed)
    setup = setup or random_heel_raise_setup(rng)
    geometry = FootGeometry(foot_length_m=rng.uniform(0.23, 0.30))
    fs_int = max(2000.0, 4.0 * fs_hz)
    track = FootTrack(fs_int, geometry)
    segments: list[dict] = []
    rep_marks: list[dict] = []

    def seg(kind: str, fn, *args) -> None:
        t0 = track.t_now
        fn(*args)
        segments.append({"kind": kind, "start_s": t0, "end_s": track.t_now})

    def stand(duration: float) -> None:
        n = track.samples(duration)
        track.hold(duration, _sway(rng, n, fs_int, 0.03 * DEG))

    seg("standing", stand, rng.uniform(2.0, 5.0))
    k_roll = rng.uniform(-0.1, 0.25)  # inversion that accompanies the heel rise
    bottom0 = -rng.uniform(8, 20) * DEG if setup.on_step else 0.0
    tp = setup.tempo
    for s in range(setup.n_sets):
        n_reps = setup.reps_per_set[s % len(setup.reps_per_set)]
        set_start = track.t_now
        if setup.on_step:  # lower the heel below step level before the first rep
            track.rotate_about_ball(rng.uniform(1.0, 2.0), bottom0)
            track.hold(rng.uniform(0.5, 1.5))
        for k in range(n_reps):
            q = k / max(1, n_reps - 1)
            jit = 1.0 + rng.normal(0.0, setup.tempo_jitter, 4)
            up = max(0.4, tp.up_s * jit[0])
            hold = max(0.0, tp.hold_s * jit[1])
            down = max(0.4, tp.down_s * jit[2] * (1.0 - setup.fatigue_down * q))
            rest = max(0.0, tp.rest_s * jit[3]) + setup.extra_rest_s.get(k, 0.0)
            rom = setup.rom_deg * (1.0 - setup.fatigue_rom * q) * (1.0 + rng.normal(0, 0.03))
            partial = k in setup.partial_reps
            dropped = k in setup.dropped_reps
            if partial:
                frac = setup.partial_rom_fraction
                rom *= rng.uniform(0.4, 0.6) if frac is None else frac
            if dropped:  # the heel falls: about the free-fall time from heel height
                down = rng.uniform(0.12, 0.2)
            bottom = bottom0 + (rng.normal(0, 0.2) * DEG if setup.on_step else 0.0)
            top = bottom + rom * DEG
            i0 = track.n - 1
            track.rotate_about_ball(up, top, roll_to=k_roll * top, shape=rng.uniform(0, 1))
            n_hold = track.samples(hold)
            track.hold(hold, _sway(rng, n_hold, fs_int, rng.uniform(0.2, 0.8) * DEG))
            track.rotate_about_ball(down, bottom, roll_to=k_roll * bottom, shape=rng.uniform(0, 1))
            i1 = track.n - 1
            rep_marks.append(
                {
                    "i0": i0,
                    "i1": i1,
                    "set": s,
                    "partial": partial,
                    "dropped": dropped,
                    "up_s": up,
                    "hold_s": hold,
                    "down_s": down,
                    "rest_s": rest,
                }
            )
            n_rest = track.samples(rest)
            track.hold(rest, _sway(rng, n_rest, fs_int, 0.05 * DEG))
            rep_marks[-1]["i2"] = track.n - 1
        if setup.on_step:  # step off level again before leaving the set
            track.rotate_about_ball(rng.uniform(0.8, 1.5), 0.0)
        segments.append({"kind": "set", "start_s": set_start, "end_s": track.t_now})
        if s < setup.n_sets - 1:
            rest_left = setup.rest_between_sets_s
            seg("standing", stand, 0.3 * rest_left)
            seg("weight_shift", _weight_shift, track, rng)
            if setup.walk_between_sets:
                n_str = int(rng.integers(2, 5))
                seg("walking", _walk, track, rng, n_str, np.pi)
                seg("standing", stand, 2.0)
                seg("walking", _walk, track, rng, n_str, np.pi)
            seg("weight_shift", _weight_shift, track, rng)
            seg("standing", stand, 0.3 * rest_left)
    seg("standing", stand, rng.uniform(2.0, 4.0))

    t_dense, pitch, roll, yaw, ball = track.arrays()
    where, offset, mount = random_mounting(rng, geometry, mounting)
    duration = t_dense[-1] - 0.01
    t_true, t_stamp = sample_times(rng, duration, fs_hz, packet_loss=packet_loss, long_dropouts=0)
    errors = draw_errors(rng, fs_hz, *sensor_range) if sensor_errors else None
    acc, gyr = virtual_imu(track, offset, mount, t_true, errors, rng)

    d_heel = geometry.heel_to_ball_m
    reps = []
    for m in rep_marks:
        sl = slice(m["i0"], m["i2"] + 1)
        ph = rep_phases(t_dense[sl], pitch[sl], pitch[m["i0"]])
        rep = {k: v for k, v in ph.items() if k not in ("peak", "excursion")}
        rep["rom_deg"] = float(np.degrees(ph["excursion"]))
        rep["heel_rise_cm"] = float(100 * d_heel * (np.sin(ph["peak"]) - np.sin(pitch[m["i0"]])))
        rep.update({k: m[k] for k in ("set", "partial", "dropped")})
        rep["movement"] = {k: float(m[k]) for k in ("up_s", "hold_s", "down_s", "rest_s")}
        reps.append(rep)
    sets = []
    for s in range(setup.n_sets):
        rs = [r for r in reps if r["set"] == s]
        sets.append({"start_s": rs[0]["start_s"], "end_s": rs[-1]["end_s"], "reps": len(rs)})

    meta = {
        "sample_rate_hz": f"{fs_hz:g}",
        "side": side,
        "sensor": f"SYNTHETIC: ankle-motion imu.synth heel_raise_session seed={seed}",
        "foot_length_cm": f"{100 * geometry.foot_length_m:.1f}",
        "body_mass_kg": f"{rng.uniform(50, 95):.1f}",
        "exercise": "heel-raise",
        "synthetic": "yes",
    }
    rec = Recording(t_s=t_stamp, acc_mps2=acc, gyr_dps=gyr, fs_hz=float(fs_hz), meta=meta)
    truth = {
        "source": "synthetic",
        "seed": seed,
        "sample_rate_hz": fs_hz,
        "mounting": {"place": where, "offset_m": offset.tolist(), "quat": mount.as_quat().tolist()},
        "sensor": {"range": {"acc_g": float(sensor_range[0]), "gyr_dps": float(sensor_range[1])}},
        "foot_length_cm": 100 * geometry.foot_length_m,
        "heel_to_ball_cm": 100 * d_heel,
        "on_step": setup.on_step,
        "bent_knee": setup.bent_knee,
        "tempo": [tp.up_s, tp.hold_s, tp.down_s, tp.rest_s],
        "reps": reps,
        "sets": sets,
        "segments": segments,
    }
    return rec, truth
