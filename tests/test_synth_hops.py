"""The pogo / hop synthesizer: physical behaviour of the motion, the sensor and the truth."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu.recording import STANDARD_GRAVITY as G
from imu.recording import read_recording, write_recording
from imu.synth.hops import (
    CONTACT_RANGE_MS,
    FLIGHT_RANGE_MS,
    KINDS,
    PogoSetup,
    pogo_motion,
    pogo_session,
    random_pogo_setup,
)

SHORT = {"n_rounds": 1, "rest_between_rounds_s": 8.0, "walk_between_rounds": False}


def _acc_norm(rec):
    return np.linalg.norm(rec.acc_mps2, axis=1)


def _window(t, t0, t1):
    return (t >= t0) & (t <= t1)


@pytest.mark.parametrize("kind", KINDS)
def test_truth_is_consistent_and_in_range(kind):
    setup = random_pogo_setup(np.random.default_rng(7), kind)
    setup = replace(setup, n_rounds=2, round_s=min(setup.round_s, 8.0), rest_between_rounds_s=8)
    rec, truth = pogo_session(11, 200.0, setup=setup)
    contacts = truth["contacts"]
    assert contacts, "no hops"
    tc = np.array([c["contact_ms"] for c in contacts])
    tf = np.array([c["flight_ms"] for c in contacts])
    assert CONTACT_RANGE_MS[0] <= tc.min() and tc.max() <= CONTACT_RANGE_MS[1]
    assert FLIGHT_RANGE_MS[0] <= tf.min() and tf.max() <= FLIGHT_RANGE_MS[1]
    for c in contacts:  # the stated times are differences of the stated instants
        assert c["contact_ms"] == pytest.approx(1000 * (c["takeoff_s"] - c["landing_s"]))
    # Events alternate take-off / landing within each round, starting with a take-off from
    # standing and ending with a landing after which the athlete stands.
    for r, rnd in enumerate(truth["rounds"]):
        ev = [e for e in truth["events"] if e["round"] == r]
        kinds = [e["kind"] for e in ev]
        assert kinds[0] == "takeoff" and ev[0].get("from_standing")
        assert kinds[-1] == "landing" and ev[-1].get("stop")
        assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))
        assert np.all(np.diff([e["t_s"] for e in ev]) > 0.09)
        assert rnd["first_takeoff_s"] < rnd["start_s"] < rnd["end_s"]
        assert rnd["contacts"] == sum(c["round"] == r for c in contacts)
    # Segments tile the recording in order; every event lies inside a round segment.
    segs = truth["segments"]
    assert segs[0]["start_s"] == 0.0 and segs[-1]["end_s"] >= rec.t_s[-1]
    for a, b in zip(segs, segs[1:], strict=False):
        assert b["start_s"] == pytest.approx(a["end_s"])
    rounds = [s for s in segs if s["kind"] == "round"]
    for e in truth["events"]:
        assert any(s["start_s"] < e["t_s"] < s["end_s"] for s in rounds)
    assert {s["kind"] for s in segs} <= {"standing", "walking", "weight_shift", "round", "rest"}


def test_ten_five_gives_ten_contacts_per_round():
    setup = PogoSetup(kind="ten-five", n_rounds=2, contact_ms=190, flight_ms=440)
    setup = replace(setup, rest_between_rounds_s=10.0, walk_between_rounds=True)
    rec, truth = pogo_session(3, 200.0, setup=setup)
    assert [r["contacts"] for r in truth["rounds"]] == [10, 10]
    assert any(s["kind"] == "walking" for s in truth["segments"])
    tc = np.array([c["contact_ms"] for c in truth["contacts"]])
    tf = np.array([c["flight_ms"] for c in truth["contacts"]])
    assert 150 <= np.median(tc) <= 250 and 350 <= np.median(tf) <= 550
    rsi = tf / tc
    assert 1.5 <= np.mean(np.sort(rsi)[-5:]) <= 3.5  # protocols.md: about 2.5 when trained


def test_fatigue_lengthens_contacts_and_shortens_flights():
    setup = PogoSetup(kind="pogo", round_s=25.0, fatigue=0.12, variability=0.02, **SHORT)
    _, truth = pogo_session(5, 200.0, setup=setup)
    tc = np.array([c["contact_ms"] for c in truth["contacts"]])
    tf = np.array([c["flight_ms"] for c in truth["contacts"]])
    q = len(tc) // 4
    assert tc[-q:].mean() > 1.04 * tc[:q].mean()  # +12 % first to last hop, +9 % by quarters
    assert tf[-q:].mean() < 0.985 * tf[:q].mean()
    assert tc.std() / tc.mean() > 0.01, "hop-to-hop variation"


def test_easy_bounce_loses_rhythm_late_and_restarts():
    setup = PogoSetup(
        kind="easy-bounce",
        round_s=40.0,
        contact_ms=160,
        flight_ms=160,
        variability=0.03,
        fatigue=0.0,
        lose_rhythm=True,
        stop_restart=True,
        **SHORT,
    )
    _, truth = pogo_session(9, 200.0, setup=setup)
    assert truth["rounds"][0]["restarts"] == 1
    assert len(truth["stop_landings"]) == 2
    stop = truth["stop_landings"][0]["landing_s"]
    restart = [e for e in truth["events"] if e.get("from_standing")][1]["t_s"]
    assert restart - stop > 1.5, "the athlete stands before restarting"
    tc = np.array([c["contact_ms"] for c in truth["contacts"]])
    n = len(tc)
    late, early = tc[int(0.85 * n) :], tc[: n // 2]
    assert np.std(late) / np.mean(late) > 1.5 * np.std(early) / np.mean(early)


def test_flight_is_near_free_fall_and_standing_is_one_g():
    """Laces mount, 10/5 jumps (flights ~0.45 s): the sensor falls freely but for the
    catch after take-off and the foot's own motion relative to the body."""
    setup = PogoSetup(kind="ten-five", contact_ms=190, flight_ms=450, **SHORT)
    rec, truth = pogo_session(4, 1000.0, setup=setup, mounting="laces")
    t, a = rec.t_s, _acc_norm(rec)
    mid, lows = [], []
    for c in truth["contacts"]:
        t1, tf = c["takeoff_s"], c["flight_ms"] / 1000
        mid.append(a[_window(t, t1 + 0.2 * tf, t1 + 0.9 * tf)])
        lows.append(a[_window(t, t1, t1 + tf)].min())
    assert np.median(np.concatenate(mid)) < 3.0, "well below 1 g in flight"
    assert np.max(lows) < 1.5, "every flight reaches near free fall"
    for s in truth["segments"]:
        if s["kind"] == "standing":
            m = _window(t, s["start_s"] + 0.2, s["end_s"] - 0.2)
            assert np.median(a[m]) == pytest.approx(G, abs=0.35)


def test_impact_of_several_g_follows_each_landing():
    setup = PogoSetup(kind="pogo", round_s=10.0, **SHORT)
    rec, truth = pogo_session(6, 400.0, setup=setup, mounting="laces")
    t, a = rec.t_s, _acc_norm(rec)
    landings = [c["landing_s"] for c in truth["contacts"]] + [
        s["landing_s"] for s in truth["stop_landings"]
    ]
    for tl in landings:
        before = a[_window(t, tl - 0.03, tl - 0.004)]
        after = a[_window(t, tl, tl + 0.03)]
        assert before.max() < 1.5 * G, "the foot is falling before the landing"
        assert after.max() > 3 * G, f"no impact after the landing at {tl:.3f} s"
        assert after.max() < 30 * G


def test_gyro_pitch_over_each_contact_matches_true_pitch():
    """Integrating the rate about the foot's pitch axis over a contact gives the true pitch
    change (landing -> take-off) and the heel dip (landing -> lowest pitch)."""
    setup = PogoSetup(kind="pogo", round_s=8.0, **SHORT)
    rec, truth = pogo_session(8, 1000.0, setup=setup, mounting="heel")
    mount = Rotation.from_quat(truth["mounting"]["quat"])  # sensor -> foot
    axis = mount.inv().apply([0.0, 1.0, 0.0])  # the foot's pitch axis in sensor axes
    rate = np.radians(rec.gyr_dps @ axis)
    for c in truth["contacts"]:
        m = _window(rec.t_s, c["landing_s"], c["takeoff_s"])
        ts, w = rec.t_s[m], rate[m]
        cum = np.degrees(np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(ts))]))
        true_change = c["pitch_takeoff_deg"] - c["pitch_landing_deg"]
        true_dip = c["pitch_min_deg"] - c["pitch_landing_deg"]
        assert cum[-1] == pytest.approx(true_change, abs=3.0)
        assert cum.min() == pytest.approx(true_dip, abs=3.0)
        assert true_dip < -3.0, "the heel dips during contact"
        assert c["pitch_landing_deg"] > 5.0, "forefoot landing"


def test_ball_is_the_pivot_and_stays_above_ground_in_flight():
    setup = PogoSetup(kind="pogo", round_s=6.0, **SHORT)
    track, truth = pogo_motion(np.random.default_rng(2), setup, 4000.0)
    t, pitch, _, _, ball = track.arrays()
    for c in truth["contacts"]:
        settled = _window(t, c["landing_s"] + c["impact_ms"] / 1000 + 0.001, c["takeoff_s"])
        xy = ball[settled, :2]
        assert np.ptp(xy, axis=0).max() < 1e-4, "the ball does not slide after the impact"
        z = ball[settled, 2]
        assert -0.006 < z.min() and z.max() < 0.002, "sole compression of a few mm only"
        impact = _window(t, c["landing_s"], c["takeoff_s"])
        assert np.ptp(ball[impact, 2]) < 0.02, "stopped within the forefoot stack"
        assert np.degrees(pitch[impact].min()) > -1.5, "the heel stays above the ground"
    for a, b in zip(truth["contacts"], truth["contacts"][1:], strict=False):
        flight = _window(t, a["takeoff_s"] + 0.002, b["landing_s"] - 0.001)
        assert ball[flight, 2].min() > 0.0, "the ball is off the ground in flight"
        assert ball[flight, 2].max() > 0.01


def test_side_to_side_hops_travel_over_the_line():
    setup = PogoSetup(kind="side-to-side", round_s=8.0, flight_ms=320, travel_m=0.3, **SHORT)
    track, truth = pogo_motion(np.random.default_rng(3), setup, 4000.0)
    t, _, _, yaw, ball = track.arrays()
    mids = [0.5 * (c["landing_s"] + c["takeoff_s"]) for c in truth["contacts"]]
    idx = np.searchsorted(t, mids)
    y0 = yaw[idx[0]]
    left = np.array([-np.sin(y0), np.cos(y0)])
    fwd = np.array([np.cos(y0), np.sin(y0)])
    step = np.diff(ball[idx, :2], axis=0)
    lateral, forward = step @ left, step @ fwd
    assert np.all(np.abs(lateral) > 0.2) and np.all(np.abs(lateral) < 0.4)
    assert np.all(np.sign(lateral[1:]) == -np.sign(lateral[:-1])), "back and forth"
    assert np.abs(forward).max() < 0.05


def test_recording_round_trip_and_meta(tmp_path):
    setup = PogoSetup(kind="single-leg", round_s=5.0, **SHORT)
    rec, truth = pogo_session(12, 400.0, setup=setup, packet_loss=0.02, side="right")
    assert rec.meta["exercise"] == "pogo" and rec.meta["sensor"].startswith("SYNTHETIC")
    assert rec.meta["side"] == "right" and rec.meta["synthetic"] == "yes"
    json.dumps(truth)  # JSON-ready
    path = tmp_path / "pogo.csv"
    write_recording(path, rec)
    back = read_recording(path)
    np.testing.assert_allclose(back.t_s, rec.t_s, atol=1e-6)
    np.testing.assert_allclose(back.acc_mps2, rec.acc_mps2, atol=1e-5)
    np.testing.assert_allclose(back.gyr_dps, rec.gyr_dps, atol=1e-5)
    assert back.meta == rec.meta
    assert np.diff(rec.t_s).max() > 2.5 / 400.0, "packets were lost"


def test_deterministic_for_a_seed():
    setup = PogoSetup(kind="forward-back", round_s=5.0, travel_m=0.25, **SHORT)
    rec1, truth1 = pogo_session(21, 200.0, setup=setup)
    rec2, truth2 = pogo_session(21, 200.0, setup=setup)
    assert np.array_equal(rec1.acc_mps2, rec2.acc_mps2)
    assert np.array_equal(rec1.gyr_dps, rec2.gyr_dps)
    assert json.dumps(truth1) == json.dumps(truth2)
    rec3, _ = pogo_session(22, 200.0, setup=setup)
    assert len(rec3) != len(rec1) or not np.array_equal(rec3.acc_mps2, rec1.acc_mps2)


def test_100_and_1000_hz_sample_the_same_motion_honestly():
    """Same seed: same motion and truth; the part's low-pass and the coarse sampling lower
    and delay the 100 Hz impact peaks, but they stay several g."""
    setup = PogoSetup(kind="pogo", round_s=6.0, **SHORT)
    peaks, landings = {}, {}
    for fs in (100.0, 1000.0):
        rec, truth = pogo_session(13, fs, setup=setup, mounting="laces")
        assert len(rec) == pytest.approx(rec.duration_s * fs, rel=0.01)
        assert np.median(np.diff(rec.t_s)) == pytest.approx(1 / fs, rel=0.01)
        assert max(truth["sensor"]["lowpass_hz"]) <= 0.45 * fs
        t, a = rec.t_s, _acc_norm(rec)
        windows = [_window(t, c["landing_s"], c["landing_s"] + 0.04) for c in truth["contacts"]]
        peaks[fs] = np.array([a[m].max() for m in windows])
        landings[fs] = [c["landing_s"] for c in truth["contacts"]]
    assert landings[100.0] == landings[1000.0]
    assert np.median(peaks[100.0]) < np.median(peaks[1000.0])
    assert np.median(peaks[100.0]) > 3 * G
