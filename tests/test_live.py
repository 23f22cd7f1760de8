"""Live recording and analysis: streaming = batch, end to end through the emulated sensor,
a dropped link, crash recovery, and ``ankle record`` / ``ankle recover`` as commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from procs import spawn, wait_line

from analysis.heel_raise import analyze_heel_raises
from analysis.pogo import analyze_pogo
from analysis.prescriptions import TempoPrescription
from analysis.stream import StreamAnalyzer, match_events
from imu.recording import Recording, read_recording, write_recording
from imu.synth.scenarios import HeelRaiseSetup, Tempo, heel_raise_session

REPO = Path(__file__).resolve().parents[1]
TEMPO = TempoPrescription.parse("2-1-3-0")
HR_TIMES = ("start_s", "top_start_s", "top_end_s", "end_s")


def one_set(seed: int, fs_hz: float, reps: int = 6, tempo: Tempo | None = None):
    setup = HeelRaiseSetup(n_sets=1, reps_per_set=(reps,), walk_between_sets=False)
    if tempo is not None:
        setup.tempo = tempo
    return heel_raise_session(seed, fs_hz=fs_hz, setup=setup, side="left")


def feed(sa: StreamAnalyzer, rec: Recording, seed: int = 0, max_chunk_s: float = 0.06) -> None:
    """The recording in chunks of random sizes (1 sample to ``max_chunk_s``)."""
    rng = np.random.default_rng(seed)
    i, n = 0, len(rec)
    hi = max(2, int(max_chunk_s * rec.fs_hz))
    while i < n:
        j = min(n, i + int(rng.integers(1, hi)))
        sa.add(rec.t_s[i:j], rec.acc_mps2[i:j], rec.gyr_dps[i:j])
        i = j


def replay_until(rec: Recording, until_s: float, seed: int):
    """Pogo: the recording up to ``until_s`` fed to a live analysis (as :func:`feed`),
    and the final analysis, with the live events matched to it."""
    n = int(np.searchsorted(rec.t_s, until_s))
    part = Recording(rec.t_s[:n], rec.acc_mps2[:n], rec.gyr_dps[:n], fs_hz=rec.fs_hz)
    sa = StreamAnalyzer("pogo", fs_hz=part.fs_hz)
    feed(sa, part, seed)
    final = sa.finish()
    return sa, final, match_events(sa.events, final)


def rep_times(res) -> np.ndarray:
    return np.array([[getattr(r, k) for k in HR_TIMES] for r in res.reps], dtype=float)


# ---------------------------------------------------------------------------------------------
# Streaming = batch
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [2, 7])
def test_stream_heel_raise_equals_batch_and_announces_each_rep(seed):
    rec, truth = one_set(seed, 400.0, reps=8)
    sa = StreamAnalyzer("heel-raise", fs_hz=rec.fs_hz, tempo=TEMPO)
    feed(sa, rec, seed)
    final = sa.finish()
    batch = analyze_heel_raises(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz, tempo=TEMPO)
    assert len(final.reps) == len(batch.reps) == len(truth["reps"]) == 8
    assert np.array_equal(rep_times(final), rep_times(batch))
    assert [r.tempo_pass for r in final.reps] == [r.tempo_pass for r in batch.reps]
    report = match_events(sa.events, batch)
    assert report.agrees(1e-3), (report.max_diff_s, report.unmatched, report.missed)
    assert [e.number for e in sa.events] == list(range(1, 9))
    # Announced within 150 ms of the rep's end (buffer time: margin + chunk + runs).
    assert max(e.latency_s for e in sa.events) < 0.15
    # Cheap: a handful of batch runs per rep, not one per chunk.
    assert sa.runs < 3 * rec.duration_s


def test_stream_heel_raise_tracks_the_pitch_between_runs_with_the_runs_correction():
    """Slow tempo (3 s down, no rest): a 60 s window's still samples included the slow
    lowering (before ``still_mask`` also asked gravity's direction to stay put), its gyro
    bias was a few deg/s off, and the run's pitch held on only through
    the accelerometer's tilt correction. Tracked between runs with the gyro alone, the
    pitch fell too slowly to signal the rep's end, and reps were shown a periodic run
    later (up to 0.32 s here). Every rep is shown within 150 ms of its end."""
    rec, _ = heel_raise_session(18, fs_hz=200.0, side="left")
    sa = StreamAnalyzer("heel-raise", fs_hz=rec.fs_hz, tempo=TEMPO)
    feed(sa, rec, 18)
    final = sa.finish()
    report = match_events(sa.events, final)
    assert len(final.reps) == 12 and not report.missed and not report.unmatched
    assert max(e.latency_s for e in sa.events) < 0.15


def test_stream_heel_raises_on_a_step_then_strides_agree_with_the_final_analysis():
    """The demo session's right shoe (medial, on a step): 15 reps, then walking.

    On a step the lowered heel rivals the rise, so a window's own cue for the sign of the
    foot's axis is weak and may flip it. Once a strong cue (the pivot's lever arm) set the
    reference, every rep is still announced soon after it ends, and no lowered heel is
    announced as a rep.

    The first rep is shown from one rep's data; the final analysis takes the foot's axis
    from the strides too (8 degrees apart) and moves that rep's end by 23 ms. Its error
    against the true movement is of that size either way (end_s SD 11 ms, max 56 ms over
    24 synthetic sessions), so the live view keeps what it showed; what a user reads off
    it (rep count, tempo verdicts) equals the saved analysis, the times within 30 ms."""
    rec, truth = heel_raise_session(1, fs_hz=200.0, side="right")
    assert truth["on_step"]
    n = int(np.searchsorted(rec.t_s, 150.0))  # the first set and the walk after it
    part = Recording(rec.t_s[:n], rec.acc_mps2[:n], rec.gyr_dps[:n], fs_hz=rec.fs_hz)
    sa = StreamAnalyzer("heel-raise", fs_hz=rec.fs_hz, tempo=TEMPO)
    feed(sa, part, 1)
    final = sa.finish()
    report = match_events(sa.events, final)
    assert len(sa.events) == len(final.reps) == 15
    assert not report.missed and not report.unmatched
    assert report.max_diff_s < 0.030, f"{1e3 * report.max_diff_s:.1f} ms"
    for m in report.matches:
        assert {k: m.event.tempo_pass[k] for k in ("up", "hold", "down")} == {
            k: m.final.tempo_pass[k] for k in ("up", "hold", "down")
        }
    assert max(e.latency_s for e in sa.events) < 0.15


def test_stream_flags_too_fast_reps():
    rec, _ = one_set(4, 200.0, reps=4, tempo=Tempo(2.0, 1.0, 1.0, 0.5))  # down 1 s, not 3
    sa = StreamAnalyzer("heel-raise", fs_hz=rec.fs_hz, tempo=TEMPO)
    feed(sa, rec)
    assert len(sa.events) == 4
    assert all(e.too_fast and "down" in e.fast_phases for e in sa.events)
    assert all(e.tempo_pass["down"] is False and e.tempo_pass["up"] for e in sa.events)


def test_stream_pogo_equals_batch():
    from imu.synth.hops import PogoSetup, pogo_session

    setup = PogoSetup(n_rounds=1, round_s=12.0, walk_between_rounds=False)
    rec, truth = pogo_session(5, fs_hz=500.0, setup=setup)
    sa = StreamAnalyzer("pogo", fs_hz=rec.fs_hz)
    feed(sa, rec, 5)
    final = sa.finish()
    batch = analyze_pogo(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz)
    assert len(batch.contacts) == 24
    key = [(c.landing_s, c.takeoff_s, c.flight_ms) for c in batch.contacts]
    assert [(c.landing_s, c.takeoff_s, c.flight_ms) for c in final.contacts] == key
    report = match_events(sa.events, batch)
    assert report.agrees(1e-3), (report.max_diff_s, report.unmatched, report.missed)
    assert all(
        e.contact_ms == pytest.approx(c.contact_ms, abs=1.0)
        for e, c in zip(sa.events, batch.contacts, strict=True)
    )
    # The session's first round: before any fit of the sensor's mounting (a few hops
    # make one), the first two contacts wait for the third; from then on each contact is
    # shown soon after its take-off.
    assert float(np.median([e.latency_s for e in sa.events[2:]])) < 0.1
    assert max(e.latency_s for e in sa.events[2:]) < 0.2
    assert all(e.status == "confirmed" for e in sa.events)


@pytest.fixture(scope="module")
def pogo_rounds():
    """Three rounds of pogo hops with walking and standing between (400 Hz), fed to the
    stream in random chunks; every event as first shown, by number."""
    from imu.synth.hops import PogoSetup, pogo_session

    setup = PogoSetup(n_rounds=3, round_s=6.0, rest_between_rounds_s=12.0)
    rec, truth = pogo_session(2, fs_hz=400.0, setup=setup)
    sa = StreamAnalyzer("pogo", fs_hz=rec.fs_hz)
    first: dict[int, object] = {}
    rng = np.random.default_rng(2)
    i, n = 0, len(rec)
    while i < n:
        j = min(n, i + int(rng.integers(1, int(0.06 * rec.fs_hz))))
        for ev in sa.add(rec.t_s[i:j], rec.acc_mps2[i:j], rec.gyr_dps[i:j]):
            if ev.is_update:
                assert ev.number in first and ev.announced_at_s == first[ev.number].announced_at_s
            else:
                assert ev.number not in first
                first[ev.number] = ev
        i = j
    return rec, truth, sa, first


def test_stream_pogo_shows_each_rounds_first_contacts_at_once(pogo_rounds):
    """Every contact of the final analysis is shown soon after its take-off, a round's
    first two provisionally (a round is three in a row), confirmed by the third."""
    rec, truth, sa, first = pogo_rounds
    final = analyze_pogo(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz)
    assert len(final.rounds) == 3 and len(final.contacts) == len(truth["contacts"])
    report = match_events(sa.events, final)
    assert report.agrees(1e-3), (report.max_diff_s, report.unmatched, report.missed)
    assert not report.retracted and all(e.status == "confirmed" for e in sa.events)
    by_final = {id(m.final): m.event for m in report.matches}
    for r in range(3):
        members = [c for c in final.contacts if c.round_index == r]
        shown = [first[by_final[id(c)].number] for c in members]
        # Buffer time from the take-off to the first showing (margin + chunk + runs).
        lat = [e.latency_s for e in shown]
        if r == 0:
            # The session's first round: no fit of the mounting before a few hops.
            assert max(lat[2:]) < 0.15 and max(lat[:2]) < 1.5
            continue
        assert max(lat) < 0.15, (r, lat)
        # The first two were shown provisionally, then confirmed when the third was shown.
        third = shown[2]
        for e in shown[:2]:
            now = sa.events[e.number - 1]
            assert e.status == "provisional" and now.status == "confirmed"
            assert now.resolved_at_s == pytest.approx(third.announced_at_s)
        assert all(e.status == "confirmed" for e in shown[2:])


def test_stream_pogo_walking_and_standing_announce_nothing(pogo_rounds):
    """Between rounds (standing, walking), nothing is shown, not even provisionally."""
    rec, truth, sa, first = pogo_rounds
    segs = [s for s in truth["segments"] if s["kind"] != "round"]
    assert sum(s["end_s"] - s["start_s"] for s in segs if s["kind"] == "walking") > 8.0
    rounds = [(r["first_takeoff_s"], r["end_s"]) for r in truth["rounds"]]
    assert len(first) == len(sa.events) > 0
    for ev in first.values():
        # Each contact lies within a round (from its first take-off to its last landing).
        assert any(a - 0.01 <= ev.start_s and ev.end_s <= b + 0.01 for a, b in rounds), ev
        # and was shown at most 0.15 s after its take-off (no late "contacts" either).
    quiet = [(s["start_s"], s["end_s"]) for s in segs]
    shown_at = np.array([ev.announced_at_s for ev in first.values()])
    for a, b in quiet:
        # Nothing announced in a quiet stretch but the last contacts of the round before
        # (within 1.5 s of its end).
        late = shown_at[(shown_at > a + 1.5) & (shown_at < b)]
        assert not len(late), (a, b, late)


def test_match_events_reports_retracted_apart():
    """A contact shown provisionally and withdrawn is neither unmatched nor a match."""
    from dataclasses import replace

    from analysis.pogo import Contact, PogoResult
    from analysis.stream import LiveEvent

    def contact(t0, t1):
        return Contact(landing_s=t0, takeoff_s=t1, contact_ms=1e3 * (t1 - t0), flight_ms=None)

    final = PogoResult(
        sample_rate_hz=400.0,
        contacts=[contact(10.0, 10.2), contact(10.5, 10.7), contact(11.0, 11.2)],
        rounds=[],
        lever_arm_m=np.zeros(3),
        body_mass_kg=None,
    )

    def event(k, t0, t1, status):
        times = {"landing_s": t0, "takeoff_s": t1}
        return LiveEvent("contact", k, t0, t1, t1 + 0.05, times, status=status)

    evs = [
        event(1, 5.0, 5.2, "retracted"),  # a stumble: not in the final analysis
        event(2, 10.0, 10.2, "confirmed"),
        event(3, 10.5, 10.7, "confirmed"),
        event(4, 11.0, 11.2, "provisional"),  # the stream ended before its round did
    ]
    report = match_events(evs, final)
    assert report.agrees(1e-3) and len(report.matches) == 3
    assert [m.event.number for m in report.retracted] == [1] and not report.wrongly_retracted
    # A contact of the final analysis withdrawn live: missed, and wrongly retracted.
    evs[2] = replace(evs[2], status="retracted", resolved_at_s=12.0)
    report = match_events(evs, final)
    assert not report.agrees(1e-3) and report.missed == (final.contacts[1],)
    assert [e.number for e in report.wrongly_retracted] == [3]


def test_views_tell_provisional_and_withdrawn_contacts():
    import io
    from dataclasses import replace
    from types import SimpleNamespace

    from analysis.stream import LiveEvent
    from cli.live import PlainView, RecordConfig, describe_event

    times = {"landing_s": 1.0, "takeoff_s": 1.2}
    ev = LiveEvent("contact", 1, 1.0, 1.2, 1.25, times, contact_ms=200.0, status="provisional")
    assert "round starting?" in describe_event(ev, None)
    done = replace(ev, status="retracted", resolved_at_s=2.5)
    assert describe_event(done, None) == (
        "contact 1 withdrawn: no round (fewer than 3 hops in a row)"
    )
    ok = replace(ev, status="confirmed", resolved_at_s=2.0, contact_ms=203.4)
    assert describe_event(ok, None) == "contact 1 confirmed: 203 ms, round under way"
    out = io.StringIO()
    view = PlainView(RecordConfig(exercise="pogo"), out)
    s = SimpleNamespace(side="left")
    for e in (ev, done):
        view.event(s, e)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[left] contact 1: 200 ms") and "withdrawn" in lines[1]


@pytest.mark.parametrize(
    "seed, kind, rounds, fs_hz",
    [
        (2, "easy-bounce", 1, 1000.0),
        (6, "forward-back", 2, 1000.0),
        (6, "forward-back", 3, 1000.0),
        (7, "easy-bounce", 1, 400.0),
        (4, "ten-five", 1, 400.0),
        (4, "ten-five", 1, 1000.0),
    ],
)
def test_stream_pogo_round_start_shows_no_contact_from_a_wrong_fit(seed, kind, rounds, fs_hz):
    """At a session's first hops, runs fit the lever arm from a few impacts; two of them
    agreeing on a wrong fit took a contact and its flight for one contact (or a flight for
    a contact), and those were shown as confirmed contacts, 140-320 ms off, with the
    contacts between them never shown. A flight that held a contact does not fall (its
    vertical specific force, with up read at both ends of the contact before it, is
    about 1 g, not g/2), so such a run finds no round and is not trusted; nor is a run
    whose lever arm is beyond a shoe's reach of the ball (0.30 m in the third case).
    In the fourth, two runs agreed on a fit 7 cm off, from the first 6 contacts; window
    runs with it later ran a contact on over its 100 ms flight (295 ms instead of 201 ms)
    and lost the next one: a contact time 15 % off the recent ones is now checked
    by a reference run (with 10 more contacts to fit from) before it is shown.
    In the last two, the early fit of the first contacts (shown before any fit is
    trusted) and the run's own fit agreed on a flight taken for a contact, landing at
    the take-off burst; the sensor's mean specific force over that "contact" reads
    0.3-0.5 g (nothing held the body up: a contact reads over 1.2 g), so nothing is
    shown from it, and the real contacts are not hidden.
    Every contact shown is the final analysis' to within 10 ms, and none is left out."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    setup = random_pogo_setup(np.random.default_rng(seed))
    assert setup.kind == kind
    setup.n_rounds = rounds
    rec, _ = pogo_session(seed, fs_hz=fs_hz, setup=setup)
    _, final, report = replay_until(rec, 16.0, seed)  # the first round's first seconds
    assert len(final.contacts) >= 10
    assert report.max_diff_s < 0.01 and not report.unmatched and not report.retracted
    # Every final contact shown but the last (its take-off may be too near the end).
    assert len(report.missed) <= 1


@pytest.mark.parametrize(
    "seed, fs_hz",
    [
        (1, 400.0),
        (6, 400.0),
        (7, 200.0),
        (106, 1000.0),
        (5, 1000.0),
        (8, 100.0),
        (35, 100.0),
        (29, 100.0),
        (3, 100.0),
    ],
)
def test_stream_pogo_session_first_contacts_shown_at_once(seed, fs_hz):
    """A session's first contacts come before any fit of the mounting is trusted (three
    contacts and two runs agreeing: 0.4-1.1 s after their take-offs here); an early fit
    over the planted stretches of the contacts so far shows them within 150 ms of their
    take-off, provisionally, and a reference run confirms them with its times.
    At seed 106 the push from standing, and the start of its flight (the ball caught up
    to the body: 1.8 g, as much as a contact), were shown as contact 1, and later
    withdrawn: its "landing", the take-off, does not come down. At seed 5 the early fit
    took those flights' starts for planted stretches and came out zero: the first
    contact waited 0.69 s. At seeds 8 and 35 (100 Hz) the first contact's planted
    stretch, 4 samples, was too little for windows with a gravity each (the fit needs
    three): the early fit came out zero and the first contact waited for the second
    (1.27 s, 1.24 s). Gravity's direction from the standing before, and ``r`` in the
    plane across the foot's turning axis, fit it from those 4 samples (to 1-2 cm across
    the axis). At seed 29 (100 Hz, heel) a soft first landing's impact (2.2 g) came
    70 ms before the push-off's hump (2.9 g), and the early fit's candidates, peaks a
    shortest contact apart, were the hump's: the early fit came out zero and the first
    three contacts waited 0.85, 0.57 and 0.28 s. The hump, which the sensor did not come
    down into, is now dropped before that choice. At seed 3 (100 Hz, heel) the heel
    coming down 50 ms after the landing (3.6 g) ended the landing's planted stretch after
    4 samples, and was no candidate of its own (a higher peak within 80 ms): the early
    fit came out 1 g off and the first contact waited 0.55 s. It now starts the planted
    stretch after it."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    setup = random_pogo_setup(np.random.default_rng(seed))
    setup.n_rounds = 1
    rec, truth = pogo_session(seed, fs_hz=fs_hz, setup=setup)
    n = int(np.searchsorted(rec.t_s, truth["rounds"][0]["start_s"] + 6.0))
    part = Recording(rec.t_s[:n], rec.acc_mps2[:n], rec.gyr_dps[:n], fs_hz=rec.fs_hz)
    sa = StreamAnalyzer("pogo", fs_hz=part.fs_hz)
    first: dict[int, object] = {}
    rng = np.random.default_rng(seed)
    i, hi = 0, int(0.06 * part.fs_hz)
    while i < n:
        j = min(n, i + int(rng.integers(1, hi)))
        for ev in sa.add(part.t_s[i:j], part.acc_mps2[i:j], part.gyr_dps[i:j]):
            first.setdefault(ev.number, ev)
        i = j
    final = sa.finish()
    report = match_events(sa.events, final)
    assert report.max_diff_s < 0.01 and not report.unmatched and not report.retracted
    by_final = {id(m.final): m.event for m in report.matches}
    shown = [first[by_final[id(c)].number] for c in final.contacts[:3]]
    latency_ms = [1000.0 * e.latency_s for e in shown]
    assert max(latency_ms) < 150.0, latency_ms
    # As first shown, each within 10 ms of the final analysis, or 1.5 samples at 100 Hz
    # (the early fit's landing edge may fall up to a sample from the final fit's: seed 3,
    # 10.7 ms).
    tol_s = max(0.01, 1.5 / fs_hz)
    for e, c in zip(shown, final.contacts[:3], strict=True):
        assert abs(e.start_s - c.landing_s) < tol_s and abs(e.end_s - c.takeoff_s) < tol_s
    assert all(e.status == "confirmed" for e in sa.events[:3])


def test_stream_pogo_window_runs_do_not_confirm_their_own_fit():
    """Two window runs a few samples apart fit the same impacts: their agreeing is not a
    second opinion. Seed 104 at 100 Hz (ten-five hops, 5-6 contacts per 4 s window): a
    reference run's candidate fit, "confirmed" by the next window run, left window runs
    fitting on their own; pairs of consecutive windows then moved the reference to fits
    15-30 cm from the reference runs', and a take-off was shown 47 ms early (118.365 s,
    final 118.412 s). A candidate is now confirmed only by a run that saw contacts its
    proposer did not (a reference run, as a rule), and a reference run's fit that a run
    agrees with is the one window runs use."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    seed = 104
    setup = random_pogo_setup(np.random.default_rng(seed))
    rec, _ = pogo_session(seed, fs_hz=100.0, setup=setup)
    _, final, report = replay_until(rec, 125.0, seed)  # the first two rounds
    assert len(final.contacts) == 20
    assert report.max_diff_s < 0.01, report.max_diff_s
    assert not report.unmatched and not report.retracted and not report.missed


@pytest.mark.parametrize("seed, until_s", [(115, 12.0), (73, 14.0), (84, 187.0)])
def test_stream_pogo_same_contacts_again_confirm_no_fit(seed, until_s):
    """A run that finds exactly the contacts of the run that proposed a candidate fit
    fitted the same impacts again, whatever its span: its agreeing is no evidence. At a
    session's first round (seeds 115 and 73 at 100 Hz) a window's fit of the first three
    contacts (one of them the take-off from standing; or each take-off 50 ms early) was
    "confirmed" 40-50 ms later by a window or reference run on the same three, and a
    contact shown 107 ms (9.62 s, final 9.73 s) or 48 ms (11.71 s, final 11.76 s) early.
    And a window run that fitted its own (a candidate pending from the rest before) and
    agreed with the reference on the lever arm, but not on the planted offset (0.3 g
    off), showed the third round's push from standing as a contact (seed 84, 184.55 s):
    its contacts are now found with the reference fit it agreed with. Every contact
    shown is the final analysis' to within 10 ms."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    rec, _ = pogo_session(seed, fs_hz=100.0, setup=random_pogo_setup(np.random.default_rng(seed)))
    _, final, report = replay_until(rec, until_s, seed)
    assert report.max_diff_s < 0.01, report.max_diff_s
    assert not report.unmatched and not report.retracted
    assert len(report.missed) <= 1  # (the last take-off may be too near the end)


@pytest.mark.parametrize("seed, fs_hz", [(105, 200.0), (5, 100.0), (112, 400.0)])
def test_stream_pogo_next_round_shown_at_once_after_steps_between(seed, fs_hz):
    """Between rounds the athlete rests, shifts weight and walks. A reference run over
    the first round's end and those steps fitted an arm 12 cm from the reference but
    found the round's contacts just as shown; as a candidate it kept window runs from
    the reference fit until a run confirmed one or the other, which needs a round, and
    the next round's first two contacts waited for its third (held-out seed 105: 1.08
    and 0.57 s at 200 Hz). A fit that changes nothing shown is no candidate. One that
    does (seeds 5 and 112: 1.87 and 0.98 s) leaves the round's first contacts to the
    early fit, as at a session's start: the athlete stood before the round. They are
    shown within 150 ms of their take-off, as the final analysis has them."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    setup = random_pogo_setup(np.random.default_rng(seed))
    rec, truth = pogo_session(seed, fs_hz=fs_hz, setup=setup)
    start = truth["rounds"][1]["start_s"]
    _, _, report = replay_until(rec, start + 6.0, seed)
    assert report.max_diff_s < 0.01 and not report.unmatched and not report.retracted
    second = [m for m in report.matches if m.final is not None and m.final.landing_s > start - 1]
    assert len(second) >= 8
    latency_ms = [1000.0 * (m.event.announced_at_s - m.final.takeoff_s) for m in second[:2]]
    assert max(latency_ms) < 150.0, latency_ms


def test_stream_pogo_round_shown_at_once_when_the_window_fits_find_nothing():
    """Two window runs agreeing on a session's first round set the reference, which
    brings no reference run's fit; window runs then fit their own from a few impacts
    (seed 2 at 400 Hz, an easy bounce: 7-9 cm from the ball where the final analysis
    has 13 cm), and found no contact in the round, nor did a reference run over the
    first 5 s; the early fit (12 cm) was held back by an own fit near it that found
    nothing, and past 3 s from the standing before the round, by the landing speed it
    could not read. The round's 4th, 7th, 9th and 11th contacts waited 245-266 ms after
    their take-offs. Now the early fit serves while window runs have no fit to use, an
    own fit that misses the round's contacts shown in its window has no say, and a
    landing a flight after the round's last take-off ended a fall. Every contact is shown within 150 ms of its take-off,
    as the final analysis has it (within 10 ms)."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    seed = 2
    rec, _ = pogo_session(seed, fs_hz=400.0, setup=random_pogo_setup(np.random.default_rng(seed)))
    _, final, report = replay_until(rec, 8.0, seed)  # the first round's first 12 contacts
    assert report.max_diff_s < 0.01 and not report.unmatched and not report.retracted
    shown = [m for m in report.matches if m.final is not None]
    assert len(shown) >= 12 and len(report.missed) <= 1
    latency_ms = [1000.0 * (m.event.announced_at_s - m.final.takeoff_s) for m in shown]
    assert max(latency_ms) < 150.0, latency_ms


def test_stream_pogo_a_longer_contact_is_checked_without_waiting():
    """A window run with the reference run's fit that finds a contact 15 % longer than
    the recent ones has it checked before it is shown. A reference run did that, and
    had to wait 0.5 s after the last one (seed 7 at 400 Hz: 308 ms after the take-off at
    64.31 s); the window's own fit finding the same edges is now enough, as the final
    analysis has them."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    seed = 7
    setup = random_pogo_setup(np.random.default_rng(seed))
    rec, _ = pogo_session(seed, fs_hz=400.0, setup=setup)
    _, _, report = replay_until(rec, 66.0, seed)
    assert report.max_diff_s < 0.01 and not report.unmatched and not report.retracted
    (m,) = [m for m in report.matches if m.final is not None and 64.2 < m.final.takeoff_s < 64.4]
    assert 1000.0 * (m.event.announced_at_s - m.final.takeoff_s) < 150.0


@pytest.mark.parametrize(
    ("seed", "until_s", "late_takeoff_s"), [(0, 96.0, 95.115), (2, 68.5, 67.803)]
)
def test_stream_pogo_contact_shown_once_its_take_off_is_complete(seed, until_s, late_takeoff_s):
    """Once the sensor's mounting is fitted, a contact is shown as soon as the ball has
    left the ground and the 40 ms the batch analysis looks past the take-off are in: 12 ms
    packets at 1 kHz, runs every 30 ms as a fallback, so within 90 ms on the sensor's
    clock. Two that were not: a contact 45 ms shorter than the one before waited for the
    runs due at the last contact time (104 ms, seed 0); an impact in the flight before
    a landing was taken for a missed landing and held the contact for a reference run
    (140 ms, seed 2)."""
    from imu.synth.hops import pogo_session

    rec, _ = pogo_session(seed, fs_hz=1000.0)
    n = int(np.searchsorted(rec.t_s, until_s))
    sa = StreamAnalyzer("pogo", fs_hz=rec.fs_hz)
    for i in range(0, n, 12):
        sa.add(
            rec.t_s[i : min(n, i + 12)],
            rec.acc_mps2[i : min(n, i + 12)],
            rec.gyr_dps[i : min(n, i + 12)],
        )
    report = match_events(sa.events, sa.finish())
    assert not report.unmatched and not report.missed and not report.retracted
    latency_ms = {
        round(m.final.takeoff_s, 3): 1000.0 * (m.event.announced_at_s - m.final.takeoff_s)
        for m in report.matches[3:]
        if m.final is not None
    }
    assert late_takeoff_s in latency_ms
    assert max(latency_ms.values()) < 90.0, max(latency_ms.items(), key=lambda kv: kv[1])


def test_stream_pogo_landing_unseen_by_the_cheap_test_still_gets_its_runs():
    """At 100 Hz a landing's samples at the sensor can all stay under the 2 g the cheap
    impact test looks for, though the batch analysis finds the landing by the ball's
    force (seed 39 at 23.16 s). Nothing made a run due, and the contact waited 409 ms
    for the next landing's runs. Runs now come where the contact would be complete."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    seed = 39
    rec, _ = pogo_session(seed, fs_hz=100.0, setup=random_pogo_setup(np.random.default_rng(seed)))
    _, _, report = replay_until(rec, 25.0, seed)
    assert report.max_diff_s < 0.01 and not report.unmatched and not report.retracted
    (m,) = [m for m in report.matches if m.final is not None and 23.3 < m.final.takeoff_s < 23.4]
    assert 1000.0 * (m.event.announced_at_s - m.final.takeoff_s) < 150.0


@pytest.mark.parametrize(("seed", "until_s"), [(66, 30.0), (9, 135.0)])
def test_stream_pogo_landings_the_sensor_barely_feels_are_found_by_the_balls_force(seed, until_s):
    """At 100 Hz with the sensor 17.6 cm from the ball (seed 66), every other landing's
    samples stay under 2 g at the sensor, where the ball's force (the batch analysis'
    other landing test) does not; the cheap test took take-off bursts for landings, and
    10 contacts came 190-240 ms after their take-off. Once the mounting is fitted the
    stream also reads the ball's force for landings: an impact the ball stood planted
    after. A take-off's burst is over 2 g at the ball too (seed 9, 80 ms long): taken
    for a landing, it hid the landing after it, a contact shown 511 ms late."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    rec, _ = pogo_session(seed, fs_hz=100.0, setup=random_pogo_setup(np.random.default_rng(seed)))
    _, _, report = replay_until(rec, until_s, seed)
    assert report.max_diff_s < 0.01 and not report.unmatched and not report.retracted
    latency_ms = [
        1000.0 * (m.event.announced_at_s - m.final.takeoff_s)
        for m in report.matches[3:]
        if m.final is not None
    ]
    assert len(latency_ms) > 60 and max(latency_ms) < 150.0, max(latency_ms)


def test_stream_pogo_takeoff_shown_only_once_the_ball_has_risen():
    """A take-off is the ball leaving the ground: the batch analysis looks 40 ms past it
    for the ball's rise. Announced 20 ms after it (2 samples at 100 Hz), a dip of the
    ball's force in mid-contact at the end of a run's data passed for one: a 300 ms
    contact of a 10/5 round was shown as 98 ms (seed 111 at 100 Hz, 132.47 s). Pogo
    take-offs are now announced 40 ms after them, as the final analysis has them."""
    from imu.synth.hops import pogo_session, random_pogo_setup

    seed = 111
    rec, _ = pogo_session(seed, fs_hz=100.0, setup=random_pogo_setup(np.random.default_rng(seed)))
    _, _, report = replay_until(rec, 134.0, seed)
    (m,) = [m for m in report.matches if m.final is not None and 132.4 < m.final.landing_s < 132.5]
    assert m.max_diff_s < 0.01, m.max_diff_s
    assert not report.unmatched and not report.retracted


def test_pogo_with_a_given_lever_arm_finds_the_fitted_contacts():
    """Window runs take the reference run's fit instead of fitting: given the fit of a
    longer span, a 4 s window finds the contacts that fitting it finds, to 1 ms."""
    from analysis.pogo import PogoAnalyzer
    from imu.synth.hops import PogoSetup, pogo_session

    setup = PogoSetup(n_rounds=1, round_s=12.0, walk_between_rounds=False)
    rec, _ = pogo_session(5, fs_hz=500.0, setup=setup)
    ref = PogoAnalyzer()
    fit = ref.analyze(rec.t_s, rec.acc_mps2, rec.gyr_dps, fs_hz=rec.fs_hz)
    lo, hi = np.searchsorted(
        rec.t_s, [fit.contacts[5].landing_s - 1.0, fit.contacts[5].landing_s + 3.0]
    )
    window = (rec.t_s[lo:hi], rec.acc_mps2[lo:hi], rec.gyr_dps[lo:hi])
    own = PogoAnalyzer().analyze(*window, fs_hz=rec.fs_hz)
    given = PogoAnalyzer().analyze(
        *window,
        fs_hz=rec.fs_hz,
        lever_arm_m=fit.lever_arm_m,
        planted_offset_mps2=ref.planted_offset_mps2_,
        rate_delay_s=fit.rate_delay_ms / 1000.0,
    )
    assert np.array_equal(given.lever_arm_m, fit.lever_arm_m)
    assert len(own.contacts) >= 5 and len(given.contacts) == len(own.contacts)
    for a, b in zip(given.contacts, own.contacts, strict=True):
        assert abs(a.landing_s - b.landing_s) < 1e-3 and abs(a.takeoff_s - b.takeoff_s) < 1e-3


def test_stream_rejects_bad_input():
    sa = StreamAnalyzer("heel-raise", fs_hz=100.0)
    rng = np.random.default_rng(0)
    sa.add(np.arange(3) / 100, rng.normal(0, 1, (3, 3)) + [0, 0, 9.8], rng.normal(0, 1, (3, 3)))
    with pytest.raises(ValueError, match="increase"):
        sa.add(np.array([0.01]), np.ones((1, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError):
        StreamAnalyzer("pogo", fs_hz=400.0, tempo=TEMPO)
    with pytest.raises(ValueError):
        StreamAnalyzer("walk", fs_hz=400.0)


# ---------------------------------------------------------------------------------------------
# End to end through the emulated sensor (in process, on a virtual clock)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu():
    pytest.importorskip("bumble")
    import imu.emulator as emu

    return emu


@pytest.fixture(scope="module")
def heel_set():
    return one_set(5, 1000.0, reps=6)


def record_from_emulator(emu, source: Recording, out: Path, faults=None, **cfg_kw):
    """``record`` (the function behind ``ankle record``) against a virtual sensor."""
    from bumble.link import LocalLink

    from cli.live import RecordConfig, record

    cfg = RecordConfig(
        exercise="heel-raise",
        tempo=TEMPO,
        side="left",
        out=out,
        rate_hz=int(source.fs_hz),
        duration_s=source.duration_s - 0.5,
        threaded=False,  # on the virtual clock, a worker thread's time would not count
        **cfg_kw,
    )

    async def main():
        link = LocalLink()
        sensor = emu.VirtualSensor(link, source, side="left", faults=faults, loop_source=False)
        await sensor.start()
        try:
            return await record(cfg, backend=emu.emulator_backend(link))
        finally:
            await sensor.close()
            await emu.close_hosts()

    return emu.run_in_virtual_time(main()), cfg


@pytest.fixture(scope="module")
def clean_run(emu, heel_set, tmp_path_factory):
    rec, truth = heel_set
    out = tmp_path_factory.mktemp("clean") / "set.csv"
    result, cfg = record_from_emulator(emu, rec, out)
    return result, cfg, truth


def test_record_end_to_end_live_equals_offline(clean_run):
    from cli.live import report_text

    result, cfg, truth = clean_run
    sr = result.sensors["left"]
    assert sr.csv_path.exists() and sr.rawlog_path.exists()
    saved = read_recording(sr.csv_path)
    assert saved.side == "left" and saved.fs_hz == 1000.0
    assert saved.meta["exercise"] == "heel-raise" and saved.meta["tempo"] == "2-1-3-0"
    assert saved.meta["sensor"].startswith("ANKL-L") and saved.meta["packets_lost"] == "0"
    assert sr.summary.packets_lost == 0 and len(saved) == sr.samples_live
    # The offline analysis of the saved file, as `ankle analyze` runs it ...
    offline = analyze_heel_raises(
        saved.t_s, saved.acc_mps2, saved.gyr_dps, fs_hz=saved.fs_hz, tempo=TEMPO
    )
    assert len(offline.reps) == len(truth["reps"]) == 6
    # ... is the live final result, exactly, and every rep was announced, within 1 ms.
    assert sr.live_equals_offline is True
    assert np.array_equal(rep_times(sr.live_final), rep_times(offline))
    assert len(sr.events) == 6 and sr.match.agrees(1e-3)
    for ev, rep in zip(sr.events, offline.reps, strict=True):
        for k in HR_TIMES:
            assert abs(ev.times_s[k] - getattr(rep, k)) <= 1e-3
    # Shown within 150 ms of the rep's end (sensor clock mapped to the host's).
    assert len(sr.latency_s) == 6 and max(sr.latency_s) < 0.15
    text = report_text(result, cfg)
    assert "6 reps in 1 set" in text and "every one announced within" in text


def test_record_survives_a_dropped_link(emu, heel_set, clean_run, tmp_path):
    """The sensor drops the link mid-set and returns 0.7 s later: the recorder reconnects,
    the gap is marked, nothing is lost (the sensor's ring buffer), every rep is there."""
    rec, _ = heel_set
    faults = emu.Faults(disconnect_after_s=15.0, readvertise_after_s=0.7)
    result, _ = record_from_emulator(emu, rec, tmp_path / "drop.csv", faults)
    sr = result.sensors["left"]
    assert [e.kind for e in sr.link_events] == ["connect", "disconnect", "reconnect"]
    saved = read_recording(sr.csv_path)
    assert saved.meta["link_drops"] == "1"
    a, b = (float(x) for x in saved.meta["link_gaps_s"].split("-"))
    assert 14.5 < a < 15.5 and 0.6 < b - a < 2.0
    assert sr.summary.disconnects == 1 and sr.summary.packets_lost <= 2
    clean = clean_run[0].sensors["left"].offline
    assert len(sr.offline.reps) == len(clean.reps) == 6
    assert np.allclose(rep_times(sr.offline), rep_times(clean), atol=1e-3)
    assert sr.live_equals_offline is True and sr.match.agrees(1e-3)


def test_long_outage_loses_only_reps_in_the_gap(emu, heel_set, clean_run, tmp_path):
    """Away for 6 s, longer than the sensor's 4 s ring buffer: samples are lost, the gap
    is in the file, and every rep outside it is still found and was announced."""
    rec, _ = heel_set
    faults = emu.Faults(disconnect_after_s=15.0, readvertise_after_s=6.0)
    result, _ = record_from_emulator(emu, rec, tmp_path / "long.csv", faults)
    sr = result.sensors["left"]
    (gap,) = sr.summary.gaps
    assert gap.duration_s > 1.0 and sr.summary.packets_lost > 0
    saved = read_recording(sr.csv_path)
    assert saved.meta["gaps"] == "1" and saved.meta["link_drops"] == "1"
    clean = clean_run[0].sensors["left"].offline
    outside = [r for r in clean.reps if r.end_s < gap.after_t_s or r.start_s > gap.before_t_s]
    assert len(outside) >= 4
    # (Within 10 ms, not 1: across a long gap the pitch is re-anchored on the tilt, which
    # moves the boundaries of the reps after it by a few ms.)
    for r in outside:
        assert any(
            abs(x.start_s - r.start_s) < 0.01 and abs(x.end_s - r.end_s) < 0.01
            for x in sr.offline.reps
        )
        assert any(abs(e.end_s - r.end_s) < 0.01 for e in sr.events)
    assert sr.live_equals_offline is True and sr.match.agrees(1e-3)


# ---------------------------------------------------------------------------------------------
# Recovery
# ---------------------------------------------------------------------------------------------


def test_recover_truncated_rawlog(clean_run, tmp_path):
    from cli.main import main

    sr = clean_run[0].sensors["left"]
    raw = tmp_path / "cut.rawlog"
    data = sr.rawlog_path.read_bytes()
    raw.write_bytes(data[: len(data) // 2 + 7])  # killed mid-record
    out = tmp_path / "cut.csv"
    assert main(["recover", str(raw), "--out", str(out)]) == 0
    rec = read_recording(out)
    assert rec.side == "left" and 15_000 < len(rec) < len(sr.recording)
    # The samples are those of the full recording, up to where the log was cut.
    n = len(rec)
    assert np.array_equal(rec.t_s, sr.recording.t_s[:n])
    assert np.array_equal(rec.acc_mps2, sr.recording.acc_mps2[:n])
    assert main(["recover", str(raw), "--out", str(out)]) == 2  # exists: no overwrite


def test_recover_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.rawlog"
    bad.write_text("hello\n")
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "recover", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "not an ankle-imu-rawlog/1 file" in out.stderr


# ---------------------------------------------------------------------------------------------
# The commands, in other processes
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator_process(emu, tmp_path_factory):
    """`python -m imu.emulator --port 0` replaying a heel-raise set at 4x real time."""
    csv = tmp_path_factory.mktemp("emu") / "replay.csv"
    rec, _ = one_set(5, 400.0, reps=6)
    write_recording(csv, rec)
    proc = spawn(
        ["-m", "imu.emulator", "--port", "0", "--replay", str(csv), "--side", "left"]
        + ["--speed", "4", "--report-every", "0"]
    )
    try:
        yield wait_line(proc, "listening on ").split()[-1]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_ankle_record_subprocess_against_emulator_process(emulator_process, tmp_path):
    out = tmp_path / "rec.csv"
    scan = subprocess.run(
        [sys.executable, "-m", "cli.main", "scan", "--timeout", "0.5"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "ANKLE_BLE_EMULATOR": emulator_process},
        timeout=30,
    )
    assert scan.returncode == 0, scan.stderr
    assert "ANKL-L" in scan.stdout and "left" in scan.stdout
    args = ["-m", "cli.main", "record", "--exercise", "heel-raise", "--tempo", "2-1-3-0"]
    args += ["--emulator", emulator_process, "--rate-hz", "400", "--duration", "3"]
    args += ["--no-live", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    rec = read_recording(out)
    assert rec.fs_hz == 400.0 and rec.side == "left"
    assert 11.0 < rec.duration_s < 14.0  # 3 s at 4x real time
    assert rec.meta["packets_lost"] == "0"
    assert f"saved left: {out}" in proc.stdout and "Heel raises in" in proc.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_saves_everything_without_traceback(emulator_process, tmp_path):
    out = tmp_path / "ctrlc.csv"
    args = ["-m", "cli.main", "record", "--emulator", emulator_process, "--rate-hz", "400"]
    args += ["--tempo", "2-1-3-0", "--out", str(out)]
    proc = spawn(args)
    try:
        wait_line(proc, "recording heel-raise")
        time.sleep(2.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    rec = read_recording(out)
    from imu.rawlog import read_rawlog

    packets, _ = read_rawlog(out.with_suffix(".rawlog")).data()
    from imu import protocol as P

    assert len(rec) == int(P.decode_packets(packets).count.sum())  # everything received
    assert rec.duration_s > 8.0  # 2.5 s at 4x
    assert "live left:" in stdout


def test_record_errors_are_one_line(tmp_path):
    def ankle(*args):
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=30,
        )

    bad = ankle("record", "--tempo", "2-x-3-0", "--emulator", "tcp:127.0.0.1:9")
    assert bad.returncode == 2 and bad.stderr.startswith("ankle: --tempo")
    assert bad.stderr.count("\n") == 1
    rate = ankle("record", "--exercise", "pogo", "--rate-hz", "50", "--emulator", "tcp:127.0.0.1:9")
    assert rate.returncode == 2 and "--rate-hz 50" in rate.stderr
    nobody = ankle(
        "record", "--emulator", "tcp:127.0.0.1:9", "--duration", "1", "--out", str(tmp_path)
    )
    assert nobody.returncode == 2 and nobody.stderr.count("\n") == 1, nobody.stderr
    assert "Traceback" not in nobody.stderr
