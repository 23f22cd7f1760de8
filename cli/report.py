"""Results -> the JSON contract and the readable table. The contract is produced only here."""

from __future__ import annotations

import numpy as np

from analysis.gait import GaitBalance, GaitResult
from analysis.heel_raise import HeelRaiseResult, SideBalance
from analysis.heel_rise_test import (
    LSI_TARGET_PCT,
    NORMS,
    HeelRiseTestResult,
    LimbSymmetry,
)
from analysis.pogo import PogoResult


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


def heel_raise_json(res: HeelRaiseResult, source: str | None = None) -> dict:
    """The ``--json`` object for ``--exercise heel-raise`` (contract of issue 2).

    Required keys: ``exercise``, ``sample_rate_hz``, ``reps`` (``start_s``, ``top_start_s``,
    ``top_end_s``, ``end_s``, ``concentric_s``, ``hold_s``, ``eccentric_s``, ``rom_deg``,
    ``clean``) and ``sets`` (``start_s``, ``end_s``, ``reps``). Everything else is extra.
    """
    reps = []
    for r in res.reps:
        reps.append(
            {
                "start_s": _r(r.start_s),
                "top_start_s": _r(r.top_start_s),
                "top_end_s": _r(r.top_end_s),
                "end_s": _r(r.end_s),
                "concentric_s": _r(r.concentric_s),
                "hold_s": _r(r.hold_s),
                "eccentric_s": _r(r.eccentric_s),
                "rom_deg": _r(r.rom_deg, 2),
                "clean": bool(r.clean),
                "set": r.set_index + 1,
                "heel_rise_cm": _r(r.heel_rise_cm, 2),
                "bottom_pitch_deg": _r(r.bottom_pitch_deg, 2),
                "peak_pitch_deg": _r(r.peak_pitch_deg, 2),
                "movement_s": {
                    "up": _r(r.up_s, 2),
                    "hold": _r(r.top_hold_s, 2),
                    "down": _r(r.down_s, 2),
                    "rest": _r(r.rest_s, 2),
                },
                "tempo_pass": r.tempo_pass,
                "partial": bool(r.partial),
                "dropped": bool(r.dropped),
                "gap": bool(r.in_gap),
            }
        )
    sets = [
        {
            "start_s": _r(s.start_s),
            "end_s": _r(s.end_s),
            "reps": s.reps,
            "clean_reps": s.clean_reps,
            "rest_before_s": _r(s.rest_before_s, 1),
            "best_rom_deg": _r(s.best_rom_deg, 2),
            "rom_trend_deg_per_rep": _r(s.rom_trend_deg_per_rep, 3),
            "rom_change_pct": _r(s.rom_change_pct, 1),
            "down_change_pct": _r(s.down_change_pct, 1),
            "tempo_score_pct": _r(s.tempo_score_pct, 1),
        }
        for s in res.sets
    ]
    al = res.alignment
    out = {
        "exercise": "heel-raise",
        "sample_rate_hz": float(res.sample_rate_hz),
        "reps": reps,
        "sets": sets,
        "tempo": str(res.tempo) if res.tempo else None,
        "tempo_tolerance": str(res.tolerance),
        "foot_length_cm": res.foot_length_cm,
        "alignment": {
            "sign_method": al.sign_method,
            "sign_confidence": round(al.sign_confidence, 1),
        },
    }
    if source:
        out["file"] = source
    return out


def _f(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def heel_raise_table(res: HeelRaiseResult, source: str | None = None) -> str:
    """A readable report: one line per rep, then one per set."""
    lines = []
    head = f"Heel raises in {source}" if source else "Heel raises"
    lines.append(f"{head}: {len(res.reps)} reps in {len(res.sets)} set(s)")
    if res.tempo:
        lines.append(
            f"Prescribed tempo {res.tempo} (up-hold-down-rest s), tolerance {res.tolerance}; "
            "phase times below are movement times (minimum-jerk model)"
        )
    if res.foot_length_cm is None:
        lines.append(
            "Heel-rise height needs the foot length (header foot_length_cm or --foot-length-cm)"
        )
    hdr = f"{'set':>3} {'rep':>3} {'start s':>8} {'up':>5} {'hold':>5} {'down':>5} {'rest':>5} {'ROM deg':>7} {'heel cm':>7}  clean  notes"
    lines.append(hdr)
    lines.append("-" * len(hdr))
    counters: dict[int, int] = {}
    for r in res.reps:
        counters[r.set_index] = counters.get(r.set_index, 0) + 1
        notes = []
        if r.tempo_pass:
            for k, v in r.tempo_pass.items():
                if v is False:
                    notes.append(f"{k} off")
        if r.partial:
            notes.append("partial")
        if r.dropped:
            notes.append("dropped")
        if r.in_gap:
            notes.append("data gap")
        lines.append(
            f"{r.set_index + 1:>3} {counters[r.set_index]:>3} {_f(r.start_s, '{:.2f}'):>8} "
            f"{_f(r.up_s, '{:.1f}'):>5} {_f(r.top_hold_s, '{:.1f}'):>5} {_f(r.down_s, '{:.1f}'):>5} "
            f"{_f(r.rest_s, '{:.1f}'):>5} {r.rom_deg:>7.1f} {_f(r.heel_rise_cm, '{:.1f}'):>7}  "
            f"{'yes' if r.clean else 'no':<5}  {', '.join(notes)}"
        )
    lines.append("")
    for k, s in enumerate(res.sets, 1):
        score = (
            f", tempo kept {s.tempo_score_pct:.0f} % of phases"
            if s.tempo_score_pct is not None
            else ""
        )
        rest = f", rest before {s.rest_before_s:.0f} s" if s.rest_before_s is not None else ""
        lines.append(
            f"Set {k}: {s.reps} reps ({s.clean_reps} clean), {s.start_s:.1f}-{s.end_s:.1f} s{rest}; "
            f"best ROM {s.best_rom_deg:.1f} deg, ROM {s.rom_change_pct:+.0f} % and lowering time "
            f"{s.down_change_pct:+.0f} % from first to last third{score}"
        )
    return "\n".join(lines)


def heel_rise_test_json(t: HeelRiseTestResult | None) -> dict | None:
    """The ``"test"`` object of ``--test heel-rise`` (None when no rep was found)."""
    if t is None:
        return None
    return {
        "name": "heel-rise",
        "reps": t.reps,
        "stop_reason": t.stop_reason,
        "stop_s": _r(t.stop_s),
        "set": t.set_index + 1,
        "peak_height_cm": _r(t.peak_height_cm, 2),
        "mean_height_cm": _r(t.mean_height_cm, 2),
        "total_displacement_cm": _r(t.total_displacement_cm, 1),
        "total_work_j": _r(t.total_work_j, 0),
        "body_mass_kg": t.body_mass_kg,
        "mean_cycle_s": _r(t.mean_cycle_s, 2),
        "peak_rom_deg": _r(t.peak_rom_deg, 1),
        "rep_flags": t.rep_flags,
        "reading": t.reading,
        "norms": NORMS,
    }


def heel_rise_test_table(t: HeelRiseTestResult | None, source: str | None = None) -> str:
    """Readable result of the heel-rise test."""
    head = f"Heel-rise test ({source})" if source else "Heel-rise test"
    if t is None:
        return f"{head}: no reps found"
    lines = [f"{head}, set {t.set_index + 1}: {t.reps} reps; ended: {t.stop_reason}"]
    if t.stop_s is not None:
        lines[-1] += f" at {t.stop_s:.1f} s"
    if t.mean_cycle_s is not None:
        lines.append(f"  pace {t.mean_cycle_s:.2f} s per rep (metronome: 2.00 s)")
    if t.peak_height_cm is not None:
        lines.append(
            f"  peak heel height {t.peak_height_cm:.1f} cm, mean {t.mean_height_cm:.1f} cm, "
            f"total vertical displacement {t.total_displacement_cm:.0f} cm"
        )
    else:
        lines.append("  heights need the foot length (header foot_length_cm or --foot-length-cm)")
    if t.total_work_j is not None:
        lines.append(f"  total work {t.total_work_j:.0f} J at {t.body_mass_kg:g} kg")
    elif t.peak_height_cm is not None:
        lines.append("  work needs the body mass (header body_mass_kg or --body-mass-kg)")
    lines.append(f"  reading: {t.reading}")
    return "\n".join(lines)


def symmetry_json(s: LimbSymmetry) -> dict:
    """Limb symmetry index object (involved / uninvolved x 100)."""
    return {
        "involved": s.involved,
        "reps_pct": _r(s.reps_pct, 1),
        "peak_height_pct": _r(s.peak_height_pct, 1),
        "total_displacement_pct": _r(s.total_displacement_pct, 1),
        "total_work_pct": _r(s.total_work_pct, 1),
        "target_pct": LSI_TARGET_PCT,
        "below_target": s.below_target,
    }


def symmetry_table(s: LimbSymmetry) -> str:
    """Readable limb symmetry index."""
    cells = [
        f"{name} {v:.0f} %"
        for name, v in (
            ("reps", s.reps_pct),
            ("peak height", s.peak_height_pct),
            ("displacement", s.total_displacement_pct),
            ("work", s.total_work_pct),
        )
        if v is not None
    ]
    below = ", ".join(s.below_target) if s.below_target else "none"
    return (
        f"Limb symmetry index ({s.involved} / other side x 100): {', '.join(cells)}; "
        f"below the {LSI_TARGET_PCT:.0f} % target: {below}"
    )


def pogo_json(res: PogoResult, source: str | None = None) -> dict:
    """The ``--json`` object for ``--exercise pogo`` (contract of issue 3).

    Required keys: ``exercise``, ``sample_rate_hz``, ``contacts`` (``landing_s``,
    ``takeoff_s``, ``contact_ms``, ``flight_ms``, null for the last contact of a round) and
    ``rounds`` (``start_s``, ``end_s``, ``contacts``). Everything else is extra.
    """
    contacts = [
        {
            "landing_s": _r(c.landing_s, 4),
            "takeoff_s": _r(c.takeoff_s, 4),
            "contact_ms": _r(c.contact_ms, 1),
            "flight_ms": _r(c.flight_ms, 1),
            "round": c.round_index + 1,
            "flight_to_stop_ms": _r(c.flight_to_stop_ms, 1),
            "jump_height_cm": _r(c.jump_height_cm, 1),
            "rsi_flight_contact": _r(c.rsi_flight_contact, 2),
            "rsi_height_contact_mps": _r(c.rsi_height_contact_mps, 3),
            "stiffness_kn_per_m": _r(c.stiffness_kn_per_m, 1),
            "impact_g": _r(c.impact_g, 1),
            "gap": bool(c.in_gap),
        }
        for c in res.contacts
    ]
    rounds = [
        {
            "start_s": _r(rd.start_s),
            "end_s": _r(rd.end_s),
            "contacts": rd.contacts,
            "final_landing_s": _r(rd.final_landing_s),
            "contact_ms_mean": _r(rd.contact_ms_mean, 1),
            "contact_ms_sd": _r(rd.contact_ms_sd, 1),
            "flight_ms_mean": _r(rd.flight_ms_mean, 1),
            "flight_ms_sd": _r(rd.flight_ms_sd, 1),
            "hop_frequency_hz": _r(rd.hop_frequency_hz, 3),
            "period_cv_pct": _r(rd.period_cv_pct, 1),
            "contact_drift_pct": _r(rd.contact_drift_pct, 1),
            "rhythm_lost": rd.rhythm_lost,
            "rhythm_lost_s": _r(rd.rhythm_lost_s, 2),
            "rsi_flight_contact_mean": _r(rd.rsi_flight_contact_mean, 2),
        }
        for rd in res.rounds
    ]
    out = {
        "exercise": "pogo",
        "sample_rate_hz": float(res.sample_rate_hz),
        "contacts": contacts,
        "rounds": rounds,
        "definitions": {
            "landing_s": "first instant of ground contact (force plate, 20 N)",
            "takeoff_s": "last instant of ground contact (force plate, 20 N)",
            "rsi_flight_contact": "flight time / contact time",
            "rsi_height_contact_mps": "jump height (g t_flight^2 / 8) / contact time, m/s",
            "stiffness_kn_per_m": "sine-wave model, needs body_mass_kg",
        },
        "body_mass_kg": res.body_mass_kg,
        "lever_arm_m": [round(float(x), 3) for x in res.lever_arm_m],
    }
    if res.ten_five is not None:
        tf = res.ten_five
        out["test"] = {
            "name": "10-5",
            "round": tf.round_index + 1,
            "rsi_best5": round(tf.rsi_best5, 2),
            "rsi_definition": "flight time / contact time",
            "best5_contacts": [k + 1 for k in tf.best5_contact_indices],
            "contact_ms_best5": round(tf.contact_ms_best5, 1),
            "flight_ms_best5": round(tf.flight_ms_best5, 1),
        }
    if source:
        out["file"] = source
    return out


def pogo_table(res: PogoResult, source: str | None = None) -> str:
    """Readable pogo report: one line per contact, then one per round."""
    head = f"Pogo/hops in {source}" if source else "Pogo/hops"
    lines = [f"{head}: {len(res.contacts)} contacts in {len(res.rounds)} round(s)"]
    lines.append(
        "landing/take-off = first/last instant of ground contact (as a 20 N force plate); "
        "RSI = flight/contact"
    )
    hdr = f"{'rnd':>3} {'#':>3} {'landing s':>9} {'contact ms':>10} {'flight ms':>9} {'height cm':>9} {'RSI':>5}"
    if res.body_mass_kg:
        hdr += f" {'k kN/m':>7}"
    lines += [hdr, "-" * len(hdr)]
    count: dict[int, int] = {}
    for c in res.contacts:
        count[c.round_index] = count.get(c.round_index, 0) + 1
        row = (
            f"{c.round_index + 1:>3} {count[c.round_index]:>3} {c.landing_s:>9.3f} "
            f"{c.contact_ms:>10.1f} {_f(c.flight_ms, '{:.1f}'):>9} "
            f"{_f(c.jump_height_cm, '{:.1f}'):>9} {_f(c.rsi_flight_contact, '{:.2f}'):>5}"
        )
        if res.body_mass_kg:
            row += f" {_f(c.stiffness_kn_per_m, '{:.1f}'):>7}"
        if c.in_gap:
            row += "  data gap"
        lines.append(row)
    lines.append("")
    for k, rd in enumerate(res.rounds, 1):
        flight = (
            f", flight {rd.flight_ms_mean:.0f} +- {rd.flight_ms_sd or 0:.0f} ms"
            if rd.flight_ms_mean is not None
            else ""
        )
        rhythm = f"; rhythm lost at {rd.rhythm_lost_s:.1f} s" if rd.rhythm_lost else "; rhythm held"
        drift = (
            f", contact time {rd.contact_drift_pct:+.0f} % first to last quarter"
            if rd.contact_drift_pct is not None
            else ""
        )
        lines.append(
            f"Round {k}: {rd.contacts} contacts, {rd.start_s:.1f}-{rd.end_s:.1f} s; contact "
            f"{rd.contact_ms_mean:.0f} +- {rd.contact_ms_sd:.0f} ms{flight}; "
            f"{_f(rd.hop_frequency_hz, '{:.2f}')} hops/s, period CV "
            f"{_f(rd.period_cv_pct, '{:.1f}')} %{drift}{rhythm}"
        )
    if res.ten_five is not None:
        tf = res.ten_five
        lines.append(
            f"10/5 test (round {tf.round_index + 1}): RSI (flight/contact) of the best 5 of 10 = "
            f"{tf.rsi_best5:.2f} (contact {tf.contact_ms_best5:.0f} ms, flight "
            f"{tf.flight_ms_best5:.0f} ms; trained athletes: about 2.5, 180 ms, 440 ms)"
        )
    return "\n".join(lines)


def balance_json(b: SideBalance) -> dict:
    """Left vs right object of a two-file heel-raise analysis."""
    return {
        "left": {k: _r(v, 2) for k, v in b.left.items()},
        "right": {k: _r(v, 2) for k, v in b.right.items()},
        "left_pct_of_right": {k: _r(v, 1) for k, v in b.left_pct_of_right.items()},
    }


def balance_table(b: SideBalance) -> str:
    """Readable left vs right comparison."""
    names = {
        "reps": ("reps", "{:.0f}"),
        "clean_reps": ("clean reps", "{:.0f}"),
        "mean_rom_deg": ("mean range deg", "{:.1f}"),
        "mean_heel_rise_cm": ("mean heel rise cm", "{:.1f}"),
    }
    lines = ["Left vs right (full reps):"]
    for k, (label, fmt) in names.items():
        pct = b.left_pct_of_right[k]
        lines.append(
            f"  {label:<18} left {_f(b.left[k], fmt):>6}  right {_f(b.right[k], fmt):>6}"
            f"  left = {_f(pct, '{:.0f}')} % of right"
        )
    return "\n".join(lines)


def gait_json(res: GaitResult, exercise: str, source: str | None = None) -> dict:
    """The ``--json`` object for ``--exercise strides|walk`` (contract of issue 4).

    Required keys: ``exercise``, ``sample_rate_hz``, ``steps`` (``initial_contact_s``,
    ``toe_off_s``, ``contact_ms``) and ``bouts`` (``start_s``, ``end_s``, ``steps``).
    ``steps`` lists the contacts of the foot that wears the sensor. Everything else is
    extra.
    """
    steps = [
        {
            "initial_contact_s": _r(s.initial_contact_s, 4),
            "toe_off_s": _r(s.toe_off_s, 4),
            "contact_ms": _r(s.contact_ms, 1),
            "stride_ms": _r(s.stride_ms, 1),
            "flight_ms": _r(s.flight_ms, 1),
            "kind": s.kind,
            "bout": s.bout_index + 1 if s.bout_index >= 0 else None,
            "steady": s.steady,
            "strike": s.strike,
            "gap": s.in_gap,
            "event_in_gap": s.event_in_gap,
        }
        for s in res.steps
    ]
    bouts = [
        {
            "start_s": _r(b.start_s),
            "end_s": _r(b.end_s),
            "steps": b.steps,
            "kind": b.kind,
            "steady_steps": b.steady_steps,
            "contact_ms_mean": _r(b.contact_ms_mean, 1),
            "contact_ms_median": _r(b.contact_ms_median, 1),
            "contact_ms_sd": _r(b.contact_ms_sd, 1),
            "stride_ms_mean": _r(b.stride_ms_mean, 1),
            "cadence_spm": _r(b.cadence_spm, 1),
            "duty_factor": _r(b.duty_factor, 3),
            "contact_trend_ms_per_step": _r(b.contact_trend_ms_per_step, 2),
        }
        for b in res.bouts
    ]
    out = {
        "exercise": exercise,
        "sample_rate_hz": float(res.sample_rate_hz),
        "steps": steps,
        "bouts": bouts,
        "definitions": {
            "initial_contact_s": "first instant of ground contact of this foot",
            "toe_off_s": "last instant of ground contact of this foot",
            "flight_ms": "stride / 2 - contact (one sensor: assumes equal steps); < 0 walking",
            "cadence_spm": "steps per minute of both feet (2 per stride of this foot)",
            "steady": "false for acceleration and slowing steps of a running bout",
        },
    }
    if source:
        out["file"] = source
    return out


def gait_table(res: GaitResult, exercise: str, source: str | None = None) -> str:
    """Readable strides/walk report: one line per bout, then the session."""
    head = f"{exercise.capitalize()} in {source}" if source else exercise.capitalize()
    lines = [f"{head}: {len(res.steps)} foot contacts in {len(res.bouts)} bout(s)"]
    lines.append(
        "contact = first to last instant of ground contact of this foot; "
        "averages use the steady steps"
    )
    hdr = f"{'bout':>4} {'kind':>4} {'start s':>8} {'steps':>5} {'contact ms':>14} {'cadence':>8} {'duty':>5} {'trend ms/step':>13}"
    lines += [hdr, "-" * len(hdr)]
    for k, b in enumerate(res.bouts, 1):
        lines.append(
            f"{k:>4} {b.kind:>4} {b.start_s:>8.1f} {b.steps:>5} "
            f"{b.contact_ms_mean:>7.0f} +- {b.contact_ms_sd:<4.0f} {_f(b.cadence_spm, '{:.0f}'):>8} "
            f"{_f(b.duty_factor, '{:.2f}'):>5} {_f(b.contact_trend_ms_per_step, '{:+.2f}'):>13}"
        )
    for kind in ("run", "walk"):
        c = [s.contact_ms for s in res.steps if s.kind == kind and s.steady and s.bout_index >= 0]
        if c:
            lines.append(
                f"All {kind} bouts: {len(c)} steady contacts, mean {np.mean(c):.0f} ms, "
                f"median {np.median(c):.0f} ms, SD {np.std(c, ddof=1) if len(c) > 1 else 0:.0f} ms"
            )
    return "\n".join(lines)


def gait_balance_json(b: GaitBalance) -> dict:
    """Left vs right object of a two-file strides/walk analysis."""
    return {
        "pairs": b.pairs,
        "left_contact_ms": _r(b.left_contact_ms, 1),
        "right_contact_ms": _r(b.right_contact_ms, 1),
        "left_pct_of_right": _r(b.left_pct_of_right, 1),
        "bouts": [
            {k: (_r(v, 1) if isinstance(v, float) else v) for k, v in d.items()} for d in b.bouts
        ],
        "clock": {
            "right_to_left_offset_s": _r(b.clock.offset_s, 4),
            "drift_ppm": _r(b.clock.drift_ppm, 1),
            "pairs_fitted": b.clock.windows,
        },
    }


def gait_balance_table(b: GaitBalance) -> str:
    if b.left_pct_of_right is None:
        return "Left/right: no paired steady contacts"
    lines = [
        f"Left/right contact time ({b.pairs} paired steady contacts): left "
        f"{b.left_contact_ms:.0f} ms, right {b.right_contact_ms:.0f} ms, left = "
        f"{b.left_pct_of_right:.1f} % of right (clocks: right + {b.clock.offset_s:.3f} s, "
        f"drift {b.clock.drift_ppm:+.0f} ppm)"
    ]
    for d in b.bouts:
        lines.append(
            f"  {d['kind']} bout at {d['start_s']:.1f} s: {d['pairs']} pairs, left "
            f"{d['left_pct_of_right']:.1f} % of right"
        )
    return "\n".join(lines)
