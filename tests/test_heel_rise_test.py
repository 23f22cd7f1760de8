"""The single-leg heel-rise test (60 bpm, stop rules) against synthetic truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.heel_raise import analyze_heel_raises
from analysis.heel_rise_test import heel_rise_test, limb_symmetry
from imu.recording import write_recording
from imu.synth.scenarios import HeelRaiseSetup, Tempo, heel_raise_session

REPO = Path(__file__).resolve().parents[1]


def _test_setup(**kw) -> HeelRaiseSetup:
    # On the metronome: 1 s up, 1 s down, no pause; a person following a beat does not
    # drift, so little tempo jitter and no speeding up of the lowering.
    base = dict(
        n_sets=1,
        reps_per_set=(25,),
        tempo=Tempo(1.0, 0.0, 1.0, 0.0),
        tempo_jitter=0.02,
        fatigue_down=0.0,
        fatigue_rom=0.15,
        rom_deg=32.0,
    )
    return HeelRaiseSetup(**{**base, **kw})


def _score(rec, mass=70.0):
    res = analyze_heel_raises(
        rec.t_s,
        rec.acc_mps2,
        rec.gyr_dps,
        fs_hz=rec.fs_hz,
        foot_length_cm=rec.meta_float("foot_length_cm"),
    )
    return heel_rise_test(res, body_mass_kg=mass)


@pytest.mark.parametrize(
    "seed, fs_hz, extra, reps, reason",
    [
        (3, 100.0, {}, 25, "stopped"),
        (1, 400.0, {"partial_reps": (21, 22), "partial_rom_fraction": 0.3}, 21, "heel no longer"),
        (2, 200.0, {"extra_rest_s": {15: 1.6}}, 16, "pace lost"),
        (4, 400.0, {"dropped_reps": (18, 19)}, 18, "heel dropped"),
    ],
)
def test_stop_rules_and_totals(seed, fs_hz, extra, reps, reason):
    rec, truth = heel_raise_session(seed, fs_hz, setup=_test_setup(**extra), packet_loss=0.005)
    t = _score(rec)
    assert t.reps == reps
    assert t.stop_reason.startswith(reason)
    true_h = np.array([r["heel_rise_cm"] for r in truth["reps"][:reps]])
    # Heel-rise height per rep is within 0.5 cm; the sum over ~20 reps within 5 %.
    assert abs(t.peak_height_cm - true_h.max()) < 0.5
    assert abs(t.total_displacement_cm - true_h.sum()) < 0.05 * true_h.sum()
    assert t.total_work_j == pytest.approx(70.0 * 9.80665 * t.total_displacement_cm / 100)
    assert t.mean_cycle_s == pytest.approx(2.0, abs=0.05)  # 60 bpm, up and down


def test_reading_names_a_strength_gap_below_ten_reps():
    rec, _ = heel_raise_session(
        5, 200.0, setup=_test_setup(partial_reps=(7, 8), partial_rom_fraction=0.3)
    )
    t = _score(rec)
    assert t.reps == 7
    assert "strength gap" in t.reading


def test_limb_symmetry_of_a_weaker_side(tmp_path):
    strong, _ = heel_raise_session(6, 200.0, setup=_test_setup(), side="right")
    weak, _ = heel_raise_session(
        7, 200.0, setup=_test_setup(partial_reps=(14, 15), partial_rom_fraction=0.3), side="left"
    )
    lsi = limb_symmetry({"left": _score(weak), "right": _score(strong)})
    assert lsi.involved == "left"
    assert lsi.reps_pct == pytest.approx(100 * 14 / 25)
    assert "reps" in lsi.below_target

    # The same through the command, two files, JSON.
    for rec, name in ((strong, "r.csv"), (weak, "l.csv")):
        rec.meta["body_mass_kg"] = "70"
        write_recording(tmp_path / name, rec)
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", str(tmp_path / "l.csv"),
         str(tmp_path / "r.csv"), "--exercise", "heel-raise", "--test", "heel-rise", "--json"],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["sensors"]["left"]["test"]["reps"] == 14
    assert doc["sensors"]["right"]["test"]["reps"] == 25
    assert doc["symmetry"]["involved"] == "left"
    assert doc["symmetry"]["total_work_pct"] < 90


def test_two_files_need_both_sides(tmp_path):
    rec, _ = heel_raise_session(8, 100.0)
    write_recording(tmp_path / "a.csv", rec)
    write_recording(tmp_path / "b.csv", rec)
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", str(tmp_path / "a.csv"),
         str(tmp_path / "b.csv"), "--exercise", "heel-raise"],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert out.returncode == 2
    assert "side" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_left_right_balance_of_two_sets(tmp_path):
    """Two shoes, no test: the comparison follows the true ranges of motion."""
    weak, t_weak = heel_raise_session(
        9, 200.0, setup=_test_setup(rom_deg=24.0, reps_per_set=(12,)), side="left"
    )
    strong, t_strong = heel_raise_session(
        10, 200.0, setup=_test_setup(rom_deg=32.0, reps_per_set=(12,)), side="right"
    )
    write_recording(tmp_path / "l.csv", weak)
    write_recording(tmp_path / "r.csv", strong)
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", str(tmp_path / "l.csv"),
         str(tmp_path / "r.csv"), "--exercise", "heel-raise", "--json"],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    bal = json.loads(out.stdout)["balance"]
    true_pct = (
        100
        * np.mean([r["rom_deg"] for r in t_weak["reps"]])
        / np.mean([r["rom_deg"] for r in t_strong["reps"]])
    )
    # Within 3 percentage points of the true ratio (about 1 deg of range).
    assert bal["left_pct_of_right"]["mean_rom_deg"] == pytest.approx(true_pct, abs=3.0)
    assert bal["left"]["reps"] == 12 and bal["right"]["reps"] == 12
