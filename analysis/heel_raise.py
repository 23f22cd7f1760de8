"""Heel-raise reps, phases, range, heel-rise height, sets, tempo compliance and fatigue.

Phase convention (the JSON contract): for each rep take the foot pitch at the bottom just
before the rep and at the rep's peak. ``start_s`` is where the pitch first rises through
10 % of that excursion, ``top_start_s`` where it first reaches 90 %, ``top_end_s`` where
it last falls below 90 %, ``end_s`` where it falls back below 10 %. ``rom_deg`` is the
excursion. Crossing times are interpolated between samples, on the file's time axis.

What is a rep: a rise of the foot pitch (heel up, toe down) of at least ``min_rom_deg``
and back, made by the foot rotating about its planted ball:

- the rise is a rotation the gyroscope sees (at least half of it integrates from the
  angular rate; a slow settling of the tilt estimate is not a rep);
- while the heel rises and the foot is at the top, the sensor's acceleration is what a
  rigid foot pivoting about a fixed ball produces, to within ``max_ball_acc_mps2``
  (``ball_acc_mps2`` of :func:`analysis.orientation.sagittal_motion`), and the rotation
  rate stays below ``max_gyr_dps``. A fast rep with the sensor far behind the ball has several m/s^2 of
  tangential acceleration and passes; a step, where the ball itself lifts and moves,
  does not;
- a 'rep' that spends longer than a set break at the standing level is the foot standing
  flat between sets on a step (level to rest, heel lowered again for the next set), not
  a rep with a hold.

Walking, standing and weight shifts (a couple of degrees) are therefore not reps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal
from scipy.ndimage import uniform_filter1d

from analysis.orientation import FootAlignment, sagittal_motion, still_mask
from analysis.prescriptions import TempoPrescription, TempoTolerance, movement_times
from analysis.signals import UniformSignal, binned_mean, to_uniform

GRAVITY_MPS2 = 9.80665
#: Ball of the foot at 72 % of foot length from the heel (anthropometric average).
HEEL_TO_BALL_FRACTION = 0.72
DEFAULT_FOOT_LENGTH_CM = 26.0


@dataclass
class HeelRaiseSettings:
    """Detector settings, all in physical units."""

    min_rom_deg: float = 5.0
    clean_rom_fraction: float = 0.8  # of the set's best range
    drop_speed_fraction: float = 0.5  # of the free-fall speed from the rep's heel height
    max_ball_acc_mps2: float = 3.0
    max_gyr_dps: float = 300.0
    min_gyro_share: float = 0.5  # of the rise that the integrated angular rate must show
    set_break_s: float = 10.0
    analysis_rate_hz: float = 200.0
    tolerance: TempoTolerance = field(default_factory=TempoTolerance)


@dataclass
class Rep:
    """One heel raise. Times in s on the file's axis; None where a boundary fell in a gap."""

    start_s: float | None
    top_start_s: float | None
    top_end_s: float | None
    end_s: float | None
    concentric_s: float | None
    hold_s: float | None
    eccentric_s: float | None
    rom_deg: float
    clean: bool
    set_index: int = 0
    bottom_pitch_deg: float = 0.0
    peak_pitch_deg: float = 0.0
    heel_rise_cm: float | None = None
    up_s: float | None = None  # movement times (see analysis.prescriptions)
    top_hold_s: float | None = None
    down_s: float | None = None
    rest_s: float | None = None
    tempo_pass: dict[str, bool | None] | None = None
    partial: bool = False
    dropped: bool = False
    in_gap: bool = False
    peak_lowering_dps: float = 0.0


@dataclass
class HeelRaiseSet:
    """Reps grouped into a set, with its fatigue and tempo summary."""

    start_s: float
    end_s: float
    reps: int
    clean_reps: int
    rest_before_s: float | None
    best_rom_deg: float
    rom_trend_deg_per_rep: float
    rom_change_pct: float
    down_change_pct: float
    tempo_score_pct: float | None


@dataclass
class HeelRaiseResult:
    """Everything the analysis found in one recording."""

    sample_rate_hz: float
    reps: list[Rep]
    sets: list[HeelRaiseSet]
    alignment: FootAlignment
    foot_length_cm: float | None
    tempo: TempoPrescription | None
    tolerance: TempoTolerance


def _crossing(x: np.ndarray, lo: int, hi: int, level: float, rising: bool, last: bool):
    """Fractional index where x crosses ``level`` in [lo, hi], or None."""
    lo, hi = max(lo, 0), min(hi, len(x) - 1)
    if hi <= lo:
        return None
    seg = x[lo : hi + 1]
    above = seg >= level
    idx = (
        np.flatnonzero(above[1:] & ~above[:-1])
        if rising
        else np.flatnonzero(~above[1:] & above[:-1])
    )
    if len(idx) == 0:
        return None
    i = int(idx[-1] if last else idx[0])
    a, b = seg[i], seg[i + 1]
    return lo + i + (level - a) / (b - a)


def _rise_onset(x: np.ndarray, rate: np.ndarray, lo: int, peak: int, min_rise: float) -> int:
    """Index where the rise to ``peak`` began: the bottom just before the rep.

    Starts from a point certainly on the rise (the last sample more than ``min_rise``
    below the peak), walks back to where the (smoothed) pitch rate stopped being
    positive, then forward again to the last sample whose rate was not clearly positive
    (3 % of the rise's peak rate): the resting bottom, or the turning point of continuous
    reps. Only the rise itself is looked at, never what the foot did before (a walk's
    deep troughs must not define a rep's bottom).
    """
    below = np.flatnonzero(x[lo:peak] < x[peak] - min_rise)
    mid = lo + int(below[-1]) if len(below) else lo
    turn = np.flatnonzero(rate[lo : mid + 1] <= 0.0)
    b1 = lo + int(turn[-1]) if len(turn) else lo
    thr = max(0.5, 0.03 * float(rate[b1 : peak + 1].max()))
    flat = np.flatnonzero(rate[b1 : mid + 1] <= thr)
    return b1 + int(flat[-1]) if len(flat) else b1


class HeelRaiseAnalyzer:
    """Heel-raise analysis of one shoe sensor.

    Settings live in ``__init__``; :meth:`analyze` sets ``result_`` and returns it.
    """

    def __init__(self, settings: HeelRaiseSettings | None = None) -> None:
        self.settings = settings or HeelRaiseSettings()
        self.result_: HeelRaiseResult | None = None
        self.pitch_deg_: np.ndarray | None = None
        self.signal_: UniformSignal | None = None

    def analyze(
        self,
        t_s: np.ndarray,
        acc_mps2: np.ndarray,
        gyr_dps: np.ndarray,
        *,
        fs_hz: float,
        foot_length_cm: float | None = None,
        tempo: TempoPrescription | None = None,
        lateral_hint: np.ndarray | None = None,
    ) -> HeelRaiseResult:
        """Find and measure the heel raises in one recording.

        Parameters
        ----------
        t_s : ndarray, shape (n,)
            Sample times in s, strictly increasing (gaps allowed).
        acc_mps2 : ndarray, shape (n, 3)
            Specific force in m/s^2, sensor axes in any orientation.
        gyr_dps : ndarray, shape (n, 3)
            Angular rate in deg/s, same axes.
        fs_hz : float
            Nominal sample rate.
        foot_length_cm : float, optional
            Enables heel-rise height.
        tempo : TempoPrescription, optional
            Enables per-phase compliance and the set's tempo score.
        lateral_hint : ndarray, shape (3,), optional
            The foot's lateral axis in sensor coordinates from a strong cue elsewhere
            (the ``alignment.lateral`` of an earlier analysis of the same mounting whose
            ``sign_method`` was ``swing-forward`` or ``lever-arm``): decides the axis's
            sign when this recording has no strong cue (see
            :func:`analysis.orientation.sagittal_motion`). None (default): the recording
            alone decides.
        """
        st = self.settings
        if fs_hz >= 2 * st.analysis_rate_hz:  # averaged down: no full-rate copy needed
            sig = binned_mean(t_s, acc_mps2, gyr_dps, fs_hz=fs_hz, max_rate_hz=st.analysis_rate_hz)
        else:
            sig = to_uniform(t_s, acc_mps2, gyr_dps, fs_hz=fs_hz)
        fs = sig.fs_hz
        still = still_mask(sig)
        motion = sagittal_motion(sig, still, sign_hint=lateral_hint)
        al, pitch, ball_acc = motion.alignment, motion.pitch_deg, motion.ball_acc_mps2
        self.signal_ = sig
        gyr_norm = np.linalg.norm(sig.gyr_dps - al.gyr_bias_dps, axis=1)
        rot = np.cumsum((sig.gyr_dps - al.gyr_bias_dps) @ al.lateral) / fs

        win = max(1, int(round(0.1 * fs)))
        rate = uniform_filter1d(np.gradient(pitch) * fs, win)
        peaks, _ = signal.find_peaks(pitch, prominence=st.min_rom_deg)
        raw: list[dict] = []
        prev = 0
        for n_pk, p in enumerate(peaks):
            b = _rise_onset(pitch, rate, prev, p, st.min_rom_deg)
            base = pitch[b]
            exc = pitch[p] - base
            nxt = peaks[n_pk + 1] if n_pk + 1 < len(peaks) else len(pitch) - 1
            if exc < st.min_rom_deg:
                continue
            l10, l90 = base + 0.1 * exc, base + 0.9 * exc
            i_start = _crossing(pitch, b, p, l10, rising=True, last=False)
            i_top0 = _crossing(pitch, b, p, l90, rising=True, last=False)
            i_end = _crossing(pitch, p, nxt, l10, rising=False, last=False)
            if i_start is None or i_top0 is None or i_end is None:
                continue  # never came back down before the next rise, or cut by the file
            i_top1 = _crossing(pitch, p, int(np.ceil(i_end)), l90, rising=False, last=True)
            if i_top1 is None:
                continue
            a0, a1 = int(np.floor(i_start)), int(np.ceil(i_top1)) + 1
            j0, j1 = int(round(i_start)), int(round(i_top0))
            if rot[j1] - rot[j0] < st.min_gyro_share * (pitch[j1] - pitch[j0]):
                continue  # the estimate settled, the foot did not turn
            if ball_acc[a0:a1].max() > st.max_ball_acc_mps2:
                continue  # the ball left the ground: a step, not a heel raise
            if gyr_norm[a0:a1].max() > st.max_gyr_dps:
                continue  # a swing, not a rise (a dropped heel may rotate faster: allowed)
            prev = int(np.ceil(i_end))
            ecc = slice(int(np.floor(i_top1)), int(np.ceil(i_end)) + 1)
            raw.append(
                {
                    "idx": (i_start, i_top0, i_top1, i_end),
                    "bottom": base,
                    "peak": pitch[p],
                    "rom": exc,
                    "lower_dps": float(max(0.0, -np.gradient(pitch[ecc]).min() * fs)),
                }
            )

        zero = _standing_level(pitch, still, raw, fs)
        # Standing level on a step between sets (heel lowered for the reps, then level
        # again to rest) looks like a slow rise and a long hold. A hold at the standing
        # level that lasts longer than a set break is standing, not a rep.
        level = np.abs(pitch - zero) < 0.5 * st.min_rom_deg
        flat_top = [
            r
            for r in raw
            if level[int(r["idx"][0]) : int(r["idx"][3]) + 1].sum() / fs > st.set_break_s
        ]
        if flat_top:
            raw = [r for r in raw if r not in flat_top]
            zero = _standing_level(pitch, still, raw, fs)
        pitch = pitch - zero
        self.pitch_deg_ = pitch

        foot_cm = foot_length_cm
        d_m = HEEL_TO_BALL_FRACTION * (foot_cm or DEFAULT_FOOT_LENGTH_CM) / 100.0
        reps: list[Rep] = []
        for r in raw:
            times = []
            gap = False
            for i in r["idx"]:
                j0, j1 = int(np.floor(i)), min(int(np.ceil(i)), sig.n - 1)
                if sig.valid[j0] and sig.valid[j1]:
                    times.append(float(sig.time_of(i)))
                else:
                    times.append(None)
                    gap = True
            s0, s1, s2, s3 = times
            bottom, peak = r["bottom"] - zero, r["peak"] - zero
            rise_m = d_m * (np.sin(np.radians(peak)) - np.sin(np.radians(bottom)))
            v_heel = d_m * np.radians(r["lower_dps"]) * np.cos(np.radians(max(bottom, 0.0)))
            v_fall = np.sqrt(2 * GRAVITY_MPS2 * max(rise_m, 1e-4))
            reps.append(
                Rep(
                    start_s=s0,
                    top_start_s=s1,
                    top_end_s=s2,
                    end_s=s3,
                    concentric_s=_diff(s1, s0),
                    hold_s=_diff(s2, s1),
                    eccentric_s=_diff(s3, s2),
                    rom_deg=float(r["rom"]),
                    clean=False,
                    bottom_pitch_deg=float(bottom),
                    peak_pitch_deg=float(peak),
                    heel_rise_cm=float(100 * rise_m) if foot_cm else None,
                    dropped=bool(v_heel > self.settings.drop_speed_fraction * v_fall),
                    in_gap=gap,
                    peak_lowering_dps=r["lower_dps"],
                )
            )
        sets = self._group(reps, tempo)
        self.result_ = HeelRaiseResult(
            sample_rate_hz=float(fs_hz),
            reps=reps,
            sets=sets,
            alignment=al,
            foot_length_cm=foot_cm,
            tempo=tempo,
            tolerance=st.tolerance,
        )
        return self.result_

    def _group(self, reps: list[Rep], tempo: TempoPrescription | None) -> list[HeelRaiseSet]:
        st = self.settings
        if not reps:
            return []
        # Split into sets where the pause between reps is longer than set_break_s.
        set_idx = 0
        for k, rep in enumerate(reps):
            if k and _pause(reps[k - 1], rep) > st.set_break_s:
                set_idx += 1
            rep.set_index = set_idx
        sets: list[HeelRaiseSet] = []
        for s in range(set_idx + 1):
            members = [r for r in reps if r.set_index == s]
            for k, rep in enumerate(members):
                nxt = members[k + 1] if k + 1 < len(members) else None
                gap = _diff(nxt.start_s, rep.end_s) if nxt else None
                if None not in (rep.concentric_s, rep.hold_s, rep.eccentric_s):
                    rep.up_s, rep.top_hold_s, rep.down_s, rep.rest_s = movement_times(
                        rep.concentric_s,
                        rep.hold_s,
                        rep.eccentric_s,
                        gap,
                        nxt.concentric_s if nxt else None,
                    )
                if tempo is not None:
                    tol = st.tolerance
                    rep.tempo_pass = {
                        "up": tol.passes(rep.up_s, tempo.up_s),
                        "hold": tol.passes(rep.top_hold_s, tempo.hold_s),
                        "down": tol.passes(rep.down_s, tempo.down_s),
                        "rest": tol.passes(rep.rest_s, tempo.rest_s) if nxt else None,
                    }
            best = max(r.rom_deg for r in members)
            for rep in members:
                rep.partial = rep.rom_deg < st.clean_rom_fraction * best
                tempo_ok = rep.tempo_pass is None or all(
                    v is not False for v in rep.tempo_pass.values()
                )
                rep.clean = not (rep.partial or rep.dropped or rep.in_gap) and tempo_ok
            # Fatigue is read from the full reps: a partial or dropped rep is reported on
            # its own, not folded into the trend.
            full = [r for r in members if not (r.partial or r.dropped)] or members
            roms = np.array([r.rom_deg for r in full])
            downs = np.array([r.down_s if r.down_s is not None else np.nan for r in full])
            third = max(1, len(full) // 3)
            slope = float(np.polyfit(np.arange(len(roms)), roms, 1)[0]) if len(roms) > 1 else 0.0
            score = None
            if tempo is not None:
                checks = [v for r in members for v in r.tempo_pass.values() if v is not None]
                score = 100.0 * float(np.mean(checks)) if checks else None
            prev_end = sets[-1].end_s if sets else None
            sets.append(
                HeelRaiseSet(
                    start_s=_first(r.start_s for r in members),
                    end_s=_first(r.end_s for r in reversed(members)),
                    reps=len(members),
                    clean_reps=sum(r.clean for r in members),
                    rest_before_s=_diff(_first(r.start_s for r in members), prev_end),
                    best_rom_deg=float(best),
                    rom_trend_deg_per_rep=slope,
                    rom_change_pct=_pct(roms[:third], roms[-third:]),
                    down_change_pct=_pct(downs[:third], downs[-third:]),
                    tempo_score_pct=score,
                )
            )
        return sets


def _standing_level(pitch: np.ndarray, still: np.ndarray, raw: list[dict], fs: float) -> float:
    """Zero pitch: the foot standing level = still periods outside every rep."""
    outside = still.copy()
    for r in raw:
        lo = max(0, int(r["idx"][0] - fs))
        outside[lo : int(r["idx"][3] + fs) + 1] = False
    if outside.sum() > fs:
        return float(np.median(pitch[outside]))
    if raw:
        return float(np.median([r["bottom"] for r in raw]))
    return float(np.median(pitch))


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else float(a - b)


def _first(values) -> float:
    return next(v for v in values if v is not None)


def _pause(a: Rep, b: Rep) -> float:
    end = a.end_s if a.end_s is not None else a.top_end_s
    start = b.start_s if b.start_s is not None else b.top_start_s
    return float(start - end) if None not in (start, end) else 0.0


def _pct(first: np.ndarray, last: np.ndarray) -> float:
    f, la = np.nanmean(first), np.nanmean(last)
    return float(100.0 * (la - f) / f) if np.isfinite(f) and np.isfinite(la) and f else 0.0


def analyze_heel_raises(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_dps: np.ndarray,
    *,
    fs_hz: float,
    foot_length_cm: float | None = None,
    tempo: TempoPrescription | None = None,
    settings: HeelRaiseSettings | None = None,
) -> HeelRaiseResult:
    """Functional form of :class:`HeelRaiseAnalyzer` (see there for the parameters)."""
    return HeelRaiseAnalyzer(settings).analyze(
        t_s, acc_mps2, gyr_dps, fs_hz=fs_hz, foot_length_cm=foot_length_cm, tempo=tempo
    )


@dataclass
class SideBalance:
    """Left vs right over whole recordings: totals and left / right x 100 per measure."""

    left: dict[str, float | None]
    right: dict[str, float | None]
    left_pct_of_right: dict[str, float | None]


def side_balance(left: HeelRaiseResult, right: HeelRaiseResult) -> SideBalance:
    """Compare two shoes' heel-raise work: reps, clean reps, mean range, mean heel rise.

    Means are over the full reps (not partial, not dropped), as a coach compares them.
    """

    def summary(res: HeelRaiseResult) -> dict[str, float | None]:
        full = [r for r in res.reps if not (r.partial or r.dropped)] or res.reps
        heights = [r.heel_rise_cm for r in full if r.heel_rise_cm is not None]
        return {
            "reps": float(len(res.reps)),
            "clean_reps": float(sum(r.clean for r in res.reps)),
            "mean_rom_deg": float(np.mean([r.rom_deg for r in full])) if full else None,
            "mean_heel_rise_cm": float(np.mean(heights)) if heights else None,
        }

    a, b = summary(left), summary(right)
    pct = {k: (100.0 * a[k] / b[k] if a[k] is not None and b[k] else None) for k in a}
    return SideBalance(a, b, pct)
