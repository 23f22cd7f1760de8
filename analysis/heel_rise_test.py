"""The single-leg heel-rise test (protocols.md section 1), read from heel-raise reps.

The standardised clinical form: single leg, knee straight, 10 deg incline, fingertip
support, a metronome at 60 beats per minute, up on one beat and down on the next (30 reps
per minute). The test ends when the heel can no longer be lifted, the pace can no longer
be followed, or form is lost; in the published protocol the athlete is prompted when a
criterion is seen and the test ends when two consecutive prompts go unanswered.

What a shoe IMU can see of that, and the rules used here:

- Pace: rep ``k`` (from 0) should start on beat ``2k`` after the first. The metronome's
  phase is taken from the first three reps (median of ``start_k - 2 k beat``). A rep
  more than ``max_lag_beats`` (one beat) early or late is off pace.
- Height: a rep whose heel rise is below ``min_height_fraction`` (half) of the best of
  the first five reps is a heel that is no longer lifted. Without the foot length the
  same rule runs on the range of motion in degrees.
- Form: a heel that drops (lowered faster than half the free-fall speed, see
  :mod:`analysis.heel_raise`) is form lost. Knee and trunk are not seen by a shoe sensor.
- Two consecutive failing reps end the test at the first of them; the reps before it
  are counted. A failing rep followed by a good one is counted, as a prompted athlete
  who recovers would be.

Results: reps, peak heel height, total vertical displacement (sum of the counted reps'
heel-rise heights) and total positive work ``body_mass_kg * g * displacement`` when the
mass is known, with the published norms and a strength/endurance reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.heel_raise import GRAVITY_MPS2, HeelRaiseResult, Rep

#: Published norms (protocols.md): 500 adults measured with a camera-based app, and the
#: median rep counts of 566 adults.
NORMS = {
    "reps": (24.0, 25.0),
    "peak_height_cm": (9.3, 9.6),
    "total_displacement_cm": (186.0, 192.0),
    "total_work_j": (1325.0, 1374.0),
    "median_reps_men": 24.0,
    "median_reps_women": 21.0,
}
#: Below this many reps the calf lacks strength (heavy, slow work first).
STRENGTH_GAP_REPS = 10
#: The limb symmetry index a return to running commonly aims for.
LSI_TARGET_PCT = 90.0


@dataclass
class HeelRiseTestSettings:
    """Stop rules of the test, in physical units."""

    beat_s: float = 1.0  # 60 beats per minute
    max_lag_beats: float = 1.0
    min_height_fraction: float = 0.5
    failures_to_stop: int = 2


@dataclass
class HeelRiseTestResult:
    """Outcome of one single-leg heel-rise test.

    Attributes
    ----------
    reps : int
        Reps counted before the test ended.
    stop_reason : str
        ``'pace lost'``, ``'heel no longer lifted'``, ``'heel dropped (form lost)'`` or
        ``'stopped'`` (the set ended with no rule broken).
    stop_s : float or None
        Start of the first rep of the two failing ones (None if the athlete just stopped).
    peak_height_cm, mean_height_cm, total_displacement_cm : float or None
        Heel-rise heights of the counted reps (None without the foot length).
    total_work_j : float or None
        Positive work against gravity; needs the body mass and the foot length.
    mean_cycle_s : float or None
        Mean start-to-start time of the counted reps (2.0 s at 60 bpm).
    rep_flags : list of str
        Per rep of the set: ``'ok'``, ``'off pace'``, ``'low'``, ``'dropped'``.
    reading : str
        The strength/endurance reading against the norms.
    """

    reps: int
    stop_reason: str
    stop_s: float | None
    set_index: int
    peak_height_cm: float | None
    mean_height_cm: float | None
    total_displacement_cm: float | None
    total_work_j: float | None
    body_mass_kg: float | None
    mean_cycle_s: float | None
    peak_rom_deg: float
    rep_flags: list[str] = field(default_factory=list)
    reading: str = ""


def _start(r: Rep) -> float:
    return r.start_s if r.start_s is not None else float(r.top_start_s)


def heel_rise_test(
    result: HeelRaiseResult,
    *,
    body_mass_kg: float | None = None,
    settings: HeelRiseTestSettings | None = None,
) -> HeelRiseTestResult | None:
    """Score the heel-rise test in a heel-raise analysis.

    The test is the set with the most reps (a file holds one leg; a warm-up or a
    re-try is a shorter set). Returns None when the recording has no reps.

    Parameters
    ----------
    result : HeelRaiseResult
        From :func:`analysis.heel_raise.analyze_heel_raises`.
    body_mass_kg : float, optional
        Enables the total work.
    settings : HeelRiseTestSettings, optional
    """
    st = settings or HeelRiseTestSettings()
    if not result.reps:
        return None
    sets = sorted({r.set_index for r in result.reps})
    counts = [sum(r.set_index == s for r in result.reps) for s in sets]
    set_index = sets[int(np.argmax(counts))]
    reps = [r for r in result.reps if r.set_index == set_index]

    starts = np.array([_start(r) for r in reps])
    cycle = 2.0 * st.beat_s
    k = np.arange(len(reps))
    phase = float(np.median(starts[:3] - cycle * k[:3]))
    lag_beats = (starts - (phase + cycle * k)) / st.beat_s
    have_height = all(r.heel_rise_cm is not None for r in reps)
    size = np.array([r.heel_rise_cm if have_height else r.rom_deg for r in reps], float)
    ref = float(size[:5].max())

    flags = []
    for j, r in enumerate(reps):
        if abs(lag_beats[j]) > st.max_lag_beats:
            flags.append("off pace")
        elif size[j] < st.min_height_fraction * ref:
            flags.append("low")
        elif r.dropped:
            flags.append("dropped")
        else:
            flags.append("ok")
    bad = np.array([f != "ok" for f in flags])
    n = len(reps)
    stop = n
    for j in range(n - st.failures_to_stop + 1):
        if bad[j : j + st.failures_to_stop].all():
            stop = j
            break
    else:
        # The last reps of the set cannot be followed by a second prompt: a failing
        # final rep ends the test there.
        tail = np.flatnonzero(~bad)
        stop = int(tail[-1]) + 1 if len(tail) else 0
    reason = {
        "off pace": "pace lost",
        "low": "heel no longer lifted",
        "dropped": "heel dropped (form lost)",
    }.get(flags[stop] if stop < n else "", "stopped")
    counted = reps[:stop]
    heights = np.array([r.heel_rise_cm for r in counted], float) if have_height else None
    disp = float(heights.sum()) if heights is not None and len(heights) else None
    work = (
        float(body_mass_kg * GRAVITY_MPS2 * disp / 100.0)
        if body_mass_kg is not None and disp is not None
        else None
    )
    cyc = float(np.mean(np.diff(starts[:stop]))) if stop >= 2 else None
    out = HeelRiseTestResult(
        reps=stop,
        stop_reason=reason,
        stop_s=float(starts[stop]) if stop < n else None,
        set_index=set_index,
        peak_height_cm=float(heights.max()) if heights is not None and len(heights) else None,
        mean_height_cm=float(heights.mean()) if heights is not None and len(heights) else None,
        total_displacement_cm=disp,
        total_work_j=work,
        body_mass_kg=body_mass_kg,
        mean_cycle_s=cyc,
        peak_rom_deg=float(max((r.rom_deg for r in counted), default=0.0)),
        rep_flags=flags,
    )
    out.reading = reading(out)
    return out


def reading(res: HeelRiseTestResult) -> str:
    """The strength/endurance reading of a test result (protocols.md section 1)."""
    lo, hi = NORMS["reps"]
    parts = []
    if res.reps < STRENGTH_GAP_REPS:
        parts.append(
            f"{res.reps} reps (< {STRENGTH_GAP_REPS}): strength gap - heavy, slow calf work first"
        )
    elif res.reps < 20:
        parts.append(
            f"{res.reps} reps: below the typical {lo:.0f}-{hi:.0f} - build endurance "
            "(longer sets) once strength allows"
        )
    else:
        parts.append(
            f"{res.reps} reps: in the typical range ({lo:.0f}-{hi:.0f}); if the calves still "
            "tire on hills, the gap is endurance (longer sets)"
        )
    if res.peak_height_cm is not None:
        h_lo, h_hi = NORMS["peak_height_cm"]
        parts.append(f"peak heel height {res.peak_height_cm:.1f} cm (norm {h_lo}-{h_hi} cm)")
    return "; ".join(parts)


@dataclass
class LimbSymmetry:
    """Limb symmetry index, involved / uninvolved x 100, per measure (None if unknown)."""

    involved: str
    reps_pct: float | None
    peak_height_pct: float | None
    total_displacement_pct: float | None
    total_work_pct: float | None
    below_target: list[str]


def limb_symmetry(
    tests: dict[str, HeelRiseTestResult], involved: str | None = None
) -> LimbSymmetry:
    """LSI of two sides' tests.

    Parameters
    ----------
    tests : dict
        ``{"left": result, "right": result}``.
    involved : {'left', 'right'}, optional
        The injured or weaker side. When not given, the side with the lower total work
        (or displacement, or reps, whichever is known) is taken as involved.
    """
    if set(tests) != {"left", "right"}:
        raise ValueError("limb symmetry needs one left and one right test")
    if involved is None:
        key = next(
            (
                k
                for k in ("total_work_j", "total_displacement_cm", "reps")
                if all(getattr(t, k) is not None for t in tests.values())
            ),
            "reps",
        )
        involved = min(tests, key=lambda s: getattr(tests[s], key))
    other = "right" if involved == "left" else "left"
    a, b = tests[involved], tests[other]

    def pct(k: str) -> float | None:
        x, y = getattr(a, k), getattr(b, k)
        return None if x is None or y is None or not y else float(100.0 * x / y)

    vals = {
        "reps": pct("reps"),
        "peak_height": pct("peak_height_cm"),
        "total_displacement": pct("total_displacement_cm"),
        "total_work": pct("total_work_j"),
    }
    return LimbSymmetry(
        involved=involved,
        reps_pct=vals["reps"],
        peak_height_pct=vals["peak_height"],
        total_displacement_pct=vals["total_displacement"],
        total_work_pct=vals["total_work"],
        below_target=[k for k, v in vals.items() if v is not None and v < LSI_TARGET_PCT],
    )
