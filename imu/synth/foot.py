"""Rigid-foot kinematics and the virtual IMU that rides on it.

Model
-----
The foot is one rigid body. Its pose is kept on a dense, uniform internal time grid as

* ``pitch``, ``roll``, ``yaw`` (rad): intrinsic z-y'-x'' Euler angles of the foot frame
  (x forward, y left, z up) in the world frame (z up). Positive pitch is toe-down /
  heel-up, i.e. plantarflexion of a foot that was level.
* ``ball`` (m, shape (n, 3)): world position of the foot-frame origin, the ball of the
  foot (first metatarsal head) on the sole.

Every motion is built from segments that append to these tracks, each starting where the
previous one ended, so the pose is continuous. A heel raise keeps the ball fixed (the
foot pivots about it); a heel-strike rocker keeps the heel fixed; a swing is free.

The sensor sits at ``offset_m`` (foot frame) with a mounting rotation (sensor axes ->
foot axes). Its readings follow from the motion alone:

* specific force ``f = R_s^T (d^2 p_s / dt^2 + g e_z)``, with ``p_s`` the sensor position,
* angular rate ``w = R_s^T R_s' `` (body frame), from finite rotations between grid points.

Derivatives are taken numerically on the dense grid (4 to 8 times the output rate), then
sampled at the sensor's own sampling instants by linear interpolation.

Assumptions (stated so that a reader can judge the truth they give): the foot does not
bend (no toe joint), the ball does not slide during a heel raise, gravity is 9.80665 m/s^2,
the sensor is rigidly fixed to the shoe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from imu.recording import STANDARD_GRAVITY


def min_jerk(tau: np.ndarray) -> np.ndarray:
    """Minimum-jerk position profile on tau in [0, 1] (Flash & Hogan 1985)."""
    tau = np.clip(tau, 0.0, 1.0)
    return tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2)


def raised_cosine(tau: np.ndarray) -> np.ndarray:
    """Sinusoidal-velocity position profile on tau in [0, 1]."""
    tau = np.clip(tau, 0.0, 1.0)
    return 0.5 * (1.0 - np.cos(np.pi * tau))


def blend_profile(tau: np.ndarray, shape: float) -> np.ndarray:
    """Smooth 0->1 profile between raised-cosine (shape=0) and minimum-jerk (shape=1)."""
    return shape * min_jerk(tau) + (1.0 - shape) * raised_cosine(tau)


def hermite(tau: np.ndarray, p0, v0, p1, v1, duration: float) -> np.ndarray:
    """Cubic Hermite curve matching position and velocity (per second) at both ends."""
    tau = np.asarray(tau)[:, None] if np.ndim(p0) else np.asarray(tau)
    h00 = 2 * tau**3 - 3 * tau**2 + 1
    h10 = tau**3 - 2 * tau**2 + tau
    h01 = -2 * tau**3 + 3 * tau**2
    h11 = tau**3 - tau**2
    return h00 * p0 + h10 * duration * v0 + h01 * p1 + h11 * duration * v1


@dataclass
class FootGeometry:
    """Foot dimensions.

    ``heel_to_ball_m`` is the horizontal distance from the heel's ground contact to the
    ball (first metatarsal head); anthropometric tables put the ball at about 72 % of
    foot length from the heel, which is the default used by the analysis as well.
    """

    foot_length_m: float = 0.26
    heel_to_ball_fraction: float = 0.72

    @property
    def heel_to_ball_m(self) -> float:
        return self.foot_length_m * self.heel_to_ball_fraction


def foot_rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> Rotation:
    """World <- foot rotation for z-y'-x'' Euler angles (rad)."""
    return Rotation.from_euler("ZYX", np.column_stack([yaw, pitch, roll]))


class FootTrack:
    """Foot pose tracks on a dense uniform grid, grown segment by segment.

    Parameters
    ----------
    fs_internal_hz : float
        Rate of the dense grid.
    geometry : FootGeometry
    """

    def __init__(self, fs_internal_hz: float, geometry: FootGeometry) -> None:
        self.fs = float(fs_internal_hz)
        self.geometry = geometry
        self._pitch: list[np.ndarray] = [np.zeros(1)]
        self._roll: list[np.ndarray] = [np.zeros(1)]
        self._yaw: list[np.ndarray] = [np.zeros(1)]
        self._ball: list[np.ndarray] = [np.zeros((1, 3))]
        self.n = 1

    # -- state -------------------------------------------------------------------------
    @property
    def t_now(self) -> float:
        return (self.n - 1) / self.fs

    @property
    def state(self) -> tuple[float, float, float, np.ndarray]:
        return (
            float(self._pitch[-1][-1]),
            float(self._roll[-1][-1]),
            float(self._yaw[-1][-1]),
            self._ball[-1][-1].copy(),
        )

    def samples(self, duration_s: float) -> int:
        """Number of grid points a segment of ``duration_s`` adds."""
        return max(1, int(round(duration_s * self.fs)))

    def _tau(self, duration_s: float) -> np.ndarray:
        m = self.samples(duration_s)
        return np.arange(1, m + 1) / m

    def _append(self, pitch, roll, yaw, ball) -> None:
        self._pitch.append(np.asarray(pitch, float))
        self._roll.append(np.asarray(roll, float))
        self._yaw.append(np.asarray(yaw, float))
        self._ball.append(np.asarray(ball, float))
        self.n += len(pitch)

    def append(self, pitch, roll, yaw, ball) -> None:
        """Append an arbitrary dense segment.

        Parameters
        ----------
        pitch, roll, yaw : array_like, shape (m,)
            Euler angles (rad) at the next ``m`` grid points after the current last one,
            i.e. at times ``t_now + k / fs`` for ``k = 1..m``.
        ball : array_like, shape (m, 3)
            World position (m) of the ball at the same points.

        The caller is responsible for continuity with the current :attr:`state`.
        """
        pitch = np.asarray(pitch, float).reshape(-1)
        roll = np.asarray(roll, float).reshape(-1)
        yaw = np.asarray(yaw, float).reshape(-1)
        ball = np.asarray(ball, float).reshape(-1, 3)
        m = len(pitch)
        if not (len(roll) == len(yaw) == len(ball) == m):
            raise ValueError("pitch, roll, yaw and ball must have the same length")
        if m:
            self._append(pitch, roll, yaw, ball)

    # -- segments ----------------------------------------------------------------------
    def hold(self, duration_s: float, sway_rad: np.ndarray | None = None) -> None:
        """Keep the pose; ``sway_rad`` (len = samples) is added to pitch about the ball."""
        p, r, y, b = self.state
        tau = self._tau(duration_s)
        pitch = np.full(tau.shape, p)
        if sway_rad is not None:
            pitch = pitch + sway_rad[: len(tau)]
        self._append(pitch, np.full(tau.shape, r), np.full(tau.shape, y), np.tile(b, (len(tau), 1)))

    def rotate_about_ball(
        self,
        duration_s: float,
        pitch_to: float,
        roll_to: float | None = None,
        shape: float = 0.5,
        sway_rad: np.ndarray | None = None,
    ) -> None:
        """Pitch (and roll) smoothly to new values with the ball fixed (heel raise)."""
        p, r, y, b = self.state
        tau = self._tau(duration_s)
        s = blend_profile(tau, shape)
        pitch = p + (pitch_to - p) * s
        if sway_rad is not None:
            pitch = pitch + sway_rad[: len(tau)] * np.sin(np.pi * tau)
        roll = r + ((r if roll_to is None else roll_to) - r) * s
        self._append(pitch, roll, np.full(tau.shape, y), np.tile(b, (len(tau), 1)))

    def _heel_world(self, pitch, roll, yaw, ball) -> np.ndarray:
        rot = foot_rotation(np.atleast_1d(yaw), np.atleast_1d(pitch), np.atleast_1d(roll))
        return ball + rot.apply(np.array([-self.geometry.heel_to_ball_m, 0.0, 0.0]))

    def rotate_about_heel(self, duration_s: float, pitch_to: float, shape: float = 0.5) -> None:
        """Pitch smoothly with the heel fixed (heel-strike rocker, toe raise)."""
        p, r, y, b = self.state
        heel = self._heel_world(p, r, y, b)[0]
        tau = self._tau(duration_s)
        pitch = p + (pitch_to - p) * blend_profile(tau, shape)
        rot = foot_rotation(np.full(tau.shape, y), pitch, np.full(tau.shape, r))
        ball = heel + rot.apply(np.array([self.geometry.heel_to_ball_m, 0.0, 0.0]))
        self._append(pitch, np.full(tau.shape, r), np.full(tau.shape, y), ball)

    def swing(
        self,
        duration_s: float,
        stride_m: float,
        pitch_to: float,
        lift_m: float,
        yaw_change: float = 0.0,
        pitch_rate_end: float = 0.0,
    ) -> None:
        """Free swing: the ball travels ``stride_m`` forward (along the current yaw),
        lifted by ``lift_m``, landing heel-first at ``pitch_to`` (negative: toe up)."""
        p, r, y, b = self.state
        tau = self._tau(duration_s)
        y1 = y + yaw_change
        fwd = np.array([np.cos(0.5 * (y + y1)), np.sin(0.5 * (y + y1)), 0.0])
        heel0 = self._heel_world(p, r, y, b)[0]
        heel1 = np.array([heel0[0], heel0[1], 0.0]) + stride_m * fwd
        rot1 = foot_rotation(np.array([y1]), np.array([pitch_to]), np.array([r]))
        ball1 = heel1 + rot1.apply(np.array([self.geometry.heel_to_ball_m, 0.0, 0.0]))[0]
        # Velocity of the ball at heel strike from the rocker's initial rotation.
        arm = ball1 - heel1
        omega = pitch_rate_end * np.array([-np.sin(y1), np.cos(y1), 0.0])  # about foot y
        v1 = np.cross(omega, arm)
        # Forward speed of the ball peaks mid-swing; a Hermite curve with the foot's
        # mean swing speed at mid course gives the familiar bell-shaped velocity.
        ball = hermite(tau, b, np.zeros(3), ball1, v1, duration_s)
        ball[:, 2] += lift_m * np.sin(np.pi * tau) ** 2
        pitch = hermite(tau, p, 0.0, pitch_to, pitch_rate_end, duration_s)
        yaw = y + yaw_change * min_jerk(tau)
        self._append(pitch, np.full(tau.shape, r), yaw, ball)

    # -- output ------------------------------------------------------------------------
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(t, pitch, roll, yaw, ball) on the dense grid."""
        pitch = np.concatenate(self._pitch)
        t = np.arange(len(pitch)) / self.fs
        return (
            t,
            pitch,
            np.concatenate(self._roll),
            np.concatenate(self._yaw),
            np.concatenate(self._ball),
        )


@dataclass
class SensorErrors:
    """Imperfections of a consumer MEMS IMU (drawn per recording by :func:`draw_errors`).

    Attributes
    ----------
    acc_bias_mps2, gyr_bias_dps : ndarray, shape (3,)
    acc_scale, gyr_scale : ndarray, shape (3,)
        Per-axis sensitivity factors (1 = perfect).
    acc_noise_mps2, gyr_noise_dps : float
        White-noise standard deviation per sample.
    acc_range_mps2, gyr_range_dps : float
        Full-scale range: readings saturate at +- this value (the protocol's SET_RANGES
        allows +-2/4/8/16 g and +-125...2000 deg/s; default +-16 g, +-2000 deg/s).
    """

    acc_bias_mps2: np.ndarray
    gyr_bias_dps: np.ndarray
    acc_scale: np.ndarray
    gyr_scale: np.ndarray
    acc_noise_mps2: float
    gyr_noise_dps: float
    acc_range_mps2: float = 16 * STANDARD_GRAVITY
    gyr_range_dps: float = 2000.0


def draw_errors(
    rng: np.random.Generator,
    fs_hz: float,
    acc_range_g: float = 16.0,
    gyr_range_dps: float = 2000.0,
) -> SensorErrors:
    """Errors typical of LSM6DSO/BMI270/ICM-42688 class parts after factory trim.

    Noise densities of about 80-200 ug/sqrt(Hz) and 4-10 mdps/sqrt(Hz) over a bandwidth of
    fs/2, so the per-sample noise grows with the rate as on real parts. The full-scale
    ranges (``acc_range_g`` in g, ``gyr_range_dps``) are chosen, not drawn: they draw
    nothing from ``rng``, so a session's other errors do not depend on them.
    """
    bw = fs_hz / 2.0
    return SensorErrors(
        acc_bias_mps2=rng.normal(0.0, 0.12, 3),
        gyr_bias_dps=rng.normal(0.0, 0.6, 3),
        acc_scale=1.0 + rng.normal(0.0, 0.01, 3),
        gyr_scale=1.0 + rng.normal(0.0, 0.01, 3),
        acc_noise_mps2=rng.uniform(80e-6, 200e-6) * STANDARD_GRAVITY * np.sqrt(bw),
        gyr_noise_dps=rng.uniform(4e-3, 10e-3) * np.sqrt(bw),
        acc_range_mps2=acc_range_g * STANDARD_GRAVITY,
        gyr_range_dps=float(gyr_range_dps),
    )


def random_mounting(rng: np.random.Generator, geometry: FootGeometry, where: str | None = None):
    """A sensor place on the shoe (foot frame, m) and a uniformly random axis orientation.

    Places: ``laces`` (instep), ``heel`` (heel counter), ``lateral`` or ``medial`` side.
    Returns (where, offset_m (3,), Rotation sensor->foot).
    """
    places = ("laces", "heel", "lateral", "medial")
    where = where or places[rng.integers(len(places))]
    d = geometry.heel_to_ball_m
    if where == "laces":
        off = [-rng.uniform(0.25, 0.45) * d, rng.normal(0, 0.01), rng.uniform(0.05, 0.08)]
    elif where == "heel":
        off = [-d - rng.uniform(0.0, 0.02), rng.normal(0, 0.005), rng.uniform(0.03, 0.07)]
    elif where == "lateral":
        off = [-rng.uniform(0.3, 0.9) * d, -rng.uniform(0.04, 0.05), rng.uniform(0.02, 0.05)]
    elif where == "medial":
        off = [-rng.uniform(0.3, 0.8) * d, rng.uniform(0.03, 0.045), rng.uniform(0.02, 0.05)]
    else:
        raise ValueError(f"unknown mounting place {where!r}")
    return where, np.array(off), Rotation.random(random_state=rng)


def _sensor_lowpass(x: np.ndarray, fs_hz: float, cutoff_hz: float) -> np.ndarray:
    """The sensor's digital low-pass on the dense signal x (n, 3): a causal 2nd-order
    Butterworth (the filter ahead of the output data rate), started in its steady state."""
    from scipy.signal import butter, sosfilt, sosfilt_zi

    sos = butter(2, min(cutoff_hz, 0.45 * fs_hz), fs=fs_hz, output="sos")
    zi = sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    y, _ = sosfilt(sos, x, axis=0, zi=zi)
    return y


# A reading within this fraction of the full-scale range of the limit is the full-scale
# code: one LSB of a 16-bit output (the parts' output word).
_FULL_SCALE_LSB = 2.0**-15
# While the front end is saturated, the digital low-pass settles on the full-scale code
# and rings about it (a 2nd-order Butterworth: 4.3 % over, 0.2 % back under, within about
# 2 / cut-off of the edge); the output register holds the full-scale code through it.
_RING_FRAC = 5e-3
_RING_PERIODS = 2.0


def _sensor_chain(
    x: np.ndarray,
    t: np.ndarray,
    fs_hz: float,
    t_sample_s: np.ndarray,
    scale: np.ndarray | None,
    bias: np.ndarray | None,
    limit: float | None,
    cutoff_hz: float | None,
    noise_sd: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """One sensor (accelerometer or gyroscope) from its true dense signal ``x`` (n, 3) on
    the grid ``t`` to its output at ``t_sample_s``; see :func:`virtual_imu`."""
    if scale is not None:
        x = x * scale + bias  # sensitivity and offset: before the ADC
    if limit is not None:
        saturated = np.abs(x) >= limit
        x = np.clip(x, -limit, limit)  # the front end (ADC) saturates
    if cutoff_hz is not None:
        x = _sensor_lowpass(x, fs_hz, cutoff_hz)
    y = np.column_stack([np.interp(t_sample_s, t, x[:, k]) for k in range(3)])
    if scale is None:
        return y
    noise = rng.normal(0.0, noise_sd, y.shape)
    if limit is None:
        return y + noise
    # The output is pinned at the full-scale code, without noise, where the noise-free
    # reading is there: within an LSB of it, or within the filter's ringing about it
    # while the front end was saturated less than _RING_PERIODS / cut-off before.
    pinned = np.abs(y) >= limit * (1.0 - _FULL_SCALE_LSB)
    if saturated.any():
        memory = 0.0 if cutoff_hz is None else _RING_PERIODS / cutoff_hz
        count = np.cumsum(np.vstack([np.zeros((1, 3), bool), saturated]), axis=0)
        hi = np.searchsorted(t, t_sample_s, side="right")
        lo = np.searchsorted(t, t_sample_s - memory, side="left")
        recent = count[hi] > count[np.minimum(lo, hi)]
        pinned |= recent & (np.abs(y) >= limit * (1.0 - _RING_FRAC))
    y += noise
    y[pinned] = np.copysign(limit, y[pinned])
    return np.clip(y, -limit, limit, out=y)


def virtual_imu(
    track: FootTrack,
    offset_m: np.ndarray,
    mount: Rotation,
    t_sample_s: np.ndarray,
    errors: SensorErrors | None,
    rng: np.random.Generator,
    lowpass_hz: float | tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Specific force (m/s^2) and angular rate (deg/s) the sensor measures.

    Parameters
    ----------
    track : FootTrack
    offset_m : ndarray, shape (3,)
        Sensor position in the foot frame.
    mount : Rotation
        Sensor -> foot rotation.
    t_sample_s : ndarray, shape (m,)
        True sampling instants in seconds (inside the track's span).
    errors : SensorErrors or None
        None gives ideal readings.
    lowpass_hz : float or (float, float), optional
        Cut-off of the sensor's digital low-pass (accelerometer, gyroscope): a causal
        2nd-order Butterworth at that cut-off (with its group delay, as a real part has).
        None (default): no filter.

    The signal chain of each sensor, as in a real part (with ``errors``):

    1. the true dense signal times the per-axis sensitivity, plus the offset (both act
       ahead of the converter);
    2. the front end saturates: clipped to the full-scale range;
    3. the digital low-pass (if ``lowpass_hz``), then sampling at ``t_sample_s``;
    4. white noise; but a sample whose noise-free reading is at the limit reads exactly
       the limit, without noise: the output is pinned at the full-scale code. At the
       limit: within one 16-bit LSB of it, beyond it (the filter's overshoot), or, while
       the front end was saturated within 2 / cut-off before, within the filter's
       ringing about it (0.5 %);
    5. the output clipped to the range.

    So a saturated stretch reads exactly +- the range, as on the parts. Without
    ``errors`` the readings are ideal (step 3 only).

    Returns
    -------
    acc_mps2, gyr_dps : ndarray, shape (m, 3)
    """
    t, pitch, roll, yaw, ball = track.arrays()
    dt = 1.0 / track.fs
    rot = foot_rotation(yaw, pitch, roll)  # world <- foot
    pos = ball + rot.apply(offset_m)
    acc_world = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0)
    acc_world[:, 2] += STANDARD_GRAVITY
    f_foot = rot.inv().apply(acc_world)
    # Body-frame angular velocity between grid points, placed at the midpoints.
    w_mid = (rot[:-1].inv() * rot[1:]).as_rotvec() / dt
    t_mid = t[:-1] + 0.5 * dt
    w_foot = np.column_stack([np.interp(t, t_mid, w_mid[:, k]) for k in range(3)])
    sensor_from_foot = mount.inv()
    f_s = sensor_from_foot.apply(f_foot)
    w_s = np.degrees(sensor_from_foot.apply(w_foot))
    if lowpass_hz is None:
        fc_acc = fc_gyr = None
    else:
        fc_acc, fc_gyr = (lowpass_hz, lowpass_hz) if np.isscalar(lowpass_hz) else lowpass_hz
    if errors is None:
        acc = _sensor_chain(f_s, t, track.fs, t_sample_s, None, None, None, fc_acc, 0.0, rng)
        gyr = _sensor_chain(w_s, t, track.fs, t_sample_s, None, None, None, fc_gyr, 0.0, rng)
        return acc, gyr
    e = errors
    acc = _sensor_chain(
        f_s,
        t,
        track.fs,
        t_sample_s,
        e.acc_scale,
        e.acc_bias_mps2,
        e.acc_range_mps2,
        fc_acc,
        e.acc_noise_mps2,
        rng,
    )
    gyr = _sensor_chain(
        w_s,
        t,
        track.fs,
        t_sample_s,
        e.gyr_scale,
        e.gyr_bias_dps,
        e.gyr_range_dps,
        fc_gyr,
        e.gyr_noise_dps,
        rng,
    )
    return acc, gyr


def sample_times(
    rng: np.random.Generator,
    duration_s: float,
    fs_hz: float,
    jitter_frac: float = 0.02,
    packet_loss: float = 0.0,
    samples_per_packet: int | None = None,
    long_dropouts: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps of a sensor: nominal grid, timestamp jitter, lost packets.

    Returns
    -------
    t_true_s : ndarray, shape (m,)
        When each kept sample was actually taken.
    t_stamp_s : ndarray, shape (m,)
        The timestamp written to the file (the sensor clock; strictly increasing).
    """
    n = int(np.floor(duration_s * fs_hz))
    t_nom = np.arange(n) / fs_hz
    jitter = rng.normal(0.0, jitter_frac / fs_hz, n)
    t_true = np.clip(t_nom + jitter, 0.0, None)
    t_true = np.maximum.accumulate(t_true + 1e-9 * np.arange(n))
    keep = np.ones(n, bool)
    if packet_loss > 0:
        spp = samples_per_packet or max(1, int(round(fs_hz * 0.0125)))
        n_pk = int(np.ceil(n / spp))
        lost = rng.random(n_pk) < packet_loss
        keep &= ~np.repeat(lost, spp)[:n]
    for _ in range(long_dropouts):
        a = rng.uniform(0.1, 0.9) * duration_s
        keep &= ~((t_nom >= a) & (t_nom < a + rng.uniform(0.1, 0.4)))
    keep[0] = keep[-1] = True
    return t_true[keep], t_nom[keep]
