"""The running / walking synthesizer: truth, physical behaviour, two clocks, real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imu.recording import STANDARD_GRAVITY as G
from imu.recording import read_recording, write_recording
from imu.synth.gait import (
    StridesSetup,
    WalkSetup,
    _build_feet,
    _motion,
    random_strides_setup,
    random_walk_setup,
    strides_session,
    two_sensor_session,
    walk_session,
)

GAITMAP_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/gaitmap_walking"
GAITMAP_FS_HZ = 204.8
SHORT = {"n_reps": 2, "rep_s": 8.0, "walk_back_s": 8.0, "rest_s": 3.0, "walk_back": True}


def _norm(x):
    return np.linalg.norm(x, axis=1)


def _window(t, t0, t1):
    return (t >= t0) & (t <= t1)


@pytest.fixture(scope="module")
def rearfoot():
    setup = StridesSetup(strike="rearfoot", speed_mps=5.5, walk_back_without_stop=False, **SHORT)
    return strides_session(1, 1000.0, setup=setup, mounting="laces")


@pytest.fixture(scope="module")
def forefoot():
    setup = StridesSetup(strike="forefoot", speed_mps=8.0, walk_back_without_stop=True, **SHORT)
    return strides_session(2, 400.0, setup=setup, mounting="heel", side="right")


@pytest.fixture(scope="module")
def pair():
    setup = StridesSetup(
        strike="midfoot", speed_mps=6.5, asymmetry=0.03, variability=0.02, fatigue=0.0, **SHORT
    )
    return two_sensor_session(3, "strides", (400.0, 800.0), setup, ("lateral", "medial"))


def _all_truths(rearfoot, forefoot, pair):
    return [rearfoot[1], forefoot[1], pair[2]["left"], pair[2]["right"]]


def test_truth_is_consistent_and_in_range(rearfoot, forefoot, pair):
    for truth in _all_truths(rearfoot, forefoot, pair):
        for foot in (truth["contacts"], truth["other_foot"]):
            ic = np.array([c["initial_contact_s"] for c in foot])
            to = np.array([c["toe_off_s"] for c in foot])
            assert np.all(ic < to) and np.all(to[:-1] < ic[1:]), "IC < TO < next IC"
            for c in foot:
                # durations are true (common-clock) ones; a sensor clock drifts <= 100 ppm
                dt_ms = 1000 * (c["toe_off_s"] - c["initial_contact_s"])
                assert c["contact_ms"] == pytest.approx(dt_ms, rel=2e-4)
                # force-threshold instants lie just inside the kinematic contact (a heel
                # loads softly: 20 N a few ms after the touch when walking)
                assert 0.0 <= c["initial_contact_s"] - c["touch_s"] < 0.008
                assert 0.0 <= c["lift_s"] - c["toe_off_s"] < 0.008
                steady = c["steady"]
                if c["kind"] == "run" and steady:
                    assert 90 <= c["contact_ms"] <= 320
                    assert 40 <= c["flight_ms"] <= 170
                elif c["kind"] == "walk" and steady:
                    assert 480 <= c["contact_ms"] <= 1000
                    assert c["flight_ms"] < 0, "walking has double support"
                    assert 80 <= 60000 / c["step_ms"] <= 135, "walking cadence"
        assert len(truth["reps"]) == 2
        for rep in truth["reps"]:
            assert 150 <= rep["cadence_spm_steady"] <= 240
            assert abs(rep["contacts_left"] - rep["contacts_right"]) <= 1
            assert rep["end_s"] - rep["start_s"] == pytest.approx(8.0, abs=1.5)
        # Bouts are ordered and stands hold no contact; walk-back contacts are walking.
        bouts = truth["bouts"]
        assert {b["kind"] for b in bouts} == {"stand", "walk", "run"}
        for a, b in zip(bouts, bouts[1:], strict=False):
            assert a["end_s"] <= b["start_s"] + 1e-9
        every = truth["contacts"] + truth["other_foot"]
        for b in bouts:
            if b["kind"] == "stand":
                assert not any(b["start_s"] < c["initial_contact_s"] < b["end_s"] for c in every)
        back = [c for c in every if c["purpose"] == "walk_back"]
        assert len(back) > 8 and all(c["kind"] == "walk" for c in back)
        assert all(c["rep"] is None for c in every if c["kind"] == "walk")


def test_acceleration_and_slowing_steps_are_longer(rearfoot):
    truth = rearfoot[1]
    cs = sorted(truth["contacts"] + truth["other_foot"], key=lambda c: c["initial_contact_s"])
    for r in range(2):
        run = [c for c in cs if c["rep"] == r]
        steady = np.mean([c["contact_ms"] for c in run if c["steady"]])
        assert np.mean([c["contact_ms"] for c in run[:2]]) > 1.3 * steady
        assert np.mean([c["contact_ms"] for c in run[-2:]]) > 1.2 * steady
        assert not run[0]["steady"] and not run[-1]["steady"]
        cad = [60000 / c["step_ms"] for c in run if c["step_ms"]]
        assert cad[0] < 0.9 * np.median(cad), "lower cadence while accelerating"


def test_foot_is_planted_at_mid_stance(rearfoot):
    rec, truth = rearfoot
    t, a, w = rec.t_s, _norm(rec.acc_mps2), _norm(rec.gyr_dps)
    n = 0
    for c in truth["contacts"]:
        if c["kind"] != "walk" or c["heel_off_s"] - c["foot_flat_s"] < 0.15:
            continue
        mid = 0.5 * (c["foot_flat_s"] + c["heel_off_s"])
        m = _window(t, mid - 0.03, mid + 0.03)
        assert np.median(a[m]) == pytest.approx(G, abs=0.5)
        assert np.median(w[m]) < 25.0
        n += 1
    assert n >= 8


def test_running_landings_give_impacts_of_several_g(rearfoot):
    rec, truth = rearfoot
    t, a = rec.t_s, _norm(rec.acc_mps2)
    for c in truth["contacts"]:
        if c["kind"] != "run":
            continue
        ic = c["initial_contact_s"]
        after = a[_window(t, ic, ic + 0.03)].max()
        assert after > 3 * G, f"no impact at {ic:.3f} s"
        assert after < 40 * G


def test_running_flight_is_not_free_fall_for_the_foot(rearfoot, forefoot):
    """Both feet are off the ground, but the sensor's foot is being swung: unlike the pogo
    flight (under 0.3 g mid-flight) its specific force stays well above zero."""
    for rec, truth in (rearfoot, forefoot):
        t, a = rec.t_s, _norm(rec.acc_mps2)
        for c in truth["contacts"]:
            if c["kind"] == "run" and c["steady"]:
                t0, tf = c["toe_off_s"], c["flight_ms"] / 1000
                assert np.median(a[_window(t, t0 + 0.005, t0 + tf - 0.005)]) > 1.5 * G


def test_strike_patterns(rearfoot, forefoot):
    rf = [c for c in rearfoot[1]["contacts"] if c["kind"] == "run" and c["steady"]]
    ff = [c for c in forefoot[1]["contacts"] if c["kind"] == "run" and c["steady"]]
    assert all(c["first_point"] == "heel" and c["pitch_ic_deg"] < -2 for c in rf)
    assert all(c["first_point"] == "ball" and c["pitch_ic_deg"] > 2 for c in ff)
    assert np.median([c["contact_ms"] for c in ff]) < np.median([c["contact_ms"] for c in rf])
    walk = [c for c in rearfoot[1]["contacts"] if c["kind"] == "walk"]
    assert all(c["first_point"] == "heel" and c["pitch_ic_deg"] < -5 for c in walk)
    for c in rf + ff + walk:
        assert c["pitch_to_deg"] > 35, "toe-off with the shoe steeply pitched"


def test_two_sensors_have_their_own_clocks_and_share_the_session(pair):
    left, right, truth = pair
    common = truth["common"]["contacts"]
    clocks = truth["clocks"]
    gap = abs(clocks["left"]["start_common_s"] - clocks["right"]["start_common_s"])
    assert 0.5 <= gap <= 5.0
    for side, rec in (("left", left), ("right", right)):
        clk = clocks[side]
        assert abs(clk["drift_ppm"]) <= 100
        assert rec.t_s[0] == pytest.approx(clk["epoch_s"], abs=1e-9)
        mine = [c for c in common if c["side"] == side]
        local = np.array([c["initial_contact_s"] for c in truth[side]["contacts"]])
        glob = np.array([c["initial_contact_s"] for c in mine])
        slope, icpt = np.polyfit(glob, local, 1)  # offset and drift recoverable from truth
        assert slope - 1 == pytest.approx(clk["drift_ppm"] * 1e-6, abs=1e-9)
        assert icpt == pytest.approx(-clk["start_common_s"] * slope, abs=1e-6)
        # The sensor's own signal agrees with its own clock: impacts follow running ICs.
        a = _norm(rec.acc_mps2)
        for c in truth[side]["contacts"]:
            if c["kind"] == "run":
                ic = c["initial_contact_s"]
                assert a[_window(rec.t_s, ic - 0.003, ic + 0.03)].max() > 2.5 * G
    # Feet alternate while running; the right contact is ~3 % longer (asymmetry 0.03).
    run = [c for c in common if c["kind"] == "run"]
    sides = [c["side"] for c in run if c["rep"] == 0]
    assert all(a != b for a, b in zip(sides, sides[1:], strict=False))
    for rep in truth["common"]["reps"]:
        assert rep["contact_ms_right"] / rep["contact_ms_left"] == pytest.approx(1.03, abs=0.02)
    assert left.fs_hz == 400.0 and right.fs_hz == 800.0


def test_same_seed_same_motion_single_or_pair(pair):
    setup = StridesSetup(
        strike="midfoot", speed_mps=6.5, asymmetry=0.03, variability=0.02, fatigue=0.0, **SHORT
    )
    rec, truth = strides_session(3, 200.0, setup=setup, side="right")
    single = [c["initial_contact_s"] for c in truth["contacts"]]
    common = [c["initial_contact_s"] for c in pair[2]["common"]["contacts"] if c["side"] == "right"]
    assert single == pytest.approx(common, abs=1e-12)
    rec2, truth2 = strides_session(3, 200.0, setup=setup, side="right")
    assert np.array_equal(rec.acc_mps2, rec2.acc_mps2) and np.array_equal(rec.gyr_dps, rec2.gyr_dps)
    assert json.dumps(truth) == json.dumps(truth2)
    rec3, _ = strides_session(4, 200.0, setup=setup, side="right")
    assert len(rec3) != len(rec) or not np.array_equal(rec3.acc_mps2, rec.acc_mps2)


def test_model_geometry_contact_points_and_clearance():
    """Dense track: the ball stays put and the sole is level at foot-flat, the toe tip
    rises after toe-off, heel and ball clear the ground in the swing."""
    setup = StridesSetup(strike="rearfoot", speed_mps=7.0, **{**SHORT, "n_reps": 1})
    m = _motion(5, "strides", setup)
    feet = _build_feet(m, 4000.0)
    for side in ("left", "right"):
        t, pitch, _, _, ball = feet[side]["track"].arrays()
        for _, st in feet[side]["built"]:
            if st.ff_s is not None and st.ho_s is not None and st.ho_s - st.ff_s > 0.01:
                m_ = _window(t, st.ff_s + 0.001, st.ho_s)
                assert np.ptp(ball[m_, :2], axis=0).max() < 1e-6
                assert np.abs(np.degrees(pitch[m_])).max() < 0.2
        for sw in feet[side]["foot"].swings:
            heel, ballz, tip = sw["heights"](np.linspace(sw["t0"] + 5e-4, sw["t0"] + 0.03, 60))
            assert tip.min() > -5e-4 and tip[-1] > 0.0, "the toe tip lifts off"
            heel, ballz, _ = sw["heights"](np.linspace(sw["t0"] + 0.002, sw["t1"] - 0.002, 200))
            assert min(heel.min(), ballz.min()) > -5e-4
            assert max(heel.max(), ballz.max()) > 0.05


def test_recording_round_trip_and_meta(tmp_path):
    setup = WalkSetup(kind="walk", n_bouts=1, bout_s=6.0)
    rec, truth = walk_session(6, 200.0, setup=setup, packet_loss=0.03, side="right")
    assert rec.meta["exercise"] == "walk" and rec.meta["side"] == "right"
    assert rec.meta["sensor"].startswith("SYNTHETIC") and rec.meta["synthetic"] == "yes"
    json.dumps(truth)
    path = tmp_path / "walk.csv"
    write_recording(path, rec)
    back = read_recording(path)
    np.testing.assert_allclose(back.acc_mps2, rec.acc_mps2, atol=1e-5)
    assert back.meta == rec.meta
    assert np.diff(rec.t_s).max() > 2.5 / 200.0, "packets were lost"
    assert truth["reps"] == [] and {c["kind"] for c in truth["contacts"]} == {"walk"}


def test_heel_toe_drill_is_slower_with_longer_contacts():
    out = {}
    for kind in ("walk", "heel-toe"):
        setup = WalkSetup(kind=kind, n_bouts=1, bout_s=10.0, speed_mps=1.0, variability=0.01)
        _, truth = walk_session(7, 100.0, setup=setup)
        cs = [c for c in truth["contacts"] + truth["other_foot"] if c["steady"]]
        out[kind] = (
            np.median([c["contact_ms"] for c in cs]),
            np.median([60000 / c["step_ms"] for c in cs if c["step_ms"]]),
            np.median([c["pitch_ic_deg"] for c in cs]),
        )
    assert out["heel-toe"][0] > out["walk"][0] and out["heel-toe"][1] < out["walk"][1]
    assert out["heel-toe"][2] < -20, "steep heel landing"


def test_random_setups_are_valid():
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = random_strides_setup(rng)
        assert 4 <= s.n_reps <= 8 and 12 <= s.rep_s <= 20 and 3.0 <= s.speed_mps <= 9.0
        w = random_walk_setup(rng)
        assert 0.6 <= w.speed_mps <= 1.6


# --------------------------------------------------------------------------------------
# Against the real walking recording (gaitmap example data, lateral shoe sensors)
# --------------------------------------------------------------------------------------


def _gait_shapes(t, acc, gyr, ics, tos) -> dict:
    """Per foot contact, from given IC/TO instants (reference or truth): stance time,
    peak |gyro| of the forward swing (25-90 % of the swing), peak |gyro| over the last
    150 ms before toe-off (push-off), peak |acc| from 20 ms before to 60 ms after IC,
    median |acc| and |gyro| at mid-stance."""
    an, gn = _norm(acc) / G, _norm(gyr)
    out = {k: [] for k in ("stance", "swing", "pushoff", "impact", "mid_acc", "mid_gyr")}
    for ic in ics:
        nxt = tos[tos > ic]
        if not len(nxt) or nxt[0] - ic > 1.5:
            continue
        to = nxt[0]
        out["stance"].append(to - ic)
        nic = ics[ics > to]
        if len(nic) and nic[0] - to < 1.0:
            sw = nic[0] - to
            out["swing"].append(gn[_window(t, to + 0.25 * sw, nic[0] - 0.1 * sw)].max())
        out["pushoff"].append(gn[_window(t, to - 0.15, to + 0.005)].max())
        out["impact"].append(an[_window(t, ic - 0.02, ic + 0.06)].max())
        m = _window(t, 0.5 * (ic + to) - 0.02, 0.5 * (ic + to) + 0.02)
        out["mid_acc"].append(np.median(an[m]))
        out["mid_gyr"].append(np.median(gn[m]))
    return {k: float(np.median(v)) for k, v in out.items()}


@pytest.fixture(scope="module")
def real_walking(gaitmap_walking):
    """{side: (t, acc, gyr, reference ICs, reference TCs)} of the real recording (s)."""
    events = pd.read_csv(GAITMAP_DIR / "stride_events_sample.csv")
    out = {}
    for side, (t, acc, gyr) in gaitmap_walking.items():
        e = events[events.foot == side]
        ev = (np.sort(e[k].dropna().to_numpy()) / GAITMAP_FS_HZ for k in ("ic", "tc"))
        out[side] = (t, acc, gyr, *ev)
    return out


@pytest.fixture(scope="module")
def synthetic_walking():
    """Walking at 1.3 m/s, lateral mount, 204.8 Hz (as the real recording), three seeds:
    [(t, acc, gyr, true ICs, true TOs)]."""
    out = []
    for seed in range(3):
        setup = WalkSetup(kind="walk", n_bouts=1, bout_s=14.0, speed_mps=1.3)
        rec, truth = walk_session(seed, 204.8, setup=setup, mounting="lateral")
        ics = np.array([c["initial_contact_s"] for c in truth["contacts"]])
        tos = np.array([c["toe_off_s"] for c in truth["contacts"]])
        out.append((rec.t_s, rec.acc_mps2, rec.gyr_dps, ics, tos))
    return out


def test_walking_shapes_match_the_real_recording(real_walking, synthetic_walking):
    """Synthetic walking at 1.3 m/s, lateral mount, 204.8 Hz vs the real recording, both
    measured with the same code at the reference / true events. Tolerances (on medians):
    stance +-15 %, push-off rate +-25 %, forward-swing rate +-35 %, mid-stance 1 g +-0.05 g
    and under 25 deg/s, impact 3 g to 1.5 x the real one (the synthetic median is about half
    of this recording's 13 g: its hard floor and pod mount ring more)."""
    real = [_gait_shapes(*x) for x in real_walking.values()]
    real = {k: np.mean([r[k] for r in real]) for k in real[0]}
    synth = [_gait_shapes(*x) for x in synthetic_walking]
    synth = {k: np.median([s[k] for s in synth]) for k in synth[0]}
    assert real["stance"] == pytest.approx(0.73, abs=0.02)  # the README's median
    assert synth["stance"] == pytest.approx(real["stance"], rel=0.15)
    assert synth["pushoff"] == pytest.approx(real["pushoff"], rel=0.25)
    assert synth["swing"] == pytest.approx(real["swing"], rel=0.35)
    for d in (real, synth):
        assert d["mid_acc"] == pytest.approx(1.0, abs=0.05) and d["mid_gyr"] < 25.0
    assert 3.0 <= synth["impact"] <= 1.5 * real["impact"]


# --------------------------------------------------------------------------------------
# Event timing: the heel's soft loading before the collision, the reversal at toe-off
# --------------------------------------------------------------------------------------


def _sagittal(t, gyr, tos) -> np.ndarray:
    """Sagittal rate (deg/s): the gyro's first principal axis (over the walk, from 1 s
    before the first to 1 s after the last TO), signed so that the push-off
    (plantarflexion) is positive."""
    g = gyr[_window(t, tos.min() - 1.0, tos.max() + 1.0)]
    _, _, vt = np.linalg.svd(g - g.mean(axis=0), full_matrices=False)
    w = gyr @ vt[0]
    peaks = [w[_window(t, to - 0.15, to + 0.005)] for to in tos]
    return w if np.median([p[np.argmax(np.abs(p))] for p in peaks if len(p)]) > 0 else -w


def _event_timing(t, acc, gyr, ics, tos) -> dict:
    """Per contact, from given IC/TO instants (reference or truth), in ms and deg/s:
    ``zc``, when the sagittal rate crosses zero upward (end of the late-swing dorsiflexion;
    the crossing nearest IC within +-40 ms, linear interpolation) minus IC; ``w_ic``, the
    rate at IC; ``jerk``, the instant of the largest acc jerk from 20 ms before to 60 ms
    after IC, minus IC, and ``jerk_on``, the first instant there with half of it;
    ``jump``, the instant of the largest rise of the rate between two samples from 10 ms
    before to 50 ms after IC (the collision), minus IC; ``ext``, the push-off rate extreme
    (60 ms before to 30 ms after TO, parabolic interpolation) minus TO."""
    w = _sagittal(t, gyr, tos)
    tm = 0.5 * (t[1:] + t[:-1])
    jerk = _norm(np.diff(acc, axis=0)) / np.diff(t)
    out = {k: [] for k in ("zc", "w_ic", "jerk", "jerk_on", "jump", "ext")}
    for ic in ics:
        i = np.flatnonzero(_window(t, ic - 0.04, ic + 0.04))[:-1]
        up = i[(w[i] < 0) & (w[i + 1] >= 0)]
        tz = t[up] - w[up] * (t[up + 1] - t[up]) / (w[up + 1] - w[up])
        out["zc"].append(tz[np.argmin(np.abs(tz - ic))] - ic if len(tz) else np.nan)
        out["w_ic"].append(np.interp(ic, t, w) / 1000)
        m = np.flatnonzero(_window(tm, ic - 0.02, ic + 0.06))
        out["jerk"].append(tm[m[np.argmax(jerk[m])]] - ic)
        out["jerk_on"].append(tm[m[np.argmax(jerk[m] >= 0.5 * jerk[m].max())]] - ic)
        m = np.flatnonzero(_window(tm, ic - 0.01, ic + 0.05))
        out["jump"].append(tm[m[np.argmax(np.diff(w)[m])]] - ic)
    for to in tos:
        i = np.flatnonzero(_window(t, to - 0.06, to + 0.03))
        k = i[np.argmax(w[i])]
        y0, y1, y2 = w[k - 1 : k + 2]
        frac = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if y0 - 2 * y1 + y2 < 0 else 0.0
        out["ext"].append(t[k] + frac * (t[k + 1] - t[k]) - to)
    return {k: 1000 * np.array(v) for k, v in out.items()}


def test_walking_heel_contact_and_toe_off_timing():
    """The model itself (1000 Hz, laces: little low-pass delay): at the true IC of every
    walking contact the sagittal rate is near its zero crossing (within 60 deg/s: the
    dorsiflexion of the late swing ends at the touch), the collision (largest acc jerk)
    comes 8-30 ms after IC, and the push-off rate peaks 0-10 ms before the true TO."""
    setup = WalkSetup(kind="walk", n_bouts=1, bout_s=14.0, speed_mps=1.3)
    rec, truth = walk_session(
        8, 1000.0, setup=setup, mounting="laces", sensor_errors=False, packet_loss=0.0
    )
    cs = truth["contacts"]
    ics = np.array([c["initial_contact_s"] for c in cs])
    tos = np.array([c["toe_off_s"] for c in cs])
    d = _event_timing(rec.t_s, rec.acc_mps2, rec.gyr_dps, ics, tos)
    assert len(cs) >= 12
    assert np.all(np.abs(d["w_ic"]) < 60.0)
    assert np.all(np.abs(d["zc"]) < 12.0)
    assert np.all((d["jerk"] >= 8.0) & (d["jerk"] <= 30.0))
    assert np.all((d["ext"] >= -10.0) & (d["ext"] <= 0.0))
    # the force starts at the touch, 20 N a few ms later; the rocker begins at the
    # collision, so foot-flat comes later after IC than the impact
    for c in cs:
        assert 0.5 < 1000 * (c["initial_contact_s"] - c["touch_s"]) < 8.0
        assert c["foot_flat_s"] - c["initial_contact_s"] > 0.06


def test_running_collision_timing(rearfoot, forefoot):
    """Rearfoot running: the rate is small at IC and the collision (the acc jerk: its
    largest value and where it first reaches half of that) comes 10-30 ms later, after the
    soft loading; forefoot (ball first): the impact starts at the touch. Both: the push-off
    rate peaks at about TO. (The fixtures lose packets: 90 % of the contacts.)"""
    for (rec, truth), strike in ((rearfoot, "rearfoot"), (forefoot, "forefoot")):
        cs = [c for c in truth["contacts"] if c["kind"] == "run" and c["steady"]]
        ics = np.array([c["initial_contact_s"] for c in cs])
        tos = np.array([c["toe_off_s"] for c in truth["contacts"]])
        d = _event_timing(rec.t_s, rec.acc_mps2, rec.gyr_dps, ics, tos)
        assert len(cs) >= 8 and all(c["strike"] == strike for c in cs)
        if strike == "rearfoot":
            assert np.mean((d["jerk"] >= 10.0) & (d["jerk"] <= 30.0)) >= 0.9
            assert np.mean((d["jerk_on"] >= 8.0) & (d["jerk_on"] <= 30.0)) >= 0.9
            assert np.median(np.abs(d["w_ic"])) < 60.0
        else:
            assert np.mean((d["jerk_on"] >= -3.0) & (d["jerk_on"] <= 6.0)) >= 0.9
        # the running force falls fast: the reversal is 0.3-1.5 ms before TO, the sensor's
        # low-pass (0.25-0.5 x 400 Hz for the forefoot fixture) delays it by 1-2 ms
        assert np.mean((d["ext"] >= -8.0) & (d["ext"] <= 3.0)) >= 0.9, "push-off peak"


def test_event_timing_matches_the_real_recording(real_walking, synthetic_walking):
    """The same measuring code on the real recording at its motion-capture events and on
    synthetic walking at its true events (both 204.8 Hz, lateral): the medians of the
    zero-crossing offset and of the push-off rate extreme's offset agree within 6 ms (per
    real side; real: zero crossing +2 / +7 ms after IC, extreme -6 ms before TC), the rate
    at IC within 40 deg/s, and the collision (largest rise of the rate) comes 10-30 ms after
    IC in both."""
    synth = [_event_timing(*x) for x in synthetic_walking]
    synth = {k: np.concatenate([s[k] for s in synth]) for k in synth[0]}
    med = {k: np.nanmedian(v) for k, v in synth.items()}
    assert np.mean(np.isnan(synth["zc"])) < 0.05
    for side, x in real_walking.items():
        real = _event_timing(*x)
        rmed = {k: np.nanmedian(v) for k, v in real.items()}
        assert np.mean(np.isnan(real["zc"])) < 0.05, side
        assert med["zc"] == pytest.approx(rmed["zc"], abs=6.0), side
        assert med["ext"] == pytest.approx(rmed["ext"], abs=6.0), side
        assert med["w_ic"] == pytest.approx(rmed["w_ic"], abs=40.0), side
        for d in (rmed, med):
            assert 10.0 <= d["jump"] <= 30.0, side
            assert -10.0 <= d["ext"] <= 0.0, side
